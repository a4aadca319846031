package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The kraft section: controller failover and metadata propagation at
// 1,000 topics × 100 partitions on 3 nodes, KRaft mode beside ZooKeeper mode
// in the same run. Each mode's 3 nodes are `osprey broker --config` child
// processes, so the active controller's node is killed with a real SIGKILL.

// Topics are created in CreateTopics of topicsPerCreate topics (well under
// the KRaft controller's 10,000-record bound: a topic of 100 partitions is
// 101 records), createsInFlight requests at a time: a ZooKeeper-mode broker
// handles a request's topics one after another, each waiting for a
// controller pass, so requests in flight are what lets one pass take many.
const (
	topicsPerCreate = 10
	createsInFlight = 8
	// createLimit bounds the creation: a mode that has not created every
	// topic by then is measured with the topics it has (ZooKeeper mode's
	// controller re-reads every partition's state on each pass, so its
	// creation rate falls as the cluster grows).
	createLimit = 10 * time.Minute
)

// modeRun is what one mode measured.
type modeRun struct {
	mode        string
	partitions  int
	created     time.Duration // all CreateTopics answered
	propagated  time.Duration // every node's Metadata lists every partition with a leader
	rss, hwm    []float64     // per node after propagation (bytes)
	controller  int32         // node holding the controller role when measured
	zkRSS       float64       // ZooKeeper's RSS (ZooKeeper mode)
	victim      int32
	elected     time.Duration // kill → a survivor names a new controller
	failover    time.Duration // kill → a CreateTopics succeeded and its topic has a leader
	createTries int
	err         error
}

func (o *options) kraftScale() (topics, partitions int) {
	if o.quick {
		return 100, 100
	}
	return 1000, 100
}

func runKRaft(ctx context.Context, o *options, rep *report, _ *limits) {
	topics, parts := o.kraftScale()
	scale := fmt.Sprintf("%dk partitions", topics*parts/1000)
	names := []string{"controller failover, " + scale + ", KRaft vs ZooKeeper",
		"metadata propagation, " + fmt.Sprintf("%d topics × %d", topics, parts)}
	fail := func(err error) {
		for _, n := range names {
			rep.add(row{Section: "kraft", Name: n, Value: "-", Status: statusNotRun, Why: err.Error()})
		}
	}
	dir := filepath.Join(o.dir, "kraft")
	defer os.RemoveAll(dir)
	bin, err := buildOsprey(ctx, dir)
	if err != nil {
		fail(err)
		return
	}
	kr := runMode(ctx, o, bin, filepath.Join(dir, "kraft"), "kraft", topics, parts)
	zk := runMode(ctx, o, bin, filepath.Join(dir, "zookeeper"), "zookeeper", topics, parts)
	for _, m := range []*modeRun{kr, zk} {
		if m.err != nil {
			o.log.Error("kraft section run failed", "mode", m.mode, "err", m.err)
		}
	}
	kraftRows(rep, kr, zk, scale, topics, parts)
}

// runMode stands up one mode's 3 nodes, creates the topics, waits for
// propagation, measures memory, kills the controller and measures failover.
func runMode(ctx context.Context, o *options, bin, dir, mode string, topics, parts int) *modeRun {
	r := &modeRun{mode: mode}
	zkConnect := ""
	set := &nodeSet{mode: mode}
	if mode == "zookeeper" {
		cmd, addr, logPath, err := startPrivateZooKeeper(ctx, filepath.Join(dir, "zk"))
		if err != nil {
			r.err = err
			return r
		}
		set.zk, set.zkLog, zkConnect = cmd, logPath, addr
	}
	nodes, err := startNodes(ctx, bin, dir, mode, zkConnect, 3)
	if err != nil {
		set.stop()
		r.err = err
		return r
	}
	set.nodes = nodes.nodes
	defer set.stop()
	o.log.Info("kraft section: nodes started", "mode", mode)
	if err := waitNodes(ctx, set, 3, 2*time.Minute); err != nil {
		r.err = fmt.Errorf("%s: %w%s", mode, err, set.logTail(15))
		return r
	}
	if err := propagate(ctx, o, set, r, topics, parts); err != nil {
		r.err = fmt.Errorf("%s: %w%s", mode, err, set.logTail(15))
		return r
	}
	ctrl, err := activeController(ctx, set)
	if err != nil {
		r.err = fmt.Errorf("%s: finding the active controller: %w", mode, err)
		return r
	}
	r.controller = ctrl
	for _, nd := range set.nodes {
		r.rss = append(r.rss, pidStatus(nd.cmd.Process.Pid, "VmRSS:"))
		r.hwm = append(r.hwm, pidStatus(nd.cmd.Process.Pid, "VmHWM:"))
	}
	if set.zk != nil {
		r.zkRSS = pidStatus(set.zk.Process.Pid, "VmRSS:")
	}
	o.log.Info("kraft section: propagated", "mode", mode, "created", r.created.Round(time.Millisecond),
		"propagated", r.propagated.Round(time.Millisecond), "controller", ctrl)
	if err := failover(ctx, o, set, r); err != nil {
		r.err = fmt.Errorf("%s: failover: %w%s", mode, err, set.logTail(15))
		return r
	}
	o.log.Info("kraft section: failover", "mode", mode, "victim", r.victim, "elected", r.elected.Round(time.Millisecond),
		"created", r.failover.Round(time.Millisecond))
	return r
}

// nodeClient is a client that sends to one node only (its seed broker), so
// a request never goes to a dead node through the client's routing.
type nodeClient struct {
	cl *kgo.Client
	nd *benchNode
}

func newNodeClient(nd *benchNode) (*nodeClient, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(nd.addr), kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
	if err != nil {
		return nil, fmt.Errorf("client for node %d: %w", nd.id, err)
	}
	return &nodeClient{cl: cl, nd: nd}, nil
}

func (c *nodeClient) request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	return c.cl.SeedBrokers()[0].Request(ctx, req)
}

func (c *nodeClient) close() { c.cl.Close() }

// metadata asks the node for topics (nil: all topics).
func (c *nodeClient) metadata(ctx context.Context, topics []string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	if topics != nil {
		req.Topics = []kmsg.MetadataRequestTopic{}
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
	}
	resp, err := c.request(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.MetadataResponse), nil
}

// waitNodes waits until every node's Metadata lists n brokers.
func waitNodes(ctx context.Context, set *nodeSet, n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last := "no answer"
	for _, nd := range set.nodes {
		c, err := newNodeClient(nd)
		if err != nil {
			return err
		}
		for {
			if !nd.alive() {
				c.close()
				return fmt.Errorf("node %d exited", nd.id)
			}
			mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			md, err := c.metadata(mctx, []string{})
			cancel()
			if err == nil && len(md.Brokers) == n && md.ControllerID >= 0 {
				break
			}
			if err != nil {
				last = err.Error()
			} else {
				last = fmt.Sprintf("%d brokers, controller %d", len(md.Brokers), md.ControllerID)
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				c.close()
				return fmt.Errorf("node %d did not list %d brokers within %v (last: %s)", nd.id, n, limit, last)
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.close()
	}
	return nil
}

// propagate creates topics × parts (RF 1) in CreateTopics of
// topicsPerCreate topics, then waits until every node's Metadata lists every
// partition with a leader.
func propagate(ctx context.Context, o *options, set *nodeSet, r *modeRun, topics, parts int) error {
	var seeds []string
	for _, nd := range set.nodes {
		seeds = append(seeds, nd.addr)
	}
	// This client routes CreateTopics as an admin client does (to the
	// controller Metadata names; in KRaft mode a broker that forwards it).
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RetryTimeout(2*time.Minute))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	began := time.Now()
	names := make([]string, 0, topics)
	for i := 0; i < topics; i++ {
		names = append(names, fmt.Sprintf("bench-%04d", i))
	}
	n, err := createAll(ctx, cl, names, int32(parts), began.Add(o.dur(createLimit, createLimit/2)))
	if err != nil {
		return err
	}
	r.created = time.Since(began)
	r.partitions = n * parts
	o.log.Info("kraft section: topics created", "mode", set.mode, "topics", n, "took", r.created.Round(time.Millisecond))
	limit := o.dur(createLimit+10*time.Minute, createLimit)
	for _, nd := range set.nodes {
		if err := waitLed(ctx, nd, "bench-", r.partitions, began.Add(limit)); err != nil {
			return err
		}
	}
	r.propagated = time.Since(began)
	return nil
}

// createAll creates the topics in CreateTopics of topicsPerCreate topics,
// createsInFlight at a time, retrying the topics answered with a retriable
// error.
func createAll(ctx context.Context, cl *kgo.Client, names []string, parts int32, deadline time.Time) (created int, err error) {
	var batches [][]string
	for len(names) > 0 {
		n := min(topicsPerCreate, len(names))
		batches = append(batches, names[:n])
		names = names[n:]
	}
	work := make(chan []string)
	errs := make(chan error, createsInFlight)
	var done atomic.Int64
	for w := 0; w < createsInFlight; w++ {
		go func() {
			for b := range work {
				for tries := 0; len(b) > 0; tries++ {
					if tries == 10 {
						errs <- fmt.Errorf("creating topics: %d still not created after 10 tries (%s …)", len(b), b[0])
						return
					}
					retry, err := createBatch(ctx, cl, b, parts)
					if err != nil {
						errs <- err
						return
					}
					done.Add(int64(len(b) - len(retry)))
					b = retry
				}
			}
			errs <- nil
		}()
	}
	var first error
	live := createsInFlight
	for _, b := range batches {
		if time.Now().After(deadline) {
			// Out of time: the topics created so far are the cluster.
			break
		}
		select {
		case work <- b:
			continue
		case err := <-errs:
			live--
			if err != nil && first == nil {
				first = err
			}
		}
		if first != nil {
			break
		}
	}
	close(work)
	for ; live > 0; live-- {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return int(done.Load()), first
}

// createBatch sends one CreateTopics and returns the topics to try again
// (answered with a retriable error).
func createBatch(ctx context.Context, cl *kgo.Client, names []string, parts int32) ([]string, error) {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 60_000
	for _, n := range names {
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic, t.NumPartitions, t.ReplicationFactor = n, parts, 1
		req.Topics = append(req.Topics, t)
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	resp, err := req.RequestWith(rctx, cl)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return names, nil
	}
	var retry []string
	for _, t := range resp.Topics {
		err := kerr.ErrorForCode(t.ErrorCode)
		switch {
		case err == nil, errors.Is(err, kerr.TopicAlreadyExists):
		case kerr.IsRetriable(err) || errors.Is(err, kerr.NotController) || errors.Is(err, kerr.UnknownServerError):
			// UNKNOWN_SERVER_ERROR: a ZooKeeper-mode broker whose request
			// timed out while it waited for the controller; the topic may
			// exist and is then answered TOPIC_ALREADY_EXISTS.
			retry = append(retry, t.Topic)
		default:
			return nil, fmt.Errorf("creating %s: %w", t.Topic, err)
		}
	}
	return retry, nil
}

// waitLed polls nd's Metadata for all topics until it lists want partitions
// of topics named prefix* with a leader.
func waitLed(ctx context.Context, nd *benchNode, prefix string, want int, deadline time.Time) error {
	c, err := newNodeClient(nd)
	if err != nil {
		return err
	}
	defer c.close()
	last := "no answer"
	for {
		mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		md, err := c.metadata(mctx, nil)
		cancel()
		if err == nil {
			led := 0
			for _, t := range md.Topics {
				if t.Topic == nil || !strings.HasPrefix(*t.Topic, prefix) {
					continue
				}
				for _, p := range t.Partitions {
					if p.Leader >= 0 {
						led++
					}
				}
			}
			if led >= want {
				return nil
			}
			last = fmt.Sprintf("%d of %d partitions led", led, want)
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("node %d: not every partition listed with a leader in time (last: %s)", nd.id, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// activeController is the node holding the controller role: the quorum
// leader from DescribeQuorum in KRaft mode (Metadata's controller id names a
// random broker there), Metadata's controller id (the /controller znode) in
// ZooKeeper mode.
func activeController(ctx context.Context, set *nodeSet) (int32, error) {
	var last error
	for _, nd := range set.nodes {
		if !nd.alive() {
			continue
		}
		c, err := newNodeClient(nd)
		if err != nil {
			return -1, err
		}
		id, err := controllerSeenBy(ctx, c, set.mode)
		c.close()
		if err == nil && id >= 0 {
			return id, nil
		}
		last = err
	}
	return -1, fmt.Errorf("no node names a controller (last error: %v)", last)
}

func controllerSeenBy(ctx context.Context, c *nodeClient, mode string) (int32, error) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if mode == "zookeeper" {
		md, err := c.metadata(rctx, []string{})
		if err != nil {
			return -1, err
		}
		return md.ControllerID, nil
	}
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	p := kmsg.NewDescribeQuorumRequestTopicPartition()
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	resp, err := c.request(rctx, req)
	if err != nil {
		return -1, err
	}
	dq := resp.(*kmsg.DescribeQuorumResponse)
	if err := kerr.ErrorForCode(dq.ErrorCode); err != nil {
		return -1, err
	}
	if len(dq.Topics) == 0 || len(dq.Topics[0].Partitions) == 0 {
		return -1, errors.New("DescribeQuorum: no partition in the answer")
	}
	qp := dq.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(qp.ErrorCode); err != nil {
		return -1, err
	}
	return qp.LeaderID, nil
}
