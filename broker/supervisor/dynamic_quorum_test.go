package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// dynamicNode is one `osprey broker --config` child process of the dynamic-quorum test.
type dynamicNode struct {
	id   int32
	conf string
	cmd  *exec.Cmd
}

// A dynamic KRaft quorum (KIP-853) with the osprey binary, as an operator builds one:
// `osprey storage format --standalone` for controller 101, `--no-initial-controllers` for
// 102-104 and the broker, every file with controller.quorum.bootstrap.servers and no
// controller.quorum.voters, each node an `osprey broker --config` process. `osprey quorum
// add-controller` through the broker makes 102 and 103 voters (DescribeQuorum: 3), adds 104
// and `remove-controller` takes it out again (4, then 3); the leader's process is SIGKILLed, a
// new leader among the voters takes over, and the topic and record written before are there.
func TestKRaftChildProcessDynamicQuorum(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var addrs []string
	for range 5 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		ln.Close()
	}
	osprey := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, ospreyBin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("osprey %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	clusterID := strings.TrimSpace(osprey("storage", "random-uuid"))
	nodes := map[int32]*dynamicNode{}
	write := func(id int32, roles, listeners string) *dynamicNode {
		p := filepath.Join(dir, fmt.Sprintf("node-%d.properties", id))
		var b strings.Builder
		fmt.Fprintf(&b, "process.roles=%s\nnode.id=%d\nlisteners=%s\ncontroller.listener.names=CONTROLLER\n", roles, id, listeners)
		fmt.Fprintf(&b, "controller.quorum.bootstrap.servers=%s\nlog.dirs=%s\n", addrs[1], filepath.Join(dir, fmt.Sprint(id)))
		for k, v := range kraftTestProperties() {
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		n := &dynamicNode{id: id, conf: p}
		nodes[id] = n
		return n
	}
	start := func(n *dynamicNode) {
		t.Helper()
		log, err := os.Create(n.conf + ".log")
		if err != nil {
			t.Fatal(err)
		}
		n.cmd = exec.Command(ospreyBin, "broker", "--config", n.conf)
		n.cmd.Stdout, n.cmd.Stderr = log, log
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			n.cmd.Process.Kill()
			n.cmd.Wait()
			log.Close()
			if t.Failed() {
				b, _ := os.ReadFile(n.conf + ".log")
				t.Logf("node %d log (tail):\n%s", n.id, lastBytes(string(b), 4000))
			}
		})
	}
	ctlIDs := []int32{101, 102, 103, 104}
	for i, id := range ctlIDs {
		n := write(id, "controller", "CONTROLLER://"+addrs[1+i])
		flag := "--no-initial-controllers"
		if i == 0 {
			flag = "--standalone"
		}
		osprey("storage", "format", "-t", clusterID, "-c", n.conf, flag)
	}
	b := write(1, "broker", "PLAINTEXT://"+addrs[0])
	osprey("storage", "format", "-t", clusterID, "-c", b.conf, "--no-initial-controllers")
	for _, id := range append(slices.Clone(ctlIDs), 1) {
		start(nodes[id])
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs[0]), kgo.DefaultProduceTopic("kept"), kgo.ConsumeTopics("kept"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	voters := func(want ...int32) (leader, epoch int32) {
		t.Helper()
		testenv.WaitFor(t, 60*time.Second, func() error {
			q, err := describeQuorum(ctx, cl, 1)
			if err != nil {
				return err
			}
			var got []int32
			for _, v := range q.CurrentVoters {
				got = append(got, v.ReplicaID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				return fmt.Errorf("voters %v (leader %d), want %v", got, q.LeaderID, want)
			}
			leader, epoch = q.LeaderID, q.LeaderEpoch
			return nil
		})
		return leader, epoch
	}
	voters(101)
	testenv.WaitFor(t, 60*time.Second, func() error {
		_, err := adm.CreateTopic(ctx, 1, 1, nil, "kept")
		return err
	})
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	quorum := func(args ...string) {
		t.Helper()
		osprey(append([]string{"quorum", "--bootstrap-server", addrs[0]}, args...)...)
	}
	quorum("add-controller", "--command-config", nodes[102].conf)
	quorum("add-controller", "--command-config", nodes[103].conf)
	voters(101, 102, 103)
	quorum("add-controller", "--command-config", nodes[104].conf)
	voters(101, 102, 103, 104)
	mp, err := metaprops.Read(filepath.Join(dir, "104"))
	if err != nil {
		t.Fatal(err)
	}
	quorum("remove-controller", "--controller-id", "104", "--controller-directory-id", mp.DirectoryID.String())
	leader, epoch := voters(101, 102, 103)

	if err := nodes[leader].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 60*time.Second, func() error {
		q, err := describeQuorum(ctx, cl, 1)
		if err != nil {
			return err
		}
		if q.LeaderID == leader || q.LeaderEpoch <= epoch || !slices.Contains(ctlIDs[:3], q.LeaderID) {
			return fmt.Errorf("leader %d in epoch %d, want another voter than the killed %d after epoch %d", q.LeaderID, q.LeaderEpoch, leader, epoch)
		}
		return nil
	})
	// The broker's heartbeats went to the killed leader; until one reaches the new leader the broker
	// may be fenced (broker.session.timeout.ms is 3 s here), and a topic has no broker to go on.
	testenv.WaitFor(t, 60*time.Second, func() error {
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, "after"); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return err
		}
		return nil
	})
	fetches := cl.PollFetches(ctx)
	if err := fetches.Err(); err != nil {
		t.Fatal(err)
	}
	if recs := fetches.Records(); len(recs) != 1 || string(recs[0].Value) != "before" {
		t.Fatalf("read back %d records from kept, want the one written before", len(recs))
	}
}

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
