package image

import (
	"maps"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

func TestClientQuotaReplayAndRecords(t *testing.T) {
	mv := &metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: MetadataVersion35IV2}
	alice, app := "alice", "app"
	userAlice := []metadata.QuotaEntityData{{EntityType: "user", EntityName: &alice}}
	defaultUserApp := []metadata.QuotaEntityData{{EntityType: "client-id", EntityName: &app}, {EntityType: "user"}}
	im := build(t, mv,
		&metadata.ClientQuotaRecord{Entity: userAlice, QuotaKey: "producer_byte_rate", Value: 1024},
		&metadata.ClientQuotaRecord{Entity: userAlice, QuotaKey: "request_percentage", Value: 12.5},
		&metadata.ClientQuotaRecord{Entity: defaultUserApp, QuotaKey: "consumer_byte_rate", Value: 2048},
	)
	ea := QuotaEntity{User: QuotaName{Set: true, Name: "alice"}}
	ed := QuotaEntity{User: QuotaName{Set: true, Default: true}, ClientID: QuotaName{Set: true, Name: "app"}}
	if q := im.ClientQuotas(); len(q) != 2 || !maps.Equal(q[ea], map[string]float64{"producer_byte_rate": 1024, "request_percentage": 12.5}) ||
		!maps.Equal(q[ed], map[string]float64{"consumer_byte_rate": 2048}) {
		t.Fatalf("quotas: %v", q)
	}
	d := NewDelta(im)
	for _, r := range []*metadata.ClientQuotaRecord{
		{Entity: userAlice, QuotaKey: "producer_byte_rate", Remove: true},
		{Entity: defaultUserApp, QuotaKey: "consumer_byte_rate", Remove: true},
	} {
		if err := d.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	if !d.ClientQuotasChanged() {
		t.Fatal("ClientQuotasChanged false")
	}
	next := d.Apply()
	if q := next.ClientQuotas(); len(q) != 1 || !maps.Equal(q[ea], map[string]float64{"request_percentage": 12.5}) || len(im.ClientQuotas()) != 2 {
		t.Fatalf("after remove: %v (base %v)", q, im.ClientQuotas())
	}
	vrs, err := im.Records()
	if err != nil {
		t.Fatal(err)
	}
	var recs []metadata.Record
	for _, vr := range vrs {
		recs = append(recs, vr.Record)
	}
	if back := build(t, recs...); !back.Equal(im) {
		t.Fatalf("records do not rebuild the image: %v", back.ClientQuotas())
	}
	bad := NewDelta(im)
	if err := bad.Replay(&metadata.ClientQuotaRecord{Entity: []metadata.QuotaEntityData{{EntityType: "group"}}, QuotaKey: "x"}); err == nil {
		t.Fatal("unknown entity type replayed")
	}
}
