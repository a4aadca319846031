package collector

import (
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// staleCoordinator makes broker node behave as a coordinator that has lost a
// group and not unloaded it yet: its ListGroups names the group, and its
// DescribeGroups and OffsetFetch for it answer NOT_COORDINATOR.
func staleCoordinator(kc *kfake.Cluster, node int32, group string) {
	kc.ControlKey(int16(kmsg.ListGroups), func(req kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		if kc.CurrentNode() != node {
			return nil, nil, false
		}
		resp := req.(*kmsg.ListGroupsRequest).ResponseKind().(*kmsg.ListGroupsResponse)
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState = group, "consumer", "Empty"
		resp.Groups = append(resp.Groups, lg)
		return resp, nil, true
	})
	kc.ControlKey(int16(kmsg.DescribeGroups), func(req kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		if kc.CurrentNode() != node {
			return nil, nil, false
		}
		return notCoordinator(req), nil, true
	})
	kc.ControlKey(int16(kmsg.OffsetFetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		if kc.CurrentNode() != node {
			return nil, nil, false
		}
		return notCoordinator(req), nil, true
	})
}

// notCoordinator answers a DescribeGroups or OffsetFetch request with
// NOT_COORDINATOR for every group in it.
func notCoordinator(req kmsg.Request) kmsg.Response {
	code := kerr.NotCoordinator.Code
	switch r := req.(type) {
	case *kmsg.DescribeGroupsRequest:
		resp := r.ResponseKind().(*kmsg.DescribeGroupsResponse)
		for _, g := range r.Groups {
			d := kmsg.NewDescribeGroupsResponseGroup()
			d.Group, d.ErrorCode = g, code
			resp.Groups = append(resp.Groups, d)
		}
		return resp
	case *kmsg.OffsetFetchRequest:
		resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
		resp.ErrorCode = code
		for _, g := range r.Groups {
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group, rg.ErrorCode = g.Group, code
			resp.Groups = append(resp.Groups, rg)
		}
		return resp
	}
	panic("unexpected request")
}

// A group that two brokers list (its old coordinator has not unloaded it
// yet) is taken from its current coordinator and shown once, with its lag
// counted once and no error.
func TestGroupListedByTwoBrokersAppearsOnce(t *testing.T) {
	e := newTestCollector(t, Config{}, kfake.SeedTopics(1, "c"))
	ctx := testCtx(t)
	e.produce(t, "c", map[int32]int{0: 9})
	if _, err := e.ac.CommitOffsets(ctx, "moved", map[string]map[int32]int64{"c": {0: 2}}); err != nil {
		t.Fatal(err)
	}
	coord := e.kc.CoordinatorFor("moved")
	staleCoordinator(e.kc, (coord+1)%3, "moved")

	s := e.col.PollNow(ctx)
	var found []Group
	for _, g := range s.Groups {
		if g.Name == "moved" {
			found = append(found, g)
		}
	}
	if len(found) != 1 {
		t.Fatalf("group listed %d times: %+v", len(found), found)
	}
	if g := found[0]; g.Coordinator != coord || g.TotalLag != 7 || g.State != "Empty" {
		t.Fatalf("group %+v, want coordinator %d, lag 7, Empty", g, coord)
	}
	if s.Totals.Groups != 1 || s.Totals.Lag != 7 {
		t.Fatalf("totals: %d groups, lag %d; want 1 and 7", s.Totals.Groups, s.Totals.Lag)
	}
	if s.Cluster.Partial {
		t.Fatalf("partial data: %+v", s.Cluster.Errors)
	}
}

// A NOT_COORDINATOR answer (the coordinator moved between FindCoordinator and
// the request) makes the collector find the coordinator again and retry in
// the same poll, with no partial-data error.
func TestNotCoordinatorAnswerIsRetried(t *testing.T) {
	e := newTestCollector(t, Config{}, kfake.SeedTopics(1, "c"))
	ctx := testCtx(t)
	e.produce(t, "c", map[int32]int{0: 9})
	if _, err := e.ac.CommitOffsets(ctx, "hopping", map[string]map[int32]int64{"c": {0: 4}}); err != nil {
		t.Fatal(err)
	}
	coord := e.kc.CoordinatorFor("hopping")
	// One answer each (a control function that handles a request is
	// dropped): the retry reaches the real handler.
	var describes, fetches atomic.Int32
	e.kc.ControlKey(int16(kmsg.DescribeGroups), func(req kmsg.Request) (kmsg.Response, error, bool) {
		describes.Add(1)
		return notCoordinator(req), nil, true
	})
	e.kc.ControlKey(int16(kmsg.OffsetFetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fetches.Add(1)
		return notCoordinator(req), nil, true
	})

	s := e.col.PollNow(ctx)
	if d, f := describes.Load(), fetches.Load(); d != 1 || f != 1 {
		t.Fatalf("NOT_COORDINATOR answers given: describe %d, offset fetch %d; want 1 each", d, f)
	}
	g, _ := s.Group("hopping")
	if g == nil || g.Coordinator != coord || g.TotalLag != 5 || g.State != "Empty" {
		t.Fatalf("group %+v, want coordinator %d, lag 5, Empty", g, coord)
	}
	if s.Cluster.Partial {
		t.Fatalf("partial data after a retried NOT_COORDINATOR: %+v", s.Cluster.Errors)
	}
}
