package broker

import (
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// Kafka's resolution order: the most specific entity that sets the key
// wins, and clients sharing a quota share its sensor (the metric tags).
func TestQuotaResolveOrder(t *testing.T) {
	u, c := namedQuota("alice"), namedQuota("app")
	levels := []struct {
		name               string
		e                  quotaEntity
		userTag, clientTag string
	}{
		{"user+client", quotaEntity{user: u, client: c}, "alice", "app"},
		{"user+default client", quotaEntity{user: u, client: defaultQuota}, "alice", "app"},
		{"user", quotaEntity{user: u}, "alice", ""},
		{"default user+client", quotaEntity{user: defaultQuota, client: c}, "alice", "app"},
		{"default user+default client", quotaEntity{user: defaultQuota, client: defaultQuota}, "alice", "app"},
		{"default user", quotaEntity{user: defaultQuota}, "alice", ""},
		{"client", quotaEntity{client: c}, "", "app"},
		{"default client", quotaEntity{client: defaultQuota}, "", "app"},
	}
	// With levels i.. set, level i must win.
	for i, want := range levels {
		t.Run(want.name, func(t *testing.T) {
			table := quotaTable{}
			for j := i; j < len(levels); j++ {
				table[levels[j].e] = map[string]float64{quotaProducerByteRate: float64(100 + j)}
			}
			// Other users, clients and keys never match.
			table[quotaEntity{user: namedQuota("bob")}] = map[string]float64{quotaProducerByteRate: 1}
			table[quotaEntity{client: namedQuota("other")}] = map[string]float64{quotaProducerByteRate: 1}
			table[quotaEntity{user: u, client: c}] = map[string]float64{quotaConsumerByteRate: 5}
			if i == 0 {
				table[quotaEntity{user: u, client: c}][quotaProducerByteRate] = 100
			}
			m, ok := table.resolve(quotaProducerByteRate, "alice", "app")
			if !ok || m.entity != want.e || m.limit != float64(100+i) || m.userTag != want.userTag || m.clientTag != want.clientTag {
				t.Fatalf("resolve = %+v, %v; want entity %v limit %d tags (%q, %q)", m, ok, want.e, 100+i, want.userTag, want.clientTag)
			}
		})
	}
	if _, ok := (quotaTable{quotaEntity{user: namedQuota("bob")}: {quotaProducerByteRate: 1}}).resolve(quotaProducerByteRate, "alice", "app"); ok {
		t.Fatal("another user's quota applied")
	}
}

// The rate is measured over the samples, the time they cover at least
// (num-1) windows; the throttle time brings it back to the quota.
func TestSampledRateThrottleTime(t *testing.T) {
	q := newClientQuotas(defaultQuotaConfig())
	q.set(quotaTable{quotaEntity{client: namedQuota("c")}: {quotaProducerByteRate: 1000}})
	t0 := time.Unix(1000, 0)
	// 10 windows' worth at once is exactly the quota: not throttled.
	if d := q.record(quotaProducerByteRate, "u", "c", 10_000, t0, false); d != 0 {
		t.Fatalf("at the quota: throttle %v", d)
	}
	// 5000 more: 15000 over 10 s = 1500/s, (1500-1000)/1000 × 10 s = 5 s.
	if d := q.record(quotaProducerByteRate, "u", "c", 5000, t0, false); d != 5*time.Second {
		t.Fatalf("over the quota: throttle %v, want 5s", d)
	}
	// A throttled fetch takes its bytes back: the next check sees the same.
	if d := q.record(quotaProducerByteRate, "u", "c", 5000, t0, true); d != 10*time.Second {
		t.Fatalf("unrecorded: throttle %v, want 10s", d)
	}
	if d := q.record(quotaProducerByteRate, "u", "c", 0, t0, false); d != 5*time.Second {
		t.Fatalf("after unrecord: throttle %v, want 5s", d)
	}
	// 11 windows later every sample has expired.
	if d := q.record(quotaProducerByteRate, "u", "c", 100, t0.Add(11*time.Second), false); d != 0 {
		t.Fatalf("after the window: throttle %v", d)
	}
	// Another client id has no quota.
	if d := q.record(quotaProducerByteRate, "u", "other", 1e9, t0, false); d != 0 {
		t.Fatalf("client without quota throttled %v", d)
	}
	if got := q.maxValueInWindow(quotaProducerByteRate, "u", "c"); got != 10_000 {
		t.Fatalf("maxValueInWindow = %v, want 10000", got)
	}
	if got := q.maxValueInWindow(quotaConsumerByteRate, "u", "c"); !math.IsInf(got, 1) {
		t.Fatalf("maxValueInWindow without quota = %v", got)
	}
}

func TestJavaDoubleAndSanitizer(t *testing.T) {
	for v, want := range map[float64]string{50: "50.0", 0.5: "0.5", 1e7: "1.0E7", 12345678.5: "1.23456785E7", 0.0001: "1.0E-4", 0: "0.0", 200.25: "200.25"} {
		if got := javaDoubleString(v); got != want {
			t.Errorf("javaDoubleString(%v) = %q, want %q", v, got, want)
		}
	}
	for in, want := range map[string]string{"alice": "alice", "a b": "a%20b", "x*y": "x%2Ay", "CN=a,O=b": "CN%3Da%2CO%3Db", "t~1.-_": "t%7E1.-_", "用户": "%E7%94%A8%E6%88%B7"} {
		if got := zkdata.SanitizeEntityName(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
		if back, err := zkdata.DesanitizeEntityName(zkdata.SanitizeEntityName(in)); back != in || err != nil {
			t.Errorf("desanitize(sanitize(%q)) = %q, %v", in, back, err)
		}
	}
}

func TestParseQuotaAlterationRefusals(t *testing.T) {
	ent := func(kv ...*string) []kmsg.AlterClientQuotasRequestEntryEntity {
		var out []kmsg.AlterClientQuotasRequestEntryEntity
		for i := 0; i < len(kv); i += 2 {
			e := kmsg.NewAlterClientQuotasRequestEntryEntity()
			e.Type, e.Name = *kv[i], kv[i+1]
			out = append(out, e)
		}
		return out
	}
	op := func(k string, v float64) kmsg.AlterClientQuotasRequestEntryOp {
		o := kmsg.NewAlterClientQuotasRequestEntryOp()
		o.Key, o.Value = k, v
		return o
	}
	s := kmsg.StringPtr
	for _, tc := range []struct {
		entity []kmsg.AlterClientQuotasRequestEntryEntity
		op     kmsg.AlterClientQuotasRequestEntryOp
		want   string
	}{
		{nil, op(quotaProducerByteRate, 1), "Invalid empty client quota entity"},
		{ent(s("group"), s("g")), op(quotaProducerByteRate, 1), "Unhandled client quota entity type: group"},
		{ent(s("user"), s("")), op(quotaProducerByteRate, 1), "Empty user not supported"},
		{ent(s("user"), s("a"), s("ip"), s("127.0.0.1")), op(quotaProducerByteRate, 1), "Invalid quota entity combination, IP entity should not be used with user/client ID entity."},
		{ent(s("ip"), s("not a host!")), op(quotaConnectionCreationRate, 1), "not a host! is not a valid IP or resolvable host."},
		{ent(s("user"), s("a")), op("unknown_rate", 1), "Invalid configuration key unknown_rate"},
		{ent(s("user"), s("a")), op(quotaConnectionCreationRate, 1), "Invalid configuration key connection_creation_rate"},
		{ent(s("ip"), nil), op(quotaProducerByteRate, 1), "Invalid configuration key producer_byte_rate"},
		{ent(s("client-id"), s("c")), op(quotaProducerByteRate, 1.5), "Configuration producer_byte_rate must be a LONG value"},
		{ent(s("ip"), s("127.0.0.1")), op(quotaConnectionCreationRate, 2.5), "Configuration connection_creation_rate must be a INT value"},
	} {
		e := kmsg.NewAlterClientQuotasRequestEntry()
		e.Entity, e.Ops = tc.entity, []kmsg.AlterClientQuotasRequestEntryOp{tc.op}
		_, aerr := parseQuotaAlteration(e)
		if aerr == nil || aerr.code != errInvalidRequest || aerr.msg != tc.want {
			t.Errorf("%v %s: got %+v, want INVALID_REQUEST %q", tc.entity, tc.op.Key, aerr, tc.want)
		}
	}
	// Removing any key is accepted; request_percentage takes fractions.
	e := kmsg.NewAlterClientQuotasRequestEntry()
	e.Entity = ent(s("user"), nil, s("client-id"), s("c"))
	rm := kmsg.NewAlterClientQuotasRequestEntryOp()
	rm.Key, rm.Remove = "whatever", true
	e.Ops = []kmsg.AlterClientQuotasRequestEntryOp{rm, op(quotaRequestPercentage, 12.5), op(quotaProducerByteRate, 1024)}
	alt, aerr := parseQuotaAlteration(e)
	if aerr != nil || alt.entity != (quotaEntity{user: defaultQuota, client: namedQuota("c")}) || len(alt.ops) != 3 || alt.ops[1].value != 12.5 {
		t.Fatalf("valid alteration: %+v %+v", alt, aerr)
	}
}

// Describe filters as Kafka's: EXACT, DEFAULT, ANY, absent components and
// strict.
func TestDescribeQuotaFilter(t *testing.T) {
	alice, app := namedQuota("alice"), namedQuota("app")
	table := quotaTable{
		{user: alice}:                            {quotaProducerByteRate: 1},
		{user: defaultQuota}:                     {quotaProducerByteRate: 2},
		{user: alice, client: app}:               {quotaProducerByteRate: 3},
		{client: app}:                            {quotaProducerByteRate: 4},
		{client: defaultQuota}:                   {quotaProducerByteRate: 5},
		{user: defaultQuota, client: app}:        {quotaProducerByteRate: 6},
		{ip: namedQuota("10.0.0.1")}:             {quotaConnectionCreationRate: 7},
		{user: namedQuota("scram-only")}:         {"SCRAM-SHA-256": 0}, // not a quota key: never listed
		{user: namedQuota("bob"), client: app}:   {quotaConsumerByteRate: 8},
		{user: namedQuota("zed"), client: alice}: {quotaRequestPercentage: 9},
	}
	comp := func(typ string, mt int8, name *string) kmsg.DescribeClientQuotasRequestComponent {
		c := kmsg.NewDescribeClientQuotasRequestComponent()
		c.EntityType, c.MatchType, c.Match = typ, kmsg.QuotasMatchType(mt), name
		return c
	}
	values := func(comps []kmsg.DescribeClientQuotasRequestComponent, strict bool) []float64 {
		u, c, ip, aerr := parseQuotaFilter(comps)
		if aerr != nil {
			t.Fatalf("filter refused: %+v", aerr)
		}
		var out []float64
		for _, e := range describeQuotaEntries(table, u, c, ip, strict) {
			for _, v := range e.Values {
				out = append(out, v.Value)
			}
		}
		return out
	}
	s := kmsg.StringPtr
	for _, tc := range []struct {
		name   string
		comps  []kmsg.DescribeClientQuotasRequestComponent
		strict bool
		want   []float64
	}{
		{"exact user, not strict", []kmsg.DescribeClientQuotasRequestComponent{comp("user", 0, s("alice"))}, false, []float64{1, 3}},
		{"exact user, strict", []kmsg.DescribeClientQuotasRequestComponent{comp("user", 0, s("alice"))}, true, []float64{1}},
		{"default user, strict", []kmsg.DescribeClientQuotasRequestComponent{comp("user", 1, nil)}, true, []float64{2}},
		{"default user, not strict", []kmsg.DescribeClientQuotasRequestComponent{comp("user", 1, nil)}, false, []float64{2, 6}},
		{"any user, strict", []kmsg.DescribeClientQuotasRequestComponent{comp("user", 2, nil)}, true, []float64{1, 2}},
		{"any user + exact client", []kmsg.DescribeClientQuotasRequestComponent{comp("user", 2, nil), comp("client-id", 0, s("app"))}, true, []float64{3, 8, 6}},
		{"exact client, strict", []kmsg.DescribeClientQuotasRequestComponent{comp("client-id", 0, s("app"))}, true, []float64{4}},
		{"nothing, not strict", nil, false, []float64{1, 3, 8, 6, 2, 9, 4, 5, 7}},
		{"nothing, strict", nil, true, nil},
		{"any ip", []kmsg.DescribeClientQuotasRequestComponent{comp("ip", 2, nil)}, false, []float64{7}},
	} {
		got := values(tc.comps, tc.strict)
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			continue
		}
		seen := map[float64]int{}
		for _, v := range got {
			seen[v]++
		}
		for _, v := range tc.want {
			if seen[v] != 1 {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
	for _, tc := range []struct {
		comps []kmsg.DescribeClientQuotasRequestComponent
		code  int16
		msg   string
	}{
		{[]kmsg.DescribeClientQuotasRequestComponent{comp("user", 2, nil), comp("user", 1, nil)}, errInvalidRequest, "Duplicate user filter component entity type"},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp("client-id", 2, nil), comp("client-id", 1, nil)}, errInvalidRequest, "Duplicate client filter component entity type"},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp("user", 2, nil), comp("ip", 2, nil)}, errInvalidRequest, "Invalid entity filter component combination, IP filter component should not be used with user or clientId filter component."},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp("", 2, nil)}, errInvalidRequest, "Unexpected empty filter component entity type"},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp("group", 2, nil)}, errUnsupportedVersion, "Custom entity type 'group' not supported"},
	} {
		_, _, _, aerr := parseQuotaFilter(tc.comps)
		if aerr == nil || aerr.code != tc.code || aerr.msg != tc.msg {
			t.Errorf("filter %v: got %+v, want %d %q", tc.comps, aerr, tc.code, tc.msg)
		}
	}
}
