package server

import (
	"context"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The dashboard's totals and the topics list follow one rule: internal topics are left out unless
// asked for (internal=true), and either way the cluster's totals are the sums of the rows listed.
func TestTotalsAgreeWithTopicList(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	const internalTopic = "__offsets_demo"
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, internalTopic); err != nil {
		t.Fatal(err)
	}
	yes := "true"
	if _, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "kfake.is_internal", Value: &yes}}, internalTopic); err != nil {
		t.Fatal(err)
	}
	produce := func() {
		var recs []*kgo.Record
		for i := 0; i < 10; i++ {
			recs = append(recs, &kgo.Record{Topic: "orders", Value: []byte("o")}, &kgo.Record{Topic: internalTopic, Value: []byte("i")})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce()
	e.poll()
	produce()
	e.poll() // rates from these two polls, for both topics

	for _, internal := range []bool{false, true} {
		q := ""
		if internal {
			q = "?internal=true"
		}
		code, sum := e.call("GET", "/api/v1/clusters/fake"+q, "", nil)
		if code != 200 {
			t.Fatalf("cluster%s = %d %v", q, code, sum)
		}
		code, list := e.call("GET", "/api/v1/clusters/fake/topics"+q, "", nil)
		if code != 200 {
			t.Fatalf("topics%s = %d %v", q, code, list)
		}
		var msgs, bytes, parts float64
		sawInternal := false
		for _, row := range items(list) {
			msgs += row["msgsPerSec"].(float64)
			bytes += row["bytesPerSec"].(float64)
			parts += row["partitions"].(float64)
			sawInternal = sawInternal || row["internal"] == true
		}
		if sawInternal != internal {
			t.Errorf("internal=%v: topic list shows an internal topic: %v", internal, sawInternal)
		}
		if sum["internalIncluded"] != internal || sum["topics"] != list["total"] || sum["partitions"] != parts {
			t.Errorf("internal=%v: summary says %v topics, %v partitions (internal included %v); the list %v topics, %v partitions",
				internal, sum["topics"], sum["partitions"], sum["internalIncluded"], list["total"], parts)
		}
		if m := sum["msgsPerSec"].(float64); msgs <= 0 || math.Abs(m-msgs) > 1e-6 {
			t.Errorf("internal=%v: summary %.3f msg/s, topic rows sum to %.3f", internal, m, msgs)
		}
		if b := sum["bytesPerSec"].(float64); math.Abs(b-bytes) > 1e-6 {
			t.Errorf("internal=%v: summary %.3f B/s, topic rows sum to %.3f", internal, b, bytes)
		}
		in, _ := sum["internal"].(map[string]any)
		if in == nil || in["topics"] != float64(1) || in["partitions"] != float64(2) || in["msgsPerSec"].(float64) <= 0 {
			t.Errorf("internal=%v: internal share %v, want 1 topic, 2 partitions, a rate", internal, in)
		}
		// The cluster list follows the same rule.
		_, all := e.call("GET", "/api/v1/clusters"+q, "", nil)
		if rows := items(all); len(rows) != 1 || rows[0]["topics"] != sum["topics"] || rows[0]["msgsPerSec"] != sum["msgsPerSec"] {
			t.Errorf("internal=%v: cluster list %v, summary %v topics %v msg/s", internal, rows, sum["topics"], sum["msgsPerSec"])
		}
	}
	if code, body := e.call("GET", "/api/v1/clusters/fake?internal=maybe", "", nil); code != 400 {
		t.Errorf("internal=maybe = %d %v, want 400", code, body)
	}
}
