package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/store"
)

// A long range read from rollups reaches the newest raw point: rollups are written minutes (1-minute)
// to an hour (hourly) after their bucket, and the rest of the window comes from finer steps.
func TestSeriesFromRollupsReachNewestRawPoint(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	var b store.Batch
	for ts := now.Add(-3 * time.Hour); !ts.After(now); ts = ts.Add(15 * time.Second) {
		b.Clusters = append(b.Clusters, store.ClusterPoint{Cluster: "fake", Ts: ts.Unix(), Brokers: 3, BrokersUp: 3, MsgsPerSec: 2, BytesPerSec: 200})
	}
	if err := e.st.WriteBatch(ctx, &b); err != nil {
		t.Fatal(err)
	}
	// The rollups ran four minutes ago: 1-minute buckets end 5.5 to 6.5 minutes back, 5-minute and
	// hourly ones further.
	if _, err := e.st.Rollup(ctx, now.Add(-4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	window := fmt.Sprintf("from=%d&to=%d", now.Add(-6*time.Hour).Unix(), now.Unix())
	_, body := e.call("GET", "/api/v1/clusters/fake/metrics/cluster?step=raw&"+window, "", nil)
	raw := items(body)
	if len(raw) == 0 {
		t.Fatalf("no raw points: %v", body)
	}
	newest := raw[len(raw)-1]["ts"].(float64)
	if newest < float64(now.Unix()) {
		t.Fatalf("newest raw point %v, want at least %d", newest, now.Unix())
	}
	for _, step := range []string{"1m", "5m", "1h"} {
		code, body := e.call("GET", "/api/v1/clusters/fake/metrics/cluster?step="+step+"&"+window, "", nil)
		if code != 200 {
			t.Fatalf("step %s = %d %v", step, code, body)
		}
		if body["from"] != float64(now.Add(-6*time.Hour).Unix()) || body["to"] != float64(now.Unix()) {
			t.Errorf("step %s: window %v to %v, want the one asked for", step, body["from"], body["to"])
		}
		pts := items(body)
		if len(pts) == 0 {
			t.Fatalf("step %s: no points", step)
		}
		if last := pts[len(pts)-1]["ts"].(float64); last != newest {
			t.Errorf("step %s: last point at %v, %v s before the newest raw point", step, last, newest-last)
		}
		// Filled, not doubled: times strictly increase, and the rollup part is still there.
		rollups := 0
		for i, p := range pts {
			ts := p["ts"].(float64)
			if i > 0 && ts <= pts[i-1]["ts"].(float64) {
				t.Fatalf("step %s: point %d at %v after %v", step, i, ts, pts[i-1]["ts"])
			}
			if int64(ts)%60 == 0 && ts < newest-6*60 {
				rollups++
			}
		}
		if rollups == 0 {
			t.Errorf("step %s: no rollup points in %d points", step, len(pts))
		}
	}
}
