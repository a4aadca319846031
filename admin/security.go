package admin

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/aclcheck"
)

// This file holds the security calls: ACLs (DescribeAcls, CreateAcls, DeleteAcls), SCRAM credentials
// (DescribeUserScramCredentials, AlterUserScramCredentials) and client quotas (DescribeClientQuotas,
// AlterClientQuotas). A cluster without an authorizer answers the ACL calls SECURITY_DISABLED; it
// comes back as a KafkaError like any other code. ACLs use aclcheck's binding (Kafka's enum names).

// DescribeACLs lists every ACL binding of the cluster (a filter matching any), sorted.
func (c *Client) DescribeACLs(ctx context.Context) ([]aclcheck.Binding, error) {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeAny
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	resp, err := c.requestAny(ctx, req, 1, -1)
	if err != nil {
		return nil, fmt.Errorf("describe acls: %w", err)
	}
	r := resp.(*kmsg.DescribeACLsResponse)
	if err := codeErr(req.Key(), r.ErrorCode, r.ErrorMessage); err != nil {
		return nil, fmt.Errorf("describe acls: %w", err)
	}
	out := []aclcheck.Binding{}
	for _, res := range r.Resources {
		for _, a := range res.ACLs {
			out = append(out, aclcheck.Binding{Principal: a.Principal, Host: a.Host, Operation: a.Operation.String(),
				Permission: a.PermissionType.String(), ResourceType: res.ResourceType.String(), ResourceName: res.ResourceName,
				PatternType: res.ResourcePatternType.String()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// aclEnums turns a binding's names into the protocol's enums; a name Kafka does not know is an error.
func aclEnums(b aclcheck.Binding) (rt kmsg.ACLResourceType, pt kmsg.ACLResourcePatternType, op kmsg.ACLOperation, perm kmsg.ACLPermissionType, err error) {
	if rt, err = kmsg.ParseACLResourceType(b.ResourceType); err != nil {
		return
	}
	if pt, err = kmsg.ParseACLResourcePatternType(b.PatternType); err != nil {
		return
	}
	if op, err = kmsg.ParseACLOperation(b.Operation); err != nil {
		return
	}
	perm, err = kmsg.ParseACLPermissionType(b.Permission)
	return
}

// CreateACLs creates bindings in one request; the slice holds each binding's error (nil when created),
// in the order given.
func (c *Client) CreateACLs(ctx context.Context, bindings []aclcheck.Binding) ([]error, error) {
	req := kmsg.NewPtrCreateACLsRequest()
	for _, b := range bindings {
		rt, pt, op, perm, err := aclEnums(b)
		if err != nil {
			return nil, fmt.Errorf("create acls: %s: %w", b, err)
		}
		cr := kmsg.NewCreateACLsRequestCreation()
		cr.ResourceType, cr.ResourceName, cr.ResourcePatternType = rt, b.ResourceName, pt
		cr.Principal, cr.Host, cr.Operation, cr.PermissionType = b.Principal, b.Host, op, perm
		req.Creations = append(req.Creations, cr)
	}
	resp, err := c.requestAny(ctx, req, 1, -1)
	if err != nil {
		return nil, fmt.Errorf("create acls: %w", err)
	}
	results := resp.(*kmsg.CreateACLsResponse).Results
	if len(results) != len(bindings) {
		return nil, fmt.Errorf("create acls: %d results for %d bindings", len(results), len(bindings))
	}
	out := make([]error, len(results))
	for i, r := range results {
		out[i] = codeErr(req.Key(), r.ErrorCode, r.ErrorMessage)
	}
	return out, nil
}

// DeleteACLs deletes the bindings exactly as given (each filter names every field); it returns how
// many bindings each deleted, in the order given, or the first filter's error.
func (c *Client) DeleteACLs(ctx context.Context, bindings []aclcheck.Binding) ([]int, error) {
	req := kmsg.NewPtrDeleteACLsRequest()
	for _, b := range bindings {
		rt, pt, op, perm, err := aclEnums(b)
		if err != nil {
			return nil, fmt.Errorf("delete acls: %s: %w", b, err)
		}
		f := kmsg.NewDeleteACLsRequestFilter()
		f.ResourceType, f.ResourceName, f.ResourcePatternType = rt, kmsg.StringPtr(b.ResourceName), pt
		f.Principal, f.Host, f.Operation, f.PermissionType = kmsg.StringPtr(b.Principal), kmsg.StringPtr(b.Host), op, perm
		req.Filters = append(req.Filters, f)
	}
	resp, err := c.requestAny(ctx, req, 1, -1)
	if err != nil {
		return nil, fmt.Errorf("delete acls: %w", err)
	}
	results := resp.(*kmsg.DeleteACLsResponse).Results
	if len(results) != len(bindings) {
		return nil, fmt.Errorf("delete acls: %d results for %d filters", len(results), len(bindings))
	}
	out := make([]int, len(results))
	for i, r := range results {
		if err := codeErr(req.Key(), r.ErrorCode, r.ErrorMessage); err != nil {
			return nil, fmt.Errorf("delete acls: %w", err)
		}
		out[i] = len(r.MatchingACLs)
	}
	return out, nil
}

// SCRAM mechanisms by Kafka's names.
const (
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// ScramCredential is one mechanism's credential of a user (the salt and key are never described).
type ScramCredential struct {
	Mechanism  string
	Iterations int32
}

// ScramUser is a user with SCRAM credentials.
type ScramUser struct {
	Name        string
	Credentials []ScramCredential
}

func scramMechanism(m string) (int8, error) {
	switch m {
	case ScramSHA256:
		return 1, nil
	case ScramSHA512:
		return 2, nil
	}
	return 0, fmt.Errorf("unknown SCRAM mechanism %q", m)
}

func scramName(m int8) string {
	switch m {
	case 1:
		return ScramSHA256
	case 2:
		return ScramSHA512
	}
	return "UNKNOWN"
}

// DescribeSCRAMUsers lists every user with SCRAM credentials, by name.
func (c *Client) DescribeSCRAMUsers(ctx context.Context) ([]ScramUser, error) {
	req := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest() // Users nil: every user
	resp, err := c.requestAny(ctx, req, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("describe user scram credentials: %w", err)
	}
	r := resp.(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if err := codeErr(req.Key(), r.ErrorCode, r.ErrorMessage); err != nil {
		return nil, fmt.Errorf("describe user scram credentials: %w", err)
	}
	out := []ScramUser{}
	for _, res := range r.Results {
		if err := codeErr(req.Key(), res.ErrorCode, res.ErrorMessage); err != nil {
			if errors.Is(err, kerr.ResourceNotFound) {
				continue
			}
			return nil, fmt.Errorf("describe user scram credentials of %s: %w", res.User, err)
		}
		u := ScramUser{Name: res.User}
		for _, ci := range res.CredentialInfos {
			u.Credentials = append(u.Credentials, ScramCredential{Mechanism: scramName(ci.Mechanism), Iterations: ci.Iterations})
		}
		sort.Slice(u.Credentials, func(i, j int) bool { return u.Credentials[i].Mechanism < u.Credentials[j].Mechanism })
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ScramUpsert sets one mechanism's credential of a user from a password, salted here with salt as
// Kafka's AlterUserScramCredentials wants (the broker never sees the password).
type ScramUpsert struct {
	User       string
	Mechanism  string
	Iterations int32
	Password   string
	Salt       []byte
}

// saltedPassword is SCRAM's Hi(password, salt, i): PBKDF2 with the mechanism's HMAC (RFC 5802).
func (u ScramUpsert) saltedPassword() ([]byte, error) {
	switch u.Mechanism {
	case ScramSHA256:
		return pbkdf2.Key(sha256.New, u.Password, u.Salt, int(u.Iterations), sha256.Size)
	case ScramSHA512:
		return pbkdf2.Key(sha512.New, u.Password, u.Salt, int(u.Iterations), sha512.Size)
	}
	return nil, fmt.Errorf("unknown SCRAM mechanism %q", u.Mechanism)
}

// ScramDeletion removes one mechanism's credential of a user.
type ScramDeletion struct {
	User      string
	Mechanism string
}

// AlterSCRAMUsers upserts and deletes SCRAM credentials in one request to the controller; the map holds
// each user's error (nil when done).
func (c *Client) AlterSCRAMUsers(ctx context.Context, upserts []ScramUpsert, deletions []ScramDeletion) (map[string]error, error) {
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	for _, d := range deletions {
		m, err := scramMechanism(d.Mechanism)
		if err != nil {
			return nil, fmt.Errorf("alter user scram credentials of %s: %w", d.User, err)
		}
		rd := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
		rd.Name, rd.Mechanism = d.User, m
		req.Deletions = append(req.Deletions, rd)
	}
	for _, u := range upserts {
		m, err := scramMechanism(u.Mechanism)
		if err != nil {
			return nil, fmt.Errorf("alter user scram credentials of %s: %w", u.User, err)
		}
		salted, err := u.saltedPassword()
		if err != nil {
			return nil, fmt.Errorf("alter user scram credentials of %s: salt the password: %w", u.User, err)
		}
		ru := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
		ru.Name, ru.Mechanism, ru.Iterations, ru.Salt, ru.SaltedPassword = u.User, m, u.Iterations, u.Salt, salted
		req.Upsertions = append(req.Upsertions, ru)
	}
	moved := func(resp kmsg.Response) bool {
		for _, r := range resp.(*kmsg.AlterUserSCRAMCredentialsResponse).Results {
			if r.ErrorCode == kerr.NotController.Code {
				return true
			}
		}
		return false
	}
	resp, _, err := c.requestController(ctx, req, 0, -1, moved)
	if err != nil {
		return nil, fmt.Errorf("alter user scram credentials: %w", err)
	}
	out := map[string]error{}
	for _, r := range resp.(*kmsg.AlterUserSCRAMCredentialsResponse).Results {
		if e := codeErr(req.Key(), r.ErrorCode, r.ErrorMessage); e != nil || out[r.User] == nil {
			out[r.User] = e
		}
	}
	return out, nil
}

// Client quota entity types and keys by Kafka's names.
const (
	QuotaEntityUser     = "user"
	QuotaEntityClientID = "client-id"
)

// QuotaEntity names whom a quota applies to: a user, a client id, or both; an entry with Default set
// is the default for its type (<default> in kafka-configs.sh), with Name empty.
type QuotaEntity []QuotaEntityPart

// QuotaEntityPart is one component of an entity.
type QuotaEntityPart struct {
	Type    string
	Name    string
	Default bool
}

// ClientQuota is one entity's quota values (producer_byte_rate, consumer_byte_rate, request_percentage,
// controller_mutation_rate).
type ClientQuota struct {
	Entity QuotaEntity
	Values map[string]float64
}

// DescribeClientQuotas lists every entity's quotas (a filter matching any user or client id, also the
// defaults).
func (c *Client) DescribeClientQuotas(ctx context.Context) ([]ClientQuota, error) {
	req := kmsg.NewPtrDescribeClientQuotasRequest() // no components, not strict: every entity (ClientQuotaFilter.all)
	resp, err := c.requestAny(ctx, req, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("describe client quotas: %w", err)
	}
	r := resp.(*kmsg.DescribeClientQuotasResponse)
	if err := codeErr(req.Key(), r.ErrorCode, r.ErrorMessage); err != nil {
		return nil, fmt.Errorf("describe client quotas: %w", err)
	}
	out := []ClientQuota{}
	for _, e := range r.Entries {
		q := ClientQuota{Values: map[string]float64{}}
		for _, p := range e.Entity {
			part := QuotaEntityPart{Type: p.Type, Default: p.Name == nil}
			if p.Name != nil {
				part.Name = *p.Name
			}
			q.Entity = append(q.Entity, part)
		}
		sort.Slice(q.Entity, func(i, j int) bool { return q.Entity[i].Type > q.Entity[j].Type }) // user before client-id
		for _, v := range e.Values {
			q.Values[v.Key] = v.Value
		}
		out = append(out, q)
	}
	return out, nil
}

// QuotaChange sets or removes one key of an entity's quota.
type QuotaChange struct {
	Key    string
	Value  float64
	Remove bool
}

// AlterClientQuotas applies changes to one entity's quotas.
func (c *Client) AlterClientQuotas(ctx context.Context, entity QuotaEntity, changes []QuotaChange) error {
	req := kmsg.NewPtrAlterClientQuotasRequest()
	entry := kmsg.NewAlterClientQuotasRequestEntry()
	for _, p := range entity {
		e := kmsg.NewAlterClientQuotasRequestEntryEntity()
		e.Type = p.Type
		if !p.Default {
			e.Name = kmsg.StringPtr(p.Name)
		}
		entry.Entity = append(entry.Entity, e)
	}
	for _, ch := range changes {
		op := kmsg.NewAlterClientQuotasRequestEntryOp()
		op.Key, op.Value, op.Remove = ch.Key, ch.Value, ch.Remove
		entry.Ops = append(entry.Ops, op)
	}
	req.Entries = append(req.Entries, entry)
	resp, err := c.requestAny(ctx, req, 0, -1)
	if err != nil {
		return fmt.Errorf("alter client quotas: %w", err)
	}
	for _, e := range resp.(*kmsg.AlterClientQuotasResponse).Entries {
		if err := codeErr(req.Key(), e.ErrorCode, e.ErrorMessage); err != nil {
			return fmt.Errorf("alter client quotas: %w", err)
		}
	}
	return nil
}
