package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// describeVoters asks the controllers at addrs (connecting with dial) for DescribeQuorum until
// one leads, and returns its voters, sorted.
func describeVoters(ctx context.Context, dial func(context.Context, string) (net.Conn, error), addrs []string) ([]int32, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, rt)
	var last error
	for _, a := range addrs {
		resp, err := roundTrip(ctx, dial, a, req)
		if err != nil {
			last = err
			continue
		}
		r := resp.(*kmsg.DescribeQuorumResponse)
		if r.ErrorCode != 0 || len(r.Topics) != 1 || len(r.Topics[0].Partitions) != 1 || r.Topics[0].Partitions[0].ErrorCode != 0 {
			last = fmt.Errorf("%s: %v", a, kerr.ErrorForCode(r.ErrorCode))
			continue
		}
		var ids []int32
		for _, v := range r.Topics[0].Partitions[0].CurrentVoters {
			ids = append(ids, v.ReplicaID)
		}
		slices.Sort(ids)
		return ids, nil
	}
	return nil, last
}

// osprey storage format --standalone and --no-initial-controllers, then osprey quorum
// add-controller and remove-controller against the running controllers, as an operator runs
// kafka-storage.sh and kafka-metadata-quorum.sh. The controller listener is SASL_PLAINTEXT with
// PLAIN: the tool connects with the credentials of --command-config's controller listener, and
// without one it is refused.
func TestQuorumAddAndRemoveController(t *testing.T) {
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		ln.Close()
	}
	id, err := run(t, "storage", "random-uuid")
	if err != nil {
		t.Fatal(err)
	}
	id = strings.TrimSpace(id)
	var cfgs []string
	for i, flag := range []string{"--standalone", "--no-initial-controllers"} {
		dir := t.TempDir()
		p := writeServerProperties(t, dir, fmt.Sprintf(`process.roles=controller
node.id=%d
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=%s
listeners=CONTROLLER://%s
log.dirs=%s
controller.quorum.election.timeout.ms=300
controller.quorum.fetch.timeout.ms=600
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
    username="controller" password="ctl-secret" user_controller="ctl-secret";
`, i+1, addrs[0], addrs[i], filepath.Join(dir, "meta")))
		if out, err := run(t, "storage", "format", "-t", id, "-c", p, flag); err != nil {
			t.Fatalf("format %s: %v\n%s", flag, err, out)
		}
		cfg, err := loadBrokerProperties(p)
		if err != nil {
			t.Fatal(err)
		}
		ctl, err := broker.NewController(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = ctl.Start(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ctl.Close() })
		cfgs = append(cfgs, p)
	}
	cfg, err := loadBrokerProperties(cfgs[1])
	if err != nil {
		t.Fatal(err)
	}
	dial, err := cfg.ControllerDialer()
	if err != nil || dial == nil {
		t.Fatalf("controller dialer: nil %v, %v; want one for SASL_PLAINTEXT", dial == nil, err)
	}
	waitVoters := func(want ...int32) {
		t.Helper()
		testenv.WaitFor(t, 30*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got, err := describeVoters(ctx, dial, addrs)
			if err != nil {
				return err
			}
			if !slices.Equal(got, want) {
				return fmt.Errorf("voters %v, want %v", got, want)
			}
			return nil
		})
	}
	waitVoters(1)

	out, err := run(t, "quorum", "--bootstrap-controller", strings.Join(addrs, ","), "add-controller", "--command-config", cfgs[1])
	if err != nil || !strings.Contains(out, "Added controller 2") {
		t.Fatalf("add-controller: %v\n%s", err, out)
	}
	waitVoters(1, 2)

	mp, err := metaprops.Read(cfg.MetadataDir())
	if err != nil {
		t.Fatal(err)
	}
	remove := []string{"quorum", "--bootstrap-controller", strings.Join(addrs, ","), "--timeout", "2s", "remove-controller",
		"--controller-id", "2", "--controller-directory-id", mp.DirectoryID.String()}
	if out, err := run(t, remove...); err == nil || !strings.Contains(err.Error(), "--command-config") {
		t.Fatalf("remove-controller without credentials: %v\n%s; want a refusal pointing at --command-config", err, out)
	}
	out, err = run(t, append(remove, "--command-config", cfgs[0])...)
	if err != nil || !strings.Contains(out, "Removed controller 2") {
		t.Fatalf("remove-controller: %v\n%s", err, out)
	}
	waitVoters(1)

	if _, err := run(t, "quorum", "add-controller", "--command-config", cfgs[1]); err == nil || !strings.Contains(err.Error(), "--bootstrap-server") {
		t.Errorf("add-controller without a bootstrap flag: %v; want a refusal naming the flags", err)
	}
}
