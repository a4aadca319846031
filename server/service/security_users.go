package service

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/osprey-kafka/osprey/admin"
)

// SCRAM credential rules: Kafka's bounds on the iteration count, the console's default, its least
// password length and the length of the salt and of a generated password.
const (
	scramMinIterations     = 4096
	scramMaxIterations     = 16384
	scramDefaultIterations = 8192
	scramMinPassword       = 8
	scramSaltBytes         = 32
	scramGeneratedLength   = 24
)

// ScramCredentialRow is one mechanism's credential of a user (Kafka never describes the salt or keys).
type ScramCredentialRow struct {
	Mechanism  string `json:"mechanism" enum:"SCRAM-SHA-256,SCRAM-SHA-512"`
	Iterations int32  `json:"iterations"`
}

// ScramUserRow is a user with SCRAM credentials.
type ScramUserRow struct {
	Name        string               `json:"name"`
	Credentials []ScramCredentialRow `json:"credentials"`
}

// ScramUsers is the answer of GET /scram-users.
type ScramUsers struct {
	Users []ScramUserRow `json:"users"`
}

// ScramUsers lists the cluster's SCRAM users with their mechanisms and iteration counts.
func (s *Service) ScramUsers(ctx context.Context, cluster string) (ScramUsers, error) {
	c, err := s.get(cluster)
	if err != nil {
		return ScramUsers{}, err
	}
	users, err := c.client.DescribeSCRAMUsers(ctx)
	if err != nil {
		return ScramUsers{}, securityError(opDescribeSCRAM, "cluster "+cluster, err)
	}
	out := ScramUsers{Users: make([]ScramUserRow, 0, len(users))}
	for _, u := range users {
		row := ScramUserRow{Name: u.Name, Credentials: make([]ScramCredentialRow, 0, len(u.Credentials))}
		for _, cr := range u.Credentials {
			row.Credentials = append(row.Credentials, ScramCredentialRow(cr))
		}
		out.Users = append(out.Users, row)
	}
	return out, nil
}

// ScramUpsertRequest is the body of PUT /scram-users/{user}: the mechanism, the iteration count, and
// either a password or generate=true for one made by the console.
type ScramUpsertRequest struct {
	Mechanism  string `json:"mechanism" required:"true" enum:"SCRAM-SHA-256,SCRAM-SHA-512"`
	Iterations int32  `json:"iterations,omitempty" description:"4096 to 16384; 8192 when absent"`
	Password   string `json:"password,omitempty" description:"At least 8 characters; sent once, never stored, logged or returned"`
	Generate   bool   `json:"generate,omitempty" description:"Let the console generate a password (returned once, in this answer)"`
}

// ScramUpsertResult is the answer: what was set, and the generated password when the console made one.
type ScramUpsertResult struct {
	User       string `json:"user"`
	Mechanism  string `json:"mechanism"`
	Iterations int32  `json:"iterations"`
	// GeneratedPassword is shown once: it is not stored anywhere by the console.
	GeneratedPassword string `json:"generatedPassword,omitempty"`
}

func validScramMechanism(m string) error {
	if m != admin.ScramSHA256 && m != admin.ScramSHA512 {
		return (&UserError{Status: http.StatusBadRequest, Code: "scram_mechanism_invalid",
			Message: fmt.Sprintf("unknown SCRAM mechanism %q: SCRAM-SHA-256 or SCRAM-SHA-512", m)}).with("mechanism", m)
	}
	return nil
}

func validScramUser(name string) error {
	if strings.TrimSpace(name) == "" || strings.TrimSpace(name) != name {
		return badRequest("scram_user_invalid", "the user name is empty or starts or ends with a space")
	}
	return nil
}

// generatePassword makes a random password from letters and digits (about 143 bits for 24 characters).
func generatePassword() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, scramGeneratedLength)
	for i := range b {
		var r [1]byte
		for {
			rand.Read(r[:])
			if int(r[0]) < 256-256%len(alphabet) { // no modulo bias
				break
			}
		}
		b[i] = alphabet[int(r[0])%len(alphabet)]
	}
	return string(b)
}

// UpsertScramUser creates a user's credential for a mechanism or replaces it (a password rotation):
// the salt and salted password are made here, as AlterUserScramCredentials wants, so the password
// itself never leaves the console; it is not stored, logged or audited. Audited as scram.upsert.
func (s *Service) UpsertScramUser(ctx context.Context, who Caller, cluster, user string, req ScramUpsertRequest) (ScramUpsertResult, error) {
	c, err := s.get(cluster)
	if err != nil {
		return ScramUpsertResult{}, err
	}
	if err := validScramUser(user); err != nil {
		return ScramUpsertResult{}, err
	}
	if err := validScramMechanism(req.Mechanism); err != nil {
		return ScramUpsertResult{}, err
	}
	if req.Iterations == 0 {
		req.Iterations = scramDefaultIterations
	}
	if req.Iterations < scramMinIterations || req.Iterations > scramMaxIterations {
		return ScramUpsertResult{}, (&UserError{Status: http.StatusBadRequest, Code: "scram_iterations_invalid",
			Message: fmt.Sprintf("iterations must be between %d and %d", scramMinIterations, scramMaxIterations)}).with("min", scramMinIterations, "max", scramMaxIterations)
	}
	out := ScramUpsertResult{User: user, Mechanism: req.Mechanism, Iterations: req.Iterations}
	switch {
	case req.Generate && req.Password != "":
		return ScramUpsertResult{}, badRequest("scram_password_conflict", "give a password or ask for a generated one, not both")
	case req.Generate:
		req.Password = generatePassword()
		out.GeneratedPassword = req.Password
	case req.Password == "":
		return ScramUpsertResult{}, badRequest("scram_password_required", "give a password or ask for a generated one")
	case len([]rune(req.Password)) < scramMinPassword:
		return ScramUpsertResult{}, (&UserError{Status: http.StatusBadRequest, Code: "scram_password_too_short",
			Message: fmt.Sprintf("the password must have at least %d characters", scramMinPassword)}).with("min", scramMinPassword)
	}
	salt := make([]byte, scramSaltBytes)
	rand.Read(salt)
	details := map[string]any{"mechanism": req.Mechanism, "iterations": req.Iterations, "generated": req.Generate}
	err = s.Audited(ctx, who, "scram.upsert", cluster, user, details, func() error {
		errs, err := c.client.AlterSCRAMUsers(ctx, []admin.ScramUpsert{{User: user, Mechanism: req.Mechanism, Iterations: req.Iterations, Password: req.Password, Salt: salt}}, nil)
		if err == nil {
			err = errs[user]
		}
		if err != nil {
			return securityError(opAlterSCRAM, user, err)
		}
		return nil
	})
	if err != nil {
		return ScramUpsertResult{}, err
	}
	return out, nil
}

// DeleteScramUser removes a user's credential for one mechanism, or for every mechanism it has when
// mechanism is empty; a user without such a credential is 404 scram_user_not_found. Audited as
// scram.delete.
func (s *Service) DeleteScramUser(ctx context.Context, who Caller, cluster, user, mechanism string) error {
	c, err := s.get(cluster)
	if err != nil {
		return err
	}
	if err := validScramUser(user); err != nil {
		return err
	}
	var mechs []string
	if mechanism != "" {
		if err := validScramMechanism(mechanism); err != nil {
			return err
		}
		mechs = []string{mechanism}
	} else {
		users, err := c.client.DescribeSCRAMUsers(ctx)
		if err != nil {
			return securityError(opDescribeSCRAM, "cluster "+cluster, err)
		}
		for _, u := range users {
			if u.Name == user {
				for _, cr := range u.Credentials {
					mechs = append(mechs, cr.Mechanism)
				}
			}
		}
	}
	notFound := &UserError{Status: http.StatusNotFound, Code: "scram_user_not_found", Message: fmt.Sprintf("user %q has no SCRAM credential to delete", user)}
	if len(mechs) == 0 {
		return notFound.with("user", user)
	}
	sort.Strings(mechs)
	mechs = slices.Compact(mechs)
	return s.Audited(ctx, who, "scram.delete", cluster, user, map[string]any{"mechanisms": mechs}, func() error {
		dels := make([]admin.ScramDeletion, len(mechs))
		for i, m := range mechs {
			dels[i] = admin.ScramDeletion{User: user, Mechanism: m}
		}
		errs, err := c.client.AlterSCRAMUsers(ctx, nil, dels)
		if err == nil {
			err = errs[user]
		}
		switch {
		case errors.Is(err, kerr.ResourceNotFound):
			return notFound.with("user", user)
		case err != nil:
			return securityError(opAlterSCRAM, user, err)
		}
		return nil
	})
}

// Client quota keys Kafka knows (QuotaConfigs); the byte rates are whole bytes per second.
var quotaKeys = []string{"producer_byte_rate", "consumer_byte_rate", "request_percentage", "controller_mutation_rate"}

// QuotaDefault names the default entity of a type, as kafka-configs.sh prints it.
const QuotaDefault = "<default>"

// QuotaRow is one entity's quotas. User and ClientID are the entity's parts ("" when not part of it,
// <default> for the default of the type).
type QuotaRow struct {
	User     string             `json:"user,omitempty"`
	ClientID string             `json:"clientId,omitempty"`
	Values   map[string]float64 `json:"values"`
	// Usage is what the brokers measure now for the clients this entity's quotas apply to (only when
	// Quotas.ThrottleReported; absent when none of them sent anything within the quota window).
	Usage []QuotaUsage `json:"usage,omitempty" description:"runtime clusters in the console's process: each broker's measured rate and current throttle per client this entity's quotas apply to"`
}

// Quotas is the answer of GET /quotas.
type Quotas struct {
	Entities []QuotaRow `json:"entities"`
	// Keys are the quota keys the console can set.
	Keys []string `json:"keys"`
	// ThrottleReported says whether the cluster reports the throttle its clients see now (Osprey
	// runtime brokers in the console's process); false: the Usage fields are absent, not zero.
	ThrottleReported bool `json:"throttleReported" description:"true when the brokers' current rates and throttle times are reported (runtime clusters in the console's process); otherwise usage is not known"`
}

// Quotas lists every entity's client quotas (users, client ids, both, and the defaults).
func (s *Service) Quotas(ctx context.Context, cluster string) (Quotas, error) {
	c, err := s.get(cluster)
	if err != nil {
		return Quotas{}, err
	}
	qs, err := c.client.DescribeClientQuotas(ctx)
	if err != nil {
		return Quotas{}, securityError(opDescribeQuota, "cluster "+cluster, err)
	}
	out := Quotas{Entities: make([]QuotaRow, 0, len(qs)), Keys: quotaKeys}
	usage, reported := s.quotaUsage(cluster)
	out.ThrottleReported = reported
	for _, q := range qs {
		row := QuotaRow{Values: q.Values}
		for _, p := range q.Entity {
			name := p.Name
			if p.Default {
				name = QuotaDefault
			}
			switch p.Type {
			case admin.QuotaEntityUser:
				row.User = name
			case admin.QuotaEntityClientID:
				row.ClientID = name
			}
		}
		row.Usage = usage[quotaEntityKey{user: row.User, clientID: row.ClientID}]
		out.Entities = append(out.Entities, row)
	}
	sort.Slice(out.Entities, func(i, j int) bool {
		a, b := out.Entities[i], out.Entities[j]
		return a.User < b.User || a.User == b.User && a.ClientID < b.ClientID
	})
	return out, nil
}

// AlterQuotasRequest is the body of PUT /quotas: the entity (user, client id or both; <default> for
// the default of the type), the keys to set and the keys to remove.
type AlterQuotasRequest struct {
	User     string             `json:"user,omitempty" description:"A user name, <default> for every user without its own quota, or absent"`
	ClientID string             `json:"clientId,omitempty" description:"A client id, <default> for every client id without its own quota, or absent"`
	Set      map[string]float64 `json:"set,omitempty" description:"producer_byte_rate, consumer_byte_rate (bytes/s), request_percentage (% of one I/O or network thread), controller_mutation_rate (partitions/s)"`
	Remove   []string           `json:"remove,omitempty"`
}

func (r AlterQuotasRequest) validate() error {
	if r.User == "" && r.ClientID == "" {
		return badRequest("quota_entity_required", "name a user, a client id, or both (<default> for the default)")
	}
	if len(r.Set) == 0 && len(r.Remove) == 0 {
		return badRequest("quota_no_change", "give the quota values to set or to remove")
	}
	for _, k := range append(slices.Sorted(maps.Keys(r.Set)), r.Remove...) {
		if !slices.Contains(quotaKeys, k) {
			return (&UserError{Status: http.StatusBadRequest, Code: "quota_key_invalid",
				Message: fmt.Sprintf("unknown quota %q: one of %s", k, strings.Join(quotaKeys, ", "))}).with("key", k)
		}
	}
	for k, v := range r.Set {
		if slices.Contains(r.Remove, k) {
			return (&UserError{Status: http.StatusBadRequest, Code: "quota_key_invalid", Message: fmt.Sprintf("quota %q is both set and removed", k)}).with("key", k)
		}
		bad := math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || strings.HasSuffix(k, "_byte_rate") && v != math.Trunc(v)
		if bad {
			return (&UserError{Status: http.StatusBadRequest, Code: "quota_value_invalid",
				Message: fmt.Sprintf("quota %s must be a positive number (whole bytes per second for the byte rates); remove it instead of setting 0", k)}).with("key", k)
		}
	}
	return nil
}

func quotaEntity(r AlterQuotasRequest) (admin.QuotaEntity, string) {
	var e admin.QuotaEntity
	var names []string
	for _, p := range []struct{ typ, name string }{{admin.QuotaEntityUser, r.User}, {admin.QuotaEntityClientID, r.ClientID}} {
		if p.name == "" {
			continue
		}
		e = append(e, admin.QuotaEntityPart{Type: p.typ, Name: p.name, Default: p.name == QuotaDefault})
		names = append(names, p.typ+"="+p.name)
	}
	return e, strings.Join(names, ",")
}

// AlterQuotas sets and removes quota values of one entity. Audited as quota.alter.
func (s *Service) AlterQuotas(ctx context.Context, who Caller, cluster string, req AlterQuotasRequest) error {
	c, err := s.get(cluster)
	if err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	entity, target := quotaEntity(req)
	var changes []admin.QuotaChange
	for _, k := range slices.Sorted(maps.Keys(req.Set)) {
		changes = append(changes, admin.QuotaChange{Key: k, Value: req.Set[k]})
	}
	for _, k := range req.Remove {
		changes = append(changes, admin.QuotaChange{Key: k, Remove: true})
	}
	return s.Audited(ctx, who, "quota.alter", cluster, target, map[string]any{"set": req.Set, "remove": req.Remove}, func() error {
		if err := c.client.AlterClientQuotas(ctx, entity, changes); err != nil {
			return securityError(opAlterQuota, target, err)
		}
		return nil
	})
}
