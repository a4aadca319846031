package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// listedAlsoBy makes broker node answer like a coordinator that lost group and has not unloaded it
// yet: its ListGroups names the group as Stable, and its DescribeGroups and OffsetFetch answer
// NOT_COORDINATOR.
func listedAlsoBy(kc *kfake.Cluster, node int32, group string) {
	control := func(key kmsg.Key, answer func(kmsg.Request) kmsg.Response) {
		kc.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
			kc.KeepControl()
			if kc.CurrentNode() != node {
				return nil, nil, false
			}
			return answer(req), nil, true
		})
	}
	control(kmsg.ListGroups, func(req kmsg.Request) kmsg.Response {
		resp := req.(*kmsg.ListGroupsRequest).ResponseKind().(*kmsg.ListGroupsResponse)
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState = group, "consumer", "Stable"
		resp.Groups = append(resp.Groups, lg)
		return resp
	})
	control(kmsg.DescribeGroups, func(req kmsg.Request) kmsg.Response {
		r := req.(*kmsg.DescribeGroupsRequest)
		resp := r.ResponseKind().(*kmsg.DescribeGroupsResponse)
		for _, g := range r.Groups {
			d := kmsg.NewDescribeGroupsResponseGroup()
			d.Group, d.ErrorCode = g, kerr.NotCoordinator.Code
			resp.Groups = append(resp.Groups, d)
		}
		return resp
	})
	control(kmsg.OffsetFetch, func(req kmsg.Request) kmsg.Response {
		r := req.(*kmsg.OffsetFetchRequest)
		resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
		resp.ErrorCode = kerr.NotCoordinator.Code
		for _, g := range r.Groups {
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group, rg.ErrorCode = g.Group, kerr.NotCoordinator.Code
			resp.Groups = append(resp.Groups, rg)
		}
		return resp
	})
}

// The groups list, the group page and the offset reset read a group from one place, the
// snapshot's single entry for it taken from its coordinator: while another broker still lists the
// group, the list shows it once, the page's state and members are the coordinator's, and executing
// a reset is refused exactly when the page says the group is active, naming the same state and
// members.
func TestGroupPageAndResetAgree(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	prod, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := prod.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	prod.Close()
	cons, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.ConsumeTopics("orders"), kgo.ConsumerGroup("ledger"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	for got := 0; got < 10; {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		fs := cons.PollFetches(fctx)
		timedOut := fctx.Err() != nil
		cancel()
		if timedOut {
			t.Fatalf("consumed %d of 10", got)
		}
		got += fs.NumRecords()
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	coord := e.kc.CoordinatorFor("ledger")
	listedAlsoBy(e.kc, (coord+1)%3, "ledger")

	// page polls until the group page satisfies want and returns it.
	page := func(want func(map[string]any) error) map[string]any {
		t.Helper()
		var page map[string]any
		testenv.WaitFor(t, 15*time.Second, func() error {
			e.poll()
			code, body := e.call("GET", "/api/v1/clusters/fake/groups/ledger", "", nil)
			if code != 200 {
				return fmt.Errorf("group page: status %d: %v", code, body)
			}
			if err := want(body); err != nil {
				return fmt.Errorf("group page: %w", err)
			}
			page = body
			return nil
		})
		return page
	}
	listedOnce := func() {
		t.Helper()
		code, body := e.call("GET", "/api/v1/clusters/fake/groups?search=ledger", "", nil)
		if code != 200 || len(items(body)) != 1 || body["total"] != float64(1) {
			t.Fatalf("groups list: %d %v, want the group once", code, body)
		}
		if row := items(body)[0]; row["coordinator"] != float64(coord) {
			t.Fatalf("groups list row %v, want coordinator %d", row, coord)
		}
	}

	active := page(func(b map[string]any) error {
		if b["members"] != float64(1) || b["state"] != "Stable" || b["active"] != true || b["coordinator"] != float64(coord) {
			return fmt.Errorf("page %v, want 1 member, Stable, active, coordinator %d", b, coord)
		}
		return nil
	})
	listedOnce()
	code, body := e.call("POST", "/api/v1/clusters/fake/groups/ledger/offsets", testToken, map[string]any{"strategy": "earliest"})
	msg := fmt.Sprint(body["error"])
	if code != 409 || errorCode(body) != "group_active" || !strings.Contains(msg, fmt.Sprint(active["state"])) || !strings.Contains(msg, "1 member") {
		t.Fatalf("reset while the page says %s with 1 member: %d %v", active["state"], code, body)
	}

	cons.Close() // leaves the group
	page(func(b map[string]any) error {
		if b["members"] != float64(0) || b["state"] != "Empty" || b["active"] != false || b["coordinator"] != float64(coord) {
			return fmt.Errorf("page %v, want 0 members, Empty, not active, coordinator %d", b, coord)
		}
		return nil
	})
	listedOnce()
	if code, body := e.call("POST", "/api/v1/clusters/fake/groups/ledger/offsets", testToken, map[string]any{"strategy": "earliest"}); code != 200 {
		t.Fatalf("reset while the page says Empty: %d %v", code, body)
	}
}
