package supervisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// A broker whose only log dir fails halts as Kafka's does. In this process
// it stops alone (the test process, the console's in a real cluster, goes
// on) and the supervisor shows it failed with the reason; as a child
// process it exits with status 1 and a fatal line, which the supervisor
// shows as the reason.
func TestBrokerHaltsWhenItsLogDirFails(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full to fail writes with: %v", err)
	}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"in-process", Options{Brokers: 1}},
		{"child-process", Options{Brokers: 1, Mode: ChildProcess, KRaft: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestSupervisor(t, tc.opts)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapServers()), kgo.DefaultProduceTopic("full"),
				kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.RecordRetries(0),
				// Uncompressed, so each record fills most of a 1 KiB segment.
				kgo.ProducerBatchCompression(kgo.NoCompression()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, map[string]*string{"segment.bytes": kadm.StringPtr("1024")}, "full")
			if err == nil {
				err = resp.Err
			}
			if err != nil {
				t.Fatal(err)
			}
			big := bytes.Repeat([]byte{'v'}, 600)
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: big}).FirstErr(); err != nil {
				t.Fatalf("first produce: %v", err)
			}
			st := state(c, 1)
			// The next batch rolls into segment 1, which fails with ENOSPC.
			if err := os.Symlink("/dev/full", filepath.Join(st.DataDir, "full-0", fmt.Sprintf("%020d.log", 1))); err != nil {
				t.Fatal(err)
			}
			// KAFKA_STORAGE_ERROR, or the connection closed by the halt
			// before the answer left.
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: big}).FirstErr(); err == nil {
				t.Error("a produce onto the full disk succeeded")
			} else {
				t.Logf("produce onto the full disk: %v (KAFKA_STORAGE_ERROR: %v)", err, errors.Is(err, kerr.KafkaStorageError))
			}
			testenv.WaitFor(t, 30*time.Second, func() error {
				if s := state(c, 1); s.State != StateFailed {
					return fmt.Errorf("broker 1 is %s", s.State)
				}
				return nil
			})
			s := state(c, 1)
			if !strings.Contains(s.Error, "all log dirs") || !strings.Contains(s.Error, st.DataDir) {
				t.Errorf("the failed broker's error %q does not say its log dir failed", s.Error)
			}
			if Reachable(s.Addr) {
				t.Errorf("the halted broker still listens on %s", s.Addr)
			}
			if tc.opts.Mode == ChildProcess && !strings.Contains(s.Error, "exit status 1") {
				t.Errorf("the child's error %q, want exit status 1", s.Error)
			}
			// The operator frees the space and starts it again.
			if err := os.Remove(filepath.Join(st.DataDir, "full-0", fmt.Sprintf("%020d.log", 1))); err != nil {
				t.Fatal(err)
			}
			if err := c.StartBroker(ctx, 1); err != nil {
				t.Fatal(err)
			}
			var end int64
			testenv.WaitFor(t, 30*time.Second, func() error {
				ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, "full")
				if err != nil {
					return err
				}
				o, _ := ends.Lookup("full", 0)
				end = o.Offset
				return o.Err
			})
			if end != 1 {
				t.Fatalf("end offset after the restart %d, want 1 (the record written before the failure)", end)
			}
		})
	}
}
