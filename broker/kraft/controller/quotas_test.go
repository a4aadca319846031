package controller

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
)

func quotaEntry(ops []kmsg.AlterClientQuotasRequestEntryOp, kv ...*string) kmsg.AlterClientQuotasRequestEntry {
	e := kmsg.NewAlterClientQuotasRequestEntry()
	for i := 0; i < len(kv); i += 2 {
		d := kmsg.NewAlterClientQuotasRequestEntryEntity()
		d.Type, d.Name = *kv[i], kv[i+1]
		e.Entity = append(e.Entity, d)
	}
	e.Ops = ops
	return e
}

func quotaOp(key string, v float64, remove bool) kmsg.AlterClientQuotasRequestEntryOp {
	o := kmsg.NewAlterClientQuotasRequestEntryOp()
	o.Key, o.Value, o.Remove = key, v, remove
	return o
}

func TestAlterClientQuotas(t *testing.T) {
	h := newHarness(t, testConfig(), 0)
	s := kmsg.StringPtr
	req := kmsg.NewPtrAlterClientQuotasRequest()
	set := []kmsg.AlterClientQuotasRequestEntryOp{quotaOp("producer_byte_rate", 1024, false), quotaOp("request_percentage", 12.5, false)}
	req.Entries = append(req.Entries,
		quotaEntry(set, s("user"), s("alice")),
		quotaEntry([]kmsg.AlterClientQuotasRequestEntryOp{quotaOp("consumer_byte_rate", 2048, false)}, s("user"), nil, s("client-id"), s("app")),
		quotaEntry(nil),
		quotaEntry(set, s("user"), s("a"), s("user"), s("b")),
		quotaEntry(set, s("group"), s("g")),
		quotaEntry(set, s("client-id"), s("")),
		quotaEntry(set, s("ip"), s("127.0.0.1"), s("user"), s("a")),
		quotaEntry([]kmsg.AlterClientQuotasRequestEntryOp{quotaOp("connection_creation_rate", 1, false)}, s("ip"), s("not a host!")),
		quotaEntry([]kmsg.AlterClientQuotasRequestEntryOp{quotaOp("bogus", 1, false)}, s("user"), s("a")),
		quotaEntry([]kmsg.AlterClientQuotasRequestEntryOp{quotaOp("producer_byte_rate", 0, false)}, s("user"), s("a")),
		quotaEntry([]kmsg.AlterClientQuotasRequestEntryOp{quotaOp("producer_byte_rate", 1.5, false)}, s("user"), s("a")),
		quotaEntry([]kmsg.AlterClientQuotasRequestEntryOp{quotaOp("producer_byte_rate", 1, false), quotaOp("producer_byte_rate", 2, false)}, s("user"), s("a")),
	)
	resp, recs := h.handle(req)
	want := []string{"", "",
		"Invalid empty client quota entity",
		"Invalid client quota entity, duplicate entity entry user",
		"Unhandled client quota entity type: group",
		"Empty client-id not supported",
		"Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId",
		"not a host! is not a valid IP or resolvable host.",
		"Invalid configuration key bogus",
		"Quota producer_byte_rate must be greater than 0",
		"producer_byte_rate cannot be a fractional value.",
		"Duplicate quota key producer_byte_rate not updating quota for this entity ClientQuotaEntity(entries={user=a})",
	}
	entries := resp.(*kmsg.AlterClientQuotasResponse).Entries
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(entries), len(want))
	}
	for i, e := range entries {
		msg := ""
		if e.ErrorMessage != nil {
			msg = *e.ErrorMessage
		}
		if msg != want[i] || (want[i] != "") != (e.ErrorCode == kerr.InvalidRequest.Code) {
			t.Errorf("entry %d: %d %q, want %q", i, e.ErrorCode, msg, want[i])
		}
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	alice := image.QuotaEntity{User: image.QuotaName{Set: true, Name: "alice"}}
	if q := h.img.EntityQuotas(alice); q["producer_byte_rate"] != 1024 || q["request_percentage"] != 12.5 {
		t.Fatalf("alice's quotas %v", q)
	}

	// Setting the same value again writes nothing; removing writes a remove
	// record only for a key that is set; validate_only writes nothing.
	again := kmsg.NewPtrAlterClientQuotasRequest()
	again.Entries = append(again.Entries, quotaEntry([]kmsg.AlterClientQuotasRequestEntryOp{quotaOp("producer_byte_rate", 1024, false),
		quotaOp("request_percentage", 0, true), quotaOp("consumer_byte_rate", 0, true)}, s("user"), s("alice")))
	if _, recs := h.handle(again); len(recs) != 1 || len(h.img.EntityQuotas(alice)) != 1 {
		t.Fatalf("%d records, quotas %v", len(recs), h.img.EntityQuotas(alice))
	}
	vo := kmsg.NewPtrAlterClientQuotasRequest()
	vo.ValidateOnly = true
	vo.Entries = append(vo.Entries, quotaEntry(set, s("user"), s("bob")))
	if resp, recs := h.handle(vo); len(recs) != 0 || resp.(*kmsg.AlterClientQuotasResponse).Entries[0].ErrorCode != 0 {
		t.Fatalf("validate_only: %d records, %+v", len(recs), resp)
	}
}
