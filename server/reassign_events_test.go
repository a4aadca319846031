package server

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/server/service"
)

// TestReassignmentEventsReachTheStream runs a reassignment through the API with a browser's event stream
// open: the stream says it started, and says it completed once the server has recorded the completion
// (the row reads completed when the event arrives), so pages need not reload to see it.
func TestReassignmentEventsReachTheStream(t *testing.T) {
	f, ts := newEventsFixture(t, time.Second)
	f.fakeController(t, false)
	c := openStream(t, ts.URL)
	base := "/api/v1/clusters/fake/reassignments"
	code, plan := opsCall(t, f.h, "POST", base+"/plan", opsTestToken, `{"topics":["payments"],"brokers":[0,1],"replicationFactor":2}`)
	if code != 200 {
		t.Fatalf("plan = %d %v", code, plan)
	}
	pb, _ := json.Marshal(plan)
	code, body := opsCall(t, f.h, "POST", base, opsTestToken, `{"plan":`+string(pb)+`}`)
	if code != 202 {
		t.Fatalf("execute = %d %v", code, body)
	}
	id := body["id"].(float64)
	ev := c.nextNamed("reassignment", 5*time.Second)
	if ev["kind"] != service.ReassignEventStarted || ev["cluster"] != "fake" || ev["id"] != id || ev["state"] != service.ReassignRunning || ev["total"] != float64(4) {
		t.Fatalf("first reassignment event = %v", ev)
	}
	// Kafka has finished, but the snapshot still shows the old replicas: not completed yet.
	if code, body := opsCall(t, f.h, "GET", base, "", ""); code != 200 {
		t.Fatalf("view = %d %v", code, body)
	}
	if ev := c.nextNamed("reassignment", 5*time.Second); ev["kind"] != service.ReassignEventProgress || ev["remaining"] != float64(4) {
		t.Fatalf("before a poll: %v", ev)
	}
	if _, err := f.svc.PollNow(context.Background(), "fake"); err != nil {
		t.Fatal(err)
	}
	if code, body := opsCall(t, f.h, "GET", base, "", ""); code != 200 {
		t.Fatalf("view = %d %v", code, body)
	}
	ev = c.nextNamed("reassignment", 5*time.Second)
	if ev["kind"] != service.ReassignEventCompleted || ev["id"] != id || ev["state"] != service.ReassignCompleted {
		t.Fatalf("after the poll: %v", ev)
	}
	rows, err := f.st.Reassignments(context.Background(), "fake", 10)
	if err != nil || len(rows) != 1 || rows[0].State != service.ReassignCompleted || rows[0].FinishedAt == nil {
		t.Fatalf("rows = %+v, %v", rows, err)
	}
}
