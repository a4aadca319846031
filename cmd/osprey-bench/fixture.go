package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/admin"
)

// The large-cluster fixture (topics × partitions on 3 kfake brokers, groups
// with committed offsets) runs in a child process so that the collector's
// RSS is measured without kfake's own memory in it.
const fixtureChildArg = "__fixture"

// fixtureSpec sizes the generated cluster: groups classic groups and
// consumerGroups consumer-protocol (KIP-848) groups.
type fixtureSpec struct {
	topics, partitions, groups, groupPartitions, consumerGroups int
}

func (f fixtureSpec) totalPartitions() int { return f.topics * f.partitions }

func (f fixtureSpec) args() []string {
	return []string{fixtureChildArg, "-topics", fmt.Sprint(f.topics), "-partitions", fmt.Sprint(f.partitions),
		"-groups", fmt.Sprint(f.groups), "-group-partitions", fmt.Sprint(f.groupPartitions),
		"-consumer-groups", fmt.Sprint(f.consumerGroups)}
}

// allGroups counts the fixture's groups of both protocols.
func (f fixtureSpec) allGroups() int { return f.groups + f.consumerGroups }

func topicName(i int) string { return fmt.Sprintf("topic-%04d", i) }
func groupName(i int) string { return fmt.Sprintf("group-%05d", i) }

// consumerGroupName names the consumer-protocol groups, after the classic ones.
func consumerGroupName(i int) string { return fmt.Sprintf("cgroup-%05d", i) }

// fixture is a running child process serving the generated cluster.
type fixture struct {
	spec      fixtureSpec
	bootstrap []string
	built     time.Duration
	cmd       *exec.Cmd
	stdin     io.WriteCloser
}

// startFixture starts the child and waits (up to 10 minutes) until it has built the cluster.
func startFixture(ctx context.Context, spec fixtureSpec) (*fixture, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, spec.args()...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("fixture stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("fixture stdout: %w", err)
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the fixture process: %w", err)
	}
	f := &fixture{spec: spec, cmd: cmd, stdin: stdin}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addrs, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				f.bootstrap = strings.Split(addrs, ",")
				ready <- nil
				_, _ = io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- errors.New("fixture process exited before it was ready")
	}()
	select {
	case err = <-ready:
	case <-time.After(10 * time.Minute):
		err = errors.New("fixture not ready after 10 minutes")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		f.close()
		return nil, err
	}
	f.built = time.Since(began)
	return f, nil
}

// close tells the child to exit (stdin EOF) and waits for it.
func (f *fixture) close() {
	_ = f.stdin.Close()
	done := make(chan struct{})
	go func() { _ = f.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = f.cmd.Process.Kill()
		<-done
	}
}

// runFixtureChild builds the cluster, prints "READY addr,addr,addr" and
// serves until its stdin closes.
func runFixtureChild(args []string) int {
	fl := flag.NewFlagSet(fixtureChildArg, flag.ContinueOnError)
	var s fixtureSpec
	fl.IntVar(&s.topics, "topics", 1000, "topics")
	fl.IntVar(&s.partitions, "partitions", 100, "partitions per topic")
	fl.IntVar(&s.groups, "groups", 5000, "groups")
	fl.IntVar(&s.groupPartitions, "group-partitions", 20, "committed partitions per group")
	fl.IntVar(&s.consumerGroups, "consumer-groups", 1000, "consumer-protocol (KIP-848) groups, one member each")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("process", "fixture")
	c, err := buildFixture(context.Background(), s, log)
	if err != nil {
		log.Error("building the fixture failed", "err", err)
		return 1
	}
	defer c.Close()
	fmt.Printf("READY %s\n", strings.Join(c.ListenAddrs(), ","))
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// buildFixture: s.topics topics of s.partitions partitions on 3 kfake
// brokers; every 10th partition holds 1–5 records (varying by topic, so group
// lags differ); group g has committed offset 0 on the first s.groupPartitions
// partitions of topic g mod s.topics. Consumer group g (KIP-848) has the same
// offsets on topic (g + s.groups) mod s.topics and one member subscribed to
// it that joined once: kfake's consumer session timeout is a day, so the
// member stays for the whole run without heartbeating.
func buildFixture(ctx context.Context, s fixtureSpec, log *slog.Logger) (*kfake.Cluster, error) {
	began := time.Now()
	names := make([]string, s.topics)
	for i := range names {
		names[i] = topicName(i)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(int32(s.partitions), names...),
		kfake.BrokerConfigs(map[string]string{"group.consumer.session.timeout.ms": "86400000"}))
	if err != nil {
		return nil, fmt.Errorf("starting kfake: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0), kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	var recs []*kgo.Record
	for ti, t := range names {
		for p := 0; p < s.partitions; p += 10 {
			for k := 0; k <= ti%5; k++ {
				recs = append(recs, &kgo.Record{Topic: t, Partition: int32(p), Value: []byte("x")})
			}
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	err = cl.ProduceSync(pctx, recs...).FirstErr()
	cl.Close()
	if err != nil {
		return nil, fmt.Errorf("producing the fixture records: %w", err)
	}
	ac, err := admin.New(admin.Config{Name: "fixture", Bootstrap: c.ListenAddrs(), Timeout: time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, fmt.Errorf("admin client: %w", err)
	}
	defer ac.Close()
	sem := make(chan struct{}, 8)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	jc, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	defer jc.Close()
	for g := 0; g < s.allGroups() && pctx.Err() == nil; g++ {
		offs := make(map[int32]int64, s.groupPartitions)
		for p := 0; p < s.groupPartitions && p < s.partitions; p++ {
			offs[int32(p)] = 0
		}
		name, topic := groupName(g), names[g%s.topics]
		if g >= s.groups {
			name = consumerGroupName(g - s.groups)
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := func() error {
				if _, err := ac.CommitOffsets(pctx, name, map[string]map[int32]int64{topic: offs}); err != nil {
					return fmt.Errorf("committing offsets of %s: %w", name, err)
				}
				if g >= s.groups {
					return joinConsumerGroup(pctx, jc, name, topic)
				}
				return nil
			}()
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := pctx.Err(); err != nil {
		return nil, fmt.Errorf("building the fixture: %w", err)
	}
	log.Info("fixture built", "partitions", s.totalPartitions(), "groups", s.groups, "consumer_groups", s.consumerGroups,
		"took", time.Since(began).Round(time.Millisecond))
	ok = true
	return c, nil
}

// joinConsumerGroup adds one member to the consumer group with a
// ConsumerGroupHeartbeat (epoch 0), subscribed to topic.
func joinConsumerGroup(ctx context.Context, cl *kgo.Client, group, topic string) error {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.RebalanceTimeoutMillis = group, group+"-member", 60000
	req.SubscribedTopicNames, req.Topics = []string{topic}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		return fmt.Errorf("joining consumer group %s: %w", group, err)
	}
	return nil
}
