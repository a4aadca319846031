package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/store"
)

// Masking actions: replace with a fixed mark, replace with the SHA-256 (hex) of the clear value, or
// drop (the JSON field; for a regular expression, the whole record).
const (
	MaskActionMask = "mask"
	MaskActionHash = "hash"
	MaskActionDrop = "drop"
)

// maskMark replaces a masked value.
const maskMark = "****"

// MaskingRuleInput is a masking rule as an admin writes it.
type MaskingRuleInput struct {
	Name string `json:"name" required:"true" minLength:"1" maxLength:"128"`
	// Cluster limits the rule to one cluster; every cluster when empty.
	Cluster string `json:"cluster,omitempty" maxLength:"249" description:"Only this cluster; every cluster when empty"`
	// TopicPattern is a glob (orders.*, *-pii) or, with TopicRegex, a regular expression matching
	// the whole topic name.
	TopicPattern string `json:"topicPattern" required:"true" minLength:"1" maxLength:"512" description:"Glob (orders.*) or, with topicRegex, a regular expression matching the whole topic name"`
	TopicRegex   bool   `json:"topicRegex,omitempty"`
	// JSONPath names the fields of JSON values to mask: $.user.email, $.items[*].card, $.*.ssn.
	JSONPath string `json:"jsonPath,omitempty" maxLength:"512" description:"Field of JSON values: $.user.email, $.items[*].card (give this or regex)"`
	// Regex matches parts of keys, values and header values (RE2 syntax).
	Regex       string   `json:"regex,omitempty" maxLength:"1024" description:"RE2 expression matched in keys, values and header values (give this or jsonPath)"`
	Action      string   `json:"action" required:"true" enum:"mask,hash,drop" description:"mask: ****; hash: SHA-256 hex of the clear value; drop: remove the JSON field, or the whole record for a regex"`
	ExemptRoles []string `json:"exemptRoles,omitempty" description:"Roles that see clear values (viewer, operator, admin)"`
}

// MaskingRule is a stored masking rule.
type MaskingRule struct {
	ID int64 `json:"id" required:"true"`
	MaskingRuleInput
	CreatedAt time.Time `json:"createdAt" required:"true"`
	UpdatedAt time.Time `json:"updatedAt" required:"true"`
}

// compiledRule is a rule ready to apply.
type compiledRule struct {
	cluster string
	topic   func(string) bool
	path    []jsonStep
	re      *regexp.Regexp
	action  string
	exempt  map[string]bool
}

// jsonStep is one step of a JSON path: a field name, an index, or every element ("*").
type jsonStep struct {
	name  string
	index int // -1 unless the step is [n]
	all   bool
}

// parseJSONPath reads $.a.b[0].c, a.b[*], $.*.c.
func parseJSONPath(p string) ([]jsonStep, error) {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".")
	if p == "" {
		return nil, errors.New("the path names no field")
	}
	var steps []jsonStep
	for _, part := range strings.Split(p, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" && rest == "" {
			return nil, fmt.Errorf("empty step in %q", p)
		}
		if name != "" {
			steps = append(steps, jsonStep{name: name, index: -1, all: name == "*"})
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				return nil, fmt.Errorf("unclosed [ in %q", p)
			}
			if idx == "*" {
				steps = append(steps, jsonStep{index: -1, all: true})
			} else {
				n, err := strconv.Atoi(idx)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("[%s] is not an index or *", idx)
				}
				steps = append(steps, jsonStep{index: n})
			}
			rest = strings.TrimPrefix(after, "[")
			if after != "" && !strings.HasPrefix(after, "[") {
				return nil, fmt.Errorf("unexpected %q after ] in %q", after, p)
			}
		}
	}
	return steps, nil
}

// compileRule checks in and prepares it; the errors are 400 answers.
func compileRule(in MaskingRuleInput) (*compiledRule, error) {
	invalid := func(field, format string, a ...any) error {
		return (&UserError{Status: 400, Code: "invalid_masking_rule", Message: field + ": " + fmt.Sprintf(format, a...)}).with("field", field)
	}
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > 128 {
		return nil, invalid("name", "give a name of 1 to 128 characters")
	}
	r := &compiledRule{cluster: in.Cluster, action: in.Action, exempt: map[string]bool{}}
	switch {
	case in.TopicPattern == "":
		return nil, invalid("topicPattern", "give a topic pattern")
	case in.TopicRegex:
		re, err := regexp.Compile("^(?:" + in.TopicPattern + ")$")
		if err != nil {
			return nil, invalid("topicPattern", "not a regular expression: %v", err)
		}
		r.topic = re.MatchString
	default:
		if _, err := path.Match(in.TopicPattern, ""); err != nil {
			return nil, invalid("topicPattern", "not a glob: %v", err)
		}
		pat := in.TopicPattern
		r.topic = func(t string) bool { ok, _ := path.Match(pat, t); return ok }
	}
	if (in.JSONPath == "") == (in.Regex == "") {
		return nil, invalid("jsonPath", "give either a JSON path or a regular expression")
	}
	if in.JSONPath != "" {
		steps, err := parseJSONPath(in.JSONPath)
		if err != nil {
			return nil, invalid("jsonPath", "%v", err)
		}
		r.path = steps
	} else {
		re, err := regexp.Compile(in.Regex)
		if err != nil {
			return nil, invalid("regex", "not a regular expression: %v", err)
		}
		r.re = re
	}
	switch in.Action {
	case MaskActionMask, MaskActionHash, MaskActionDrop:
	default:
		return nil, invalid("action", "%q is not mask, hash or drop", in.Action)
	}
	for _, role := range in.ExemptRoles {
		if !ValidRole(role) {
			return nil, invalid("exemptRoles", "%q is not viewer, operator or admin", role)
		}
		r.exempt[role] = true
	}
	return r, nil
}

func ruleFromStore(r store.MaskingRule) MaskingRule {
	var roles []string
	if r.ExemptRoles != "" {
		roles = strings.Split(r.ExemptRoles, ",")
	}
	return MaskingRule{ID: r.ID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, MaskingRuleInput: MaskingRuleInput{
		Name: r.Name, Cluster: r.Cluster, TopicPattern: r.TopicPattern, TopicRegex: r.TopicRegex, JSONPath: r.JSONPath,
		Regex: r.Regex, Action: r.Action, ExemptRoles: roles}}
}

func ruleToStore(id int64, in MaskingRuleInput) *store.MaskingRule {
	roles := append([]string(nil), in.ExemptRoles...)
	sort.Strings(roles)
	return &store.MaskingRule{ID: id, Name: strings.TrimSpace(in.Name), Cluster: in.Cluster, TopicPattern: in.TopicPattern,
		TopicRegex: in.TopicRegex, JSONPath: in.JSONPath, Regex: in.Regex, Action: in.Action, ExemptRoles: strings.Join(roles, ",")}
}

// recordMasker returns a record as a caller may see it, or false when the record must not be shown.
type recordMasker func(admin.Message) (admin.Message, bool)

// maskerFor is the masking that applies to topic for the caller; nil when nothing is masked. The
// rules are read from the database on every call, so a change applies to the next read on every
// console sharing the database.
func (s *Service) maskerFor(ctx context.Context, cluster, topic string, who Identity) (recordMasker, error) {
	if s.opts.Store == nil {
		return nil, nil
	}
	stored, err := s.opts.Store.MaskingRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading masking rules: %w", err)
	}
	var rules []*compiledRule
	for _, sr := range stored {
		r, err := compileRule(ruleFromStore(sr).MaskingRuleInput)
		if err != nil {
			// A stored rule that no longer compiles hides the whole topic rather than nothing.
			s.log.Error("masking rule does not compile; its topics' records are withheld", "rule", sr.Name, "err", err)
			r = &compiledRule{cluster: sr.Cluster, topic: func(string) bool { return true }, action: MaskActionDrop, re: regexp.MustCompile(""), exempt: map[string]bool{}}
		}
		if (r.cluster == "" || r.cluster == cluster) && r.topic(topic) && !r.exempt[who.Role] {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return nil, nil
	}
	return func(m admin.Message) (admin.Message, bool) {
		for _, r := range rules {
			var keep bool
			if m, keep = r.apply(m); !keep {
				return m, false
			}
		}
		return m, true
	}, nil
}

// apply masks one record; it never changes the caller's slices.
func (r *compiledRule) apply(m admin.Message) (admin.Message, bool) {
	if r.re != nil {
		return r.applyRegex(m)
	}
	if m.Value == nil {
		return m, true
	}
	dec := json.NewDecoder(bytes.NewReader(m.Value))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return m, true // not JSON: a JSON path has nothing to mask
	}
	doc, changed := r.walk(doc, r.path)
	if changed {
		out, err := json.Marshal(doc)
		if err != nil {
			return m, false // cannot show it masked: do not show it
		}
		m.Value = out
	}
	return m, true
}

// walk applies the action to what steps name under v and returns the new v.
func (r *compiledRule) walk(v any, steps []jsonStep) (any, bool) {
	if len(steps) == 0 {
		return r.replace(v), true
	}
	st, last := steps[0], len(steps) == 1
	changed := false
	switch node := v.(type) {
	case map[string]any:
		for k, child := range node {
			if !st.all && (st.index >= 0 || k != st.name) {
				continue
			}
			if last && r.action == MaskActionDrop {
				delete(node, k)
				changed = true
				continue
			}
			nv, c := r.walk(child, steps[1:])
			node[k], changed = nv, changed || c
		}
	case []any:
		keep := node[:0:0]
		for i, child := range node {
			if !st.all && st.index != i {
				keep = append(keep, child)
				continue
			}
			if last && r.action == MaskActionDrop {
				changed = true
				continue
			}
			nv, c := r.walk(child, steps[1:])
			keep, changed = append(keep, nv), changed || c
		}
		return keep, changed
	}
	return v, changed
}

// replace is the masked form of one JSON value: the mark, or the hash of the value's text (a
// string's own text, else its JSON).
func (r *compiledRule) replace(v any) any {
	if r.action == MaskActionMask {
		return maskMark
	}
	text, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		text = string(b)
	}
	return hashHex([]byte(text))
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// applyRegex masks or hashes every match in the key, the value and the header values, or drops
// the record when any of them matches.
func (r *compiledRule) applyRegex(m admin.Message) (admin.Message, bool) {
	if r.action == MaskActionDrop {
		if r.re.Match(m.Key) || r.re.Match(m.Value) {
			return m, false
		}
		for _, h := range m.Headers {
			if r.re.Match(h.Value) {
				return m, false
			}
		}
		return m, true
	}
	sub := func(b []byte) []byte {
		if b == nil || !r.re.Match(b) {
			return b
		}
		return r.re.ReplaceAllFunc(b, func(match []byte) []byte {
			if r.action == MaskActionHash {
				return []byte(hashHex(match))
			}
			return []byte(maskMark)
		})
	}
	m.Key, m.Value = sub(m.Key), sub(m.Value)
	if len(m.Headers) > 0 {
		hs := make([]admin.MessageHeader, len(m.Headers))
		for i, h := range m.Headers {
			hs[i] = admin.MessageHeader{Key: h.Key, Value: sub(h.Value)}
		}
		m.Headers = hs
	}
	return m, true
}

// MaskingRules lists the rules.
func (s *Service) MaskingRules(ctx context.Context) ([]MaskingRule, error) {
	if s.opts.Store == nil {
		return nil, errors.New("no database")
	}
	stored, err := s.opts.Store.MaskingRules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]MaskingRule, 0, len(stored))
	for _, r := range stored {
		out = append(out, ruleFromStore(r))
	}
	return out, nil
}

// SaveMaskingRule creates a rule (id 0) or replaces rule id, audited.
func (s *Service) SaveMaskingRule(ctx context.Context, who Caller, id int64, in MaskingRuleInput) (MaskingRule, error) {
	if s.opts.Store == nil {
		return MaskingRule{}, errors.New("no database")
	}
	if _, err := compileRule(in); err != nil {
		return MaskingRule{}, err
	}
	action := "masking.create"
	if id != 0 {
		action = "masking.update"
	}
	row := ruleToStore(id, in)
	err := s.Audited(ctx, who, action, in.Cluster, row.Name, in, func() error {
		var err error
		if id == 0 {
			err = s.opts.Store.CreateMaskingRule(ctx, row)
		} else {
			err = s.opts.Store.SaveMaskingRule(ctx, row)
		}
		return maskingStoreError(err, row.Name, id)
	})
	if err != nil {
		return MaskingRule{}, err
	}
	saved, err := s.opts.Store.MaskingRule(ctx, row.ID)
	if err != nil {
		return MaskingRule{}, err
	}
	return ruleFromStore(saved), nil
}

// DeleteMaskingRule removes a rule, audited.
func (s *Service) DeleteMaskingRule(ctx context.Context, who Caller, id int64) error {
	if s.opts.Store == nil {
		return errors.New("no database")
	}
	return s.Audited(ctx, who, "masking.delete", "", strconv.FormatInt(id, 10), map[string]any{"id": id}, func() error {
		return maskingStoreError(s.opts.Store.DeleteMaskingRule(ctx, id), "", id)
	})
}

func maskingStoreError(err error, name string, id int64) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrConflict):
		return conflict("masking_rule_exists", "a masking rule named %q already exists", name)
	case errors.Is(err, store.ErrNotFound):
		return notFound("masking_rule_not_found", "no masking rule %d", id)
	}
	return err
}
