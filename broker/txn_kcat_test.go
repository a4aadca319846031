package broker

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kcat (librdkafka) as a transactional producer. kcat 1.7 (Debian's 1.7.1, librdkafka 2.0) runs a
// whole -P session as one transaction when -X transactional.id is set: InitProducerId before the
// first message, one transaction over all of stdin, commit at end of input; it has no way to
// abort on request. So the commit is tested as kcat does it, and the abort as the coordinator does
// it when a transactional producer dies (kill -9) with its transaction open: after
// transaction.timeout.ms the coordinator aborts it and writes the abort markers.

// kcatConsume reads partition 0 of topic from the start to its end (-e) at an isolation level.
func kcatConsume(t *testing.T, ctx context.Context, addr, topic, isolation string) []kcatMsg {
	t.Helper()
	return parseKcatJSON(t, runKcat(t, ctx, "", "-b", addr, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-J",
		"-X", "isolation.level="+isolation))
}

func payloads(msgs []kcatMsg) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, m.Payload)
	}
	return out
}

// TestKcatTransactionalCommit: kcat -X transactional.id produces five records in one transaction
// and commits it at the end of its input; the coordinator lists the id as CompleteCommit, the log
// has the records plus one commit marker, and kcat at read_committed reads all five.
func TestKcatTransactionalCommit(t *testing.T) {
	b := newTestBroker(t, withTxnTest)
	ctx := testCtx(t, 90*time.Second)
	addr := b.Addr()
	createTopic(t, []string{addr}, "kc-txn", 1, 1)

	in := "k0:v0\nk1:v1\nk2:v2\nk3:v3\nk4:v4\n"
	runKcat(t, ctx, in, "-b", addr, "-P", "-t", "kc-txn", "-p", "0", "-K:", "-X", "transactional.id=kcat-commit")

	adm := kadm.NewClient(newKgo(t, addr))
	described, err := adm.DescribeTransactions(ctx, "kcat-commit")
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := described["kcat-commit"]; !ok || d.Err != nil || d.State != "CompleteCommit" {
		t.Fatalf("DescribeTransactions: %+v", described)
	}
	// Five records and the commit marker: the last stable offset is the high watermark.
	if hw, lso := endOffsets(t, []string{addr}, "kc-txn", false)[0], endOffsets(t, []string{addr}, "kc-txn", true)[0]; hw != 6 || lso != 6 {
		t.Fatalf("high watermark %d, last stable offset %d; want 6 and 6", hw, lso)
	}
	got := payloads(kcatConsume(t, ctx, addr, "kc-txn", "read_committed"))
	if strings.Join(got, ",") != "v0,v1,v2,v3,v4" {
		t.Fatalf("kcat read_committed: %v", got)
	}
}

// TestKcatTransactionalAbortOnTimeout: kcat produces records in a transaction and is killed (-9)
// before its input ends; the records hold the last stable offset until the coordinator aborts the
// transaction after transaction.timeout.ms and writes the abort marker. Then kcat at
// read_committed reads none of them and at read_uncommitted all of them.
func TestKcatTransactionalAbortOnTimeout(t *testing.T) {
	b := newTestBroker(t, withTxnTest)
	ctx := testCtx(t, 90*time.Second)
	addr := b.Addr()
	seeds := []string{addr}
	createTopic(t, seeds, "kc-abort", 1, 1)

	cmd := exec.CommandContext(ctx, kcatPath(t), "-b", addr, "-P", "-t", "kc-abort", "-p", "0", "-K:",
		"-X", "transactional.id=kcat-abort", "-X", "transaction.timeout.ms=2000", "-X", "linger.ms=0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// kcat reads its input in large blocks: write until some of it has reached the log. stdin stays
	// open, so kcat never commits.
	line := strings.Repeat("k:"+strings.Repeat("v", 100)+"\n", 1000)
	testenv.WaitFor(t, 30*time.Second, func() error {
		if _, err := io.WriteString(stdin, line); err != nil {
			return fmt.Errorf("writing to kcat: %w", err)
		}
		hw, lso := endOffsets(t, seeds, "kc-abort", false)[0], endOffsets(t, seeds, "kc-abort", true)[0]
		if hw == 0 || lso != 0 {
			return fmt.Errorf("high watermark %d, last stable offset %d; want records written and the LSO held at 0", hw, lso)
		}
		return nil
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// The coordinator aborts the transaction and writes the abort marker after the records.
	var hw int64
	testenv.WaitFor(t, 30*time.Second, func() error {
		hw = endOffsets(t, seeds, "kc-abort", false)[0]
		if lso := endOffsets(t, seeds, "kc-abort", true)[0]; lso != hw {
			return fmt.Errorf("last stable offset %d, high watermark %d: not aborted yet", lso, hw)
		}
		return nil
	})
	if got := kcatConsume(t, ctx, addr, "kc-abort", "read_committed"); len(got) != 0 {
		t.Fatalf("kcat read_committed read aborted records: %+v", got)
	}
	if got := kcatConsume(t, ctx, addr, "kc-abort", "read_uncommitted"); int64(len(got)) != hw-1 {
		t.Fatalf("kcat read_uncommitted read %d records, want the %d aborted ones", len(got), hw-1)
	}
}

func newKgo(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
