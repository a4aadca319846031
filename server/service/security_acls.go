package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/internal/aclcheck"
)

// Operations the security pages ask a cluster to do (the "op" of a kafka.* error).
const (
	opDescribeACLs  kafkaOp = "describe_acls"
	opCreateACLs    kafkaOp = "create_acls"
	opDeleteACLs    kafkaOp = "delete_acls"
	opDescribeSCRAM kafkaOp = "describe_scram"
	opAlterSCRAM    kafkaOp = "alter_scram"
	opDescribeQuota kafkaOp = "describe_quotas"
	opAlterQuota    kafkaOp = "alter_quotas"
)

func init() {
	kafkaOpText[opDescribeACLs] = "list the ACLs of %s"
	kafkaOpText[opCreateACLs] = "create ACLs on %s"
	kafkaOpText[opDeleteACLs] = "delete the ACL %s"
	kafkaOpText[opDescribeSCRAM] = "list the SCRAM users of %s"
	kafkaOpText[opAlterSCRAM] = "change the SCRAM credentials of %s"
	kafkaOpText[opDescribeQuota] = "list the client quotas of %s"
	kafkaOpText[opAlterQuota] = "change the client quotas of %s"
}

// securityError is kafkaError, except that a cluster without an authorizer (SECURITY_DISABLED) is
// said so plainly: a 409 security_disabled, not a Kafka failure.
func securityError(op kafkaOp, target string, err error) error {
	if errors.Is(err, kerr.SecurityDisabled) {
		return (&UserError{Status: http.StatusConflict, Code: "security_disabled", Cause: err,
			Message: "this cluster has no authorizer configured (Kafka error SECURITY_DISABLED): set authorizer.class.name on its brokers to manage ACLs"}).with("op", string(op), "target", target)
	}
	return kafkaError(op, target, err)
}

// invalid turns aclcheck's refusal into a 400 with its code and field.
func invalid(p *aclcheck.Problem) error {
	return (&UserError{Status: http.StatusBadRequest, Code: p.Code, Message: p.Message}).with("field", p.Field)
}

// ACLBinding is one ACL as the API shows and takes it, by Kafka's enum names.
type ACLBinding struct {
	Principal    string `json:"principal" required:"true" description:"Type:name, e.g. User:alice; User:* is every user"`
	Host         string `json:"host" required:"true" description:"The client address the ACL applies to; * for any host"`
	Operation    string `json:"operation" required:"true" enum:"ALL,READ,WRITE,CREATE,DELETE,ALTER,DESCRIBE,CLUSTER_ACTION,DESCRIBE_CONFIGS,ALTER_CONFIGS,IDEMPOTENT_WRITE,CREATE_TOKENS,DESCRIBE_TOKENS"`
	Permission   string `json:"permission" required:"true" enum:"ALLOW,DENY"`
	ResourceType string `json:"resourceType" required:"true" enum:"TOPIC,GROUP,CLUSTER,TRANSACTIONAL_ID,DELEGATION_TOKEN,USER"`
	ResourceName string `json:"resourceName" required:"true" description:"The resource's name, * for every resource of the type (LITERAL), or a prefix (PREFIXED); kafka-cluster for CLUSTER"`
	PatternType  string `json:"patternType" required:"true" enum:"LITERAL,PREFIXED"`
}

func (b ACLBinding) binding() aclcheck.Binding { return aclcheck.Binding(b) }

// ACLFilter selects ACLs in a listing; empty fields match any.
type ACLFilter struct {
	Principal    string
	ResourceType string
	ResourceName string
	PatternType  string
}

// ACLList is the answer of GET /acls.
type ACLList struct {
	// SecurityDisabled: the cluster has no authorizer (it answered SECURITY_DISABLED); ACLs is empty.
	SecurityDisabled bool         `json:"securityDisabled"`
	ACLs             []ACLBinding `json:"acls"`
	// Total counts the cluster's ACLs before the filter.
	Total int `json:"total"`
}

// ACLs lists the cluster's ACL bindings that pass the filter.
func (s *Service) ACLs(ctx context.Context, cluster string, f ACLFilter) (ACLList, error) {
	c, err := s.get(cluster)
	if err != nil {
		return ACLList{}, err
	}
	all, err := c.client.DescribeACLs(ctx)
	if errors.Is(err, kerr.SecurityDisabled) {
		return ACLList{SecurityDisabled: true, ACLs: []ACLBinding{}}, nil
	}
	if err != nil {
		return ACLList{}, kafkaError(opDescribeACLs, "cluster "+cluster, err)
	}
	filter := aclcheck.Filter(f)
	out := ACLList{ACLs: []ACLBinding{}, Total: len(all)}
	for _, b := range all {
		if filter.Match(b) {
			out.ACLs = append(out.ACLs, ACLBinding(b))
		}
	}
	return out, nil
}

// maxACLBatch bounds the bindings one create request may carry.
const maxACLBatch = 50

// CreateACLsRequest is the body of POST /acls.
type CreateACLsRequest struct {
	Bindings []ACLBinding `json:"bindings" required:"true" minItems:"1" maxItems:"50"`
}

// CreateACLsResult says how many bindings were created.
type CreateACLsResult struct {
	Created int `json:"created"`
}

// CreateACLs validates every binding (nothing is sent when one is refused) and creates them in one
// CreateAcls request. Audited as acl.create with the bindings.
func (s *Service) CreateACLs(ctx context.Context, who Caller, cluster string, req CreateACLsRequest) (CreateACLsResult, error) {
	c, err := s.get(cluster)
	if err != nil {
		return CreateACLsResult{}, err
	}
	if len(req.Bindings) == 0 || len(req.Bindings) > maxACLBatch {
		return CreateACLsResult{}, (&UserError{Status: http.StatusBadRequest, Code: "acl_batch_size",
			Message: fmt.Sprintf("give between 1 and %d ACL bindings", maxACLBatch)}).with("max", maxACLBatch)
	}
	bindings := make([]aclcheck.Binding, len(req.Bindings))
	for i, b := range req.Bindings {
		if p := b.binding().Validate(); p != nil {
			return CreateACLsResult{}, invalid(p)
		}
		bindings[i] = b.binding()
	}
	target := bindings[0].String()
	if len(bindings) > 1 {
		target = fmt.Sprintf("%d ACLs", len(bindings))
	}
	var out CreateACLsResult
	err = s.Audited(ctx, who, "acl.create", cluster, target, map[string]any{"bindings": req.Bindings}, func() error {
		errs, err := c.client.CreateACLs(ctx, bindings)
		if err != nil {
			return securityError(opCreateACLs, "cluster "+cluster, err)
		}
		for i, e := range errs {
			if e != nil {
				return securityError(opCreateACLs, bindings[i].String(), e)
			}
			out.Created++
		}
		return nil
	})
	return out, err
}

// DeleteACLResult says how many bindings the exact filter deleted (0 or 1).
type DeleteACLResult struct {
	Deleted int `json:"deleted"`
}

// DeleteACL deletes exactly the binding given; a binding the cluster does not have is 404
// acl_not_found. Audited as acl.delete.
func (s *Service) DeleteACL(ctx context.Context, who Caller, cluster string, b ACLBinding) (DeleteACLResult, error) {
	c, err := s.get(cluster)
	if err != nil {
		return DeleteACLResult{}, err
	}
	if p := b.binding().Validate(); p != nil {
		return DeleteACLResult{}, invalid(p)
	}
	target := b.binding().String()
	var out DeleteACLResult
	err = s.Audited(ctx, who, "acl.delete", cluster, target, b, func() error {
		n, err := c.client.DeleteACLs(ctx, []aclcheck.Binding{b.binding()})
		if err != nil {
			return securityError(opDeleteACLs, target, err)
		}
		if out.Deleted = n[0]; out.Deleted == 0 {
			return &UserError{Status: http.StatusNotFound, Code: "acl_not_found", Message: "the cluster has no such ACL: " + target}
		}
		return nil
	})
	return out, err
}

// AuthorizerSettings are the broker settings the check used, and where they came from.
type AuthorizerSettings struct {
	// Read: the settings were read from a broker's configuration (DescribeConfigs); otherwise Kafka's
	// defaults are assumed (no super users, allow.everyone.if.no.acl.found=false).
	Read                 bool     `json:"read"`
	Broker               int32    `json:"broker"`
	AuthorizerClassName  string   `json:"authorizerClassName"`
	SuperUsers           []string `json:"superUsers"`
	SuperUsersHidden     bool     `json:"superUsersHidden" description:"The broker hides super.users (sensitive): super users are not considered"`
	AllowEveryoneIfNoACL bool     `json:"allowEveryoneIfNoAclFound"`
	// Missing are the settings the broker's configuration did not list: Kafka's defaults were assumed.
	Missing []string `json:"missing"`
}

// ACLCheck is the question of GET /acls/check.
type ACLCheck struct {
	Principal    string
	Host         string
	Operation    string
	ResourceType string
	ResourceName string
}

// ACLDecision is the answer: allowed or not, the rule or ACL that decided, and the settings used.
type ACLDecision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason" enum:"super_user,deny_acl,allow_acl,no_acl_allow_everyone,no_acl_denied,no_allow_matched,no_authorizer"`
	// Binding is the ACL that decided (deny_acl, allow_acl).
	Binding *ACLBinding `json:"binding,omitempty"`
	// Applicable counts the cluster's ACLs that apply to the resource, for any principal.
	Applicable int                `json:"applicable"`
	Explain    string             `json:"explain"`
	Settings   AuthorizerSettings `json:"settings"`
}

// CheckACL answers "may principal P do operation O on resource R from host H?" from the cluster's
// ACLs with Kafka's authorizer rules (aclcheck), reading super.users and
// allow.everyone.if.no.acl.found from a broker's configuration. A cluster without an authorizer
// allows everything: the answer says so (no_authorizer).
func (s *Service) CheckACL(ctx context.Context, cluster string, q ACLCheck) (ACLDecision, error) {
	c, err := s.get(cluster)
	if err != nil {
		return ACLDecision{}, err
	}
	r := aclcheck.Request(q)
	if p := r.Validate(); p != nil {
		return ACLDecision{}, invalid(p)
	}
	settings := s.authorizerSettings(ctx, c)
	all, err := c.client.DescribeACLs(ctx)
	if errors.Is(err, kerr.SecurityDisabled) {
		return ACLDecision{Allowed: true, Reason: "no_authorizer", Settings: settings,
			Explain: "this cluster has no authorizer configured: every principal may do everything"}, nil
	}
	if err != nil {
		return ACLDecision{}, kafkaError(opDescribeACLs, "cluster "+cluster, err)
	}
	d := aclcheck.Check(all, aclcheck.Settings{SuperUsers: settings.SuperUsers, AllowEveryoneIfNoACL: settings.AllowEveryoneIfNoACL}, r)
	out := ACLDecision{Allowed: d.Allowed, Reason: d.Reason, Applicable: d.Applicable, Explain: d.Explain, Settings: settings}
	if d.Binding != nil {
		b := ACLBinding(*d.Binding)
		out.Binding = &b
	}
	switch {
	case !settings.Read:
		out.Explain += " (the brokers' configuration could not be read: no super users and allow.everyone.if.no.acl.found=false were assumed)"
	case len(settings.Missing) > 0:
		out.Explain += fmt.Sprintf(" (broker %d does not report %s: Kafka's defaults were assumed)", settings.Broker, strings.Join(settings.Missing, ", "))
	}
	return out, nil
}

// authorizerSettings reads the authorizer's settings from the first broker that describes its
// configuration; Kafka's defaults when none does.
func (s *Service) authorizerSettings(ctx context.Context, c *cluster) AuthorizerSettings {
	out := AuthorizerSettings{Broker: -1, SuperUsers: []string{}, Missing: []string{}}
	md, err := c.client.Metadata(ctx, []string{})
	if err != nil {
		s.log.Debug("metadata for the authorizer settings", "cluster", c.client.Name(), "err", err)
		return out
	}
	for _, b := range md.Brokers {
		entries, err := c.client.DescribeBrokerConfigs(ctx, b.ID)
		if err != nil {
			s.log.Debug("describe broker configs for the authorizer settings", "broker", b.ID, "err", err)
			continue
		}
		out.Read, out.Broker = true, b.ID
		applyAuthorizerConfig(&out, entries)
		break
	}
	return out
}

func applyAuthorizerConfig(out *AuthorizerSettings, entries []admin.ConfigEntry) {
	seen := map[string]bool{}
	defer func() {
		for _, k := range []string{"super.users", "allow.everyone.if.no.acl.found"} {
			if !seen[k] {
				out.Missing = append(out.Missing, k)
			}
		}
	}()
	for _, e := range entries {
		seen[e.Name] = true
		switch e.Name {
		case "authorizer.class.name":
			out.AuthorizerClassName = e.Value
		case "allow.everyone.if.no.acl.found":
			out.AllowEveryoneIfNoACL, _ = strconv.ParseBool(e.Value)
		case "super.users":
			if e.Sensitive && e.Value == "" {
				out.SuperUsersHidden = true
				continue
			}
			for _, p := range strings.Split(e.Value, ";") {
				if p = strings.TrimSpace(p); p != "" {
					out.SuperUsers = append(out.SuperUsers, p)
				}
			}
		}
	}
}
