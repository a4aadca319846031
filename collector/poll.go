package collector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/admin"
)

// One collection cycle: the calls every cycle makes (metadata, offsets, committed offsets, log
// dirs), the parts refreshed when due, and the snapshot published.

func due(last time.Time, every time.Duration, now time.Time) bool {
	return last.IsZero() || now.Sub(last) >= every-every/20 // tolerate ticker jitter
}

func (c *Collector) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.CallTimeout)
}

func (c *Collector) poll(ctx context.Context, force bool) *Snapshot {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	began := c.cfg.Now()
	before := c.client.Stats()
	st := &c.st
	var errs []PollError
	brokerErr := map[int32]string{}
	fail := func(src string, broker int32, err error) {
		errs = append(errs, PollError{Source: src, Broker: broker, Message: err.Error()})
		if broker >= 0 {
			if _, ok := brokerErr[broker]; !ok {
				brokerErr[broker] = src + ": " + err.Error()
			}
		}
	}

	mctx, cancel := c.callCtx(ctx)
	md, err := c.client.Metadata(mctx, nil)
	cancel()
	if err != nil {
		fail("metadata", -1, err)
		s := c.unreachableSnapshot(began, errs)
		s.Cluster.Requests = c.client.Stats().Sub(before).Requests
		c.publish(ctx, s)
		c.log.Warn("poll failed", "err", err)
		return s
	}
	for _, b := range md.Brokers {
		st.known[b.ID] = Broker{ID: b.ID, Host: b.Host, Port: b.Port, Rack: b.Rack}
	}

	octx, cancel := c.callCtx(ctx)
	start, end := c.client.StartEndOffsets(octx, md)
	cancel()
	obsAt := c.cfg.Now()
	for _, o := range []*admin.Offsets{start, end} {
		for b, e := range o.BrokerErrors {
			fail("offsets", b, e)
		}
		if o.FirstPartitionError != nil {
			fail("offsets", -1, fmt.Errorf("%d partitions: %w", o.PartitionErrors, o.FirstPartitionError))
		}
	}

	brokerIDs := make([]int32, 0, len(md.Brokers))
	for _, b := range md.Brokers {
		brokerIDs = append(brokerIDs, b.ID)
	}
	// Errors of the parts refreshed less often count only in the cycle that
	// saw them, so a broker is not reported down on stale evidence.
	if force || due(st.groupsAt, c.cfg.GroupsInterval, began) {
		c.refreshGroups(ctx, brokerIDs)
		for _, e := range st.groupErr {
			errs = append(errs, e)
			if _, seen := brokerErr[e.Broker]; e.Broker >= 0 && !seen {
				brokerErr[e.Broker] = e.Source + ": " + e.Message
			}
		}
	}
	committed := c.fetchCommitted(ctx, fail)

	// Sizes are read every cycle, right after the offsets: the byte rates are their growth, so
	// reading them less often made bytes/s lag messages/s (0 B/s for a whole minute after start)
	// and cover a different interval. One DescribeLogDirs per broker.
	c.refreshLogDirs(ctx, md, brokerIDs)
	for b, e := range st.logDirErr {
		fail("logDirs", b, errors.New(e))
	}
	if force || due(st.configsAt, c.cfg.LogDirsInterval, began) {
		c.refreshMinISR(ctx, md, fail)
	}
	if !st.quorumUnsupported && (force || due(st.quorumAt, c.cfg.GroupsInterval, began)) {
		c.refreshQuorum(ctx, fail)
	}
	if _, zerr := c.client.ZooKeeper(); zerr == nil && (force || due(st.zkAt, c.cfg.ZKInterval, began)) {
		c.refreshZK(ctx)
	}
	if st.zk != nil && st.zk.Error != "" {
		errs = append(errs, PollError{Source: "zookeeper", Broker: -1, Message: st.zk.Error})
	}

	s := c.build(md, start, end, committed, obsAt, brokerErr)
	s.Cluster.Errors = errs
	s.Cluster.Partial = len(errs) > 0
	s.Cluster.LastPoll = began
	s.Cluster.PollDuration = c.cfg.Now().Sub(began)
	s.Cluster.Requests = c.client.Stats().Sub(before).Requests
	if st.zk != nil {
		z := *st.zk
		s.Cluster.ZooKeeper = &z
	}
	s.Cluster.Quorum = st.quorum // never modified after creation
	c.publish(ctx, s)
	c.log.Debug("poll done", "took", s.Cluster.PollDuration, "partitions", s.Totals.Partitions, "groups", s.Totals.Groups, "errors", len(errs))
	return s
}

// unreachableSnapshot keeps the previous picture with every broker down.
func (c *Collector) unreachableSnapshot(began time.Time, errs []PollError) *Snapshot {
	s := &Snapshot{Cluster: ClusterInfo{Name: c.cfg.Cluster, Controller: -1, LastPoll: began, PollDuration: c.cfg.Now().Sub(began), Partial: true, Errors: errs}}
	if prev := c.latest.Load(); prev != nil {
		s.Cluster.ID = prev.Cluster.ID
		s.Topics, s.Groups = prev.Topics, prev.Groups
		s.Totals = prev.Totals
		s.Totals.MsgsPerSec, s.Totals.BytesPerSec = 0, 0
		s.Totals.Internal.MsgsPerSec, s.Totals.Internal.BytesPerSec = 0, 0
	}
	for _, b := range c.st.known {
		b.Up, b.Error = false, "cluster unreachable"
		b.LogDirBytes = -1
		s.Brokers = append(s.Brokers, b)
	}
	s.Totals.Brokers, s.Totals.BrokersUp = len(s.Brokers), 0
	return s
}

// runEach runs fn for each key with at most cfg.Concurrency in flight.
func runEach[K comparable](c *Collector, keys []K, fn func(K)) {
	sem := make(chan struct{}, c.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, k := range keys {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(k)
		})
	}
	wg.Wait()
}
