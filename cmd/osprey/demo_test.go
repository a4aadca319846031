package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/broker/supervisor"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// The demo traffic runs kafka-go's clients against Osprey's runtime: records arrive in both topics, and
// both groups are stable with members that name themselves osprey-demo and commit offsets. Stop ends
// the clients, and the groups lose their members.
func TestDemoTrafficOnRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sup, err := supervisor.New(supervisor.Options{Brokers: 1, DataDir: t.TempDir(), Logger: quiet,
		Properties: map[string]string{"group.initial.rebalance.delay.ms": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.Close() })
	if err := sup.Start(ctx); err != nil {
		t.Fatal(err)
	}
	bootstrap := strings.Split(sup.BootstrapServers(), ",")
	ac, err := admin.New(admin.Config{Name: "demo", Bootstrap: bootstrap}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })

	d := &demoTraffic{log: quiet, seeds: func() []string { return bootstrap }}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = d.Stop(context.Background())
		}
	})
	groups := []string{"demo-billing", "demo-analytics"}
	// describe is the demo groups' state as their coordinator tells it.
	describe := func() (map[string]admin.GroupDescription, error) {
		co, cerrs, err := ac.FindCoordinators(ctx, groups)
		if err != nil {
			return nil, err
		}
		out := map[string]admin.GroupDescription{}
		for _, g := range groups {
			if cerrs[g] != nil {
				return nil, fmt.Errorf("coordinator of %s: %w", g, cerrs[g])
			}
			ds, err := ac.DescribeGroups(ctx, co[g], []string{g})
			if err != nil {
				return nil, err
			}
			out[g] = ds[0]
		}
		return out, nil
	}
	testenv.WaitFor(t, 60*time.Second, func() error {
		md, err := ac.Metadata(ctx, []string{"demo.orders", "demo.payments"})
		if err != nil {
			return err
		}
		end := ac.ListOffsets(ctx, md, nil, admin.OffsetLatest)
		for _, topic := range []string{"demo.orders", "demo.payments"} {
			var n int64
			for _, o := range end.Offsets[topic] {
				n += max(o, 0)
			}
			if n == 0 {
				return fmt.Errorf("no records in %s yet", topic)
			}
		}
		ds, err := describe()
		if err != nil {
			return err
		}
		for _, g := range groups {
			d := ds[g]
			if d.Err != nil || d.State != "Stable" || len(d.Members) != 1 {
				return fmt.Errorf("group %s: state %q, %d members, err %v", g, d.State, len(d.Members), d.Err)
			}
			if id := d.Members[0].ClientID; id != demoClientID {
				return fmt.Errorf("group %s: member's client id %q, want %q", g, id, demoClientID)
			}
			co, _, err := ac.FindCoordinators(ctx, []string{g})
			if err != nil {
				return err
			}
			offs, err := ac.FetchOffsets(ctx, co[g], []string{g})
			if err != nil {
				return err
			}
			if len(offs) != 1 || len(offs[0].Offsets["demo.orders"]) == 0 {
				return fmt.Errorf("group %s has committed no offsets of demo.orders yet", g)
			}
		}
		return nil
	})

	stopCtx, stopCancel := context.WithTimeout(ctx, 30*time.Second)
	defer stopCancel()
	if err := d.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	stopped = true
	testenv.WaitFor(t, 30*time.Second, func() error {
		ds, err := describe()
		if err != nil {
			return err
		}
		for _, g := range groups {
			if n := len(ds[g].Members); n != 0 {
				return fmt.Errorf("group %s still has %d members after Stop", g, n)
			}
		}
		return nil
	})
}
