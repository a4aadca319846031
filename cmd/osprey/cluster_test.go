package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/supervisor"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// lockedBuffer is a bytes.Buffer a running command writes while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// `osprey cluster up --kraft --controllers 1 --in-process` runs a broker-only
// node and a controller-only node; `cluster status` shows each node's roles
// and the cluster id; the flags that do not go together are refused.
func TestClusterUpKRaft(t *testing.T) {
	for _, bad := range [][]string{
		{"cluster", "up", "--controllers", "1"},
		{"cluster", "up", "--kraft", "--zookeeper", "127.0.0.1:2181"},
	} {
		if out, err := run(t, append(bad, "--data-dir", t.TempDir())...); err == nil {
			t.Fatalf("%v accepted: %s", bad, out)
		}
	}
	dir := t.TempDir()
	root := newRootCmd()
	var out lockedBuffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"cluster", "up", "--kraft", "--brokers", "1", "--controllers", "1", "--in-process",
		"--data-dir", dir, "--property", "broker.session.timeout.ms=3000", "--property", "offsets.topic.num.partitions=1"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	testenv.WaitFor(t, 90*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("cluster up returned %v:\n%s", err, out.String())
		default:
		}
		if !strings.Contains(out.String(), "bootstrap servers:") {
			return fmt.Errorf("cluster up printed %q", out.String())
		}
		return nil
	})
	if !strings.Contains(out.String(), "KRaft, 1 controllers") {
		t.Fatalf("cluster up output:\n%s", out.String())
	}
	status, err := run(t, "cluster", "status", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := supervisor.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(status, "\n")
	wantRow := func(prefix string) {
		t.Helper()
		for _, l := range lines {
			if strings.HasPrefix(strings.Join(strings.Fields(l), " "), prefix) {
				return
			}
		}
		t.Fatalf("status has no row %q:\n%s", prefix, status)
	}
	wantRow("NODE ROLES STATE ADDRESS CONTROLLER LISTENER")
	wantRow("1 broker running " + st.Brokers[0].Addr + " -")
	wantRow("101 controller running " + st.Brokers[1].Addr + " " + st.Brokers[1].ControllerAddr)
	if !strings.Contains(status, "kraft: cluster id "+st.ClusterID) || st.ClusterID == "" {
		t.Fatalf("status does not show the cluster id %q:\n%s", st.ClusterID, status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("cluster up: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("cluster up did not stop")
	}
}
