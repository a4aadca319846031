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

// cycleErrors collects one cycle's errors, and each broker's first one, which marks it down.
type cycleErrors struct {
	list     []PollError
	byBroker map[int32]string
}

func (ce *cycleErrors) add(e PollError) {
	ce.list = append(ce.list, e)
	if _, seen := ce.byBroker[e.Broker]; e.Broker >= 0 && !seen {
		ce.byBroker[e.Broker] = e.Source + ": " + e.Message
	}
}

// fail records err from source src; broker is -1 when the error is not one broker's.
func (ce *cycleErrors) fail(src string, broker int32, err error) {
	ce.add(PollError{Source: src, Broker: broker, Message: err.Error()})
}

func (c *Collector) poll(ctx context.Context, force bool) *Snapshot {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	began := c.cfg.Now()
	before := c.client.Stats()
	st := &c.st
	ce := &cycleErrors{byBroker: map[int32]string{}}

	mctx, cancel := c.callCtx(ctx)
	md, err := c.client.Metadata(mctx, nil)
	cancel()
	if err != nil {
		ce.fail("metadata", -1, err)
		s := c.unreachableSnapshot(began, ce.list)
		s.Cluster.Requests = c.client.Stats().Sub(before).Requests
		c.publish(ctx, s)
		c.log.Warn("poll failed", "err", err)
		return s
	}
	for _, b := range md.Brokers {
		st.known[b.ID] = Broker{ID: b.ID, Host: b.Host, Port: b.Port, Rack: b.Rack}
	}

	octx, cancel := c.callCtx(ctx)
	start, end, stable := c.client.StartEndStableOffsets(octx, md)
	cancel()
	obsAt := c.cfg.Now()
	// A failed read_committed ListOffsets leaves the partitions' LSO unknown (-1) without marking
	// the broker down: its start and end offsets say whether it answers.
	for b, e := range stable.BrokerErrors {
		c.log.Debug("list stable offsets", "broker", b, "err", e)
	}
	for _, o := range []*admin.Offsets{start, end} {
		for b, e := range o.BrokerErrors {
			ce.fail("offsets", b, e)
		}
		if o.FirstPartitionError != nil {
			ce.fail("offsets", -1, fmt.Errorf("%d partitions: %w", o.PartitionErrors, o.FirstPartitionError))
		}
	}
	committed := c.refresh(ctx, md, force, began, ce)
	sec := c.refreshSecurity(ctx, c.cfg.Now(), ce.fail)
	c.refreshShareStates(ctx, ce.fail)

	s := c.build(md, offsetsRead{start: start, end: end, stable: stable}, committed, obsAt, ce.byBroker)
	s.Cluster.Errors = ce.list
	s.Cluster.Partial = len(ce.list) > 0
	s.Cluster.LastPoll = began
	s.Cluster.PollDuration = c.cfg.Now().Sub(began)
	s.Cluster.Requests = c.client.Stats().Sub(before).Requests
	if st.zk != nil {
		z := *st.zk
		s.Cluster.ZooKeeper = &z
	}
	s.Cluster.Quorum = st.q.info // never modified after creation
	s.Cluster.KRaft = st.q.kraft
	s.Storage = c.storage(s)
	s.Security = sec
	c.publish(ctx, s)
	c.log.Debug("poll done", "took", s.Cluster.PollDuration, "partitions", s.Totals.Partitions, "groups", s.Totals.Groups, "errors", len(ce.list))
	return s
}

// refresh reads the committed offsets and log-dir sizes, and the groups, min ISR, quorum and
// ZooKeeper state when their intervals are due (all of them when force), recording their errors in
// ce. It returns the committed offsets (group → topic → partition).
func (c *Collector) refresh(ctx context.Context, md *admin.Metadata, force bool, began time.Time, ce *cycleErrors) map[string]map[string]map[int32]int64 {
	st := &c.st
	// ZooKeeper is read beside the Kafka calls below, so a ZooKeeper that does not answer delays
	// no Kafka figure: the cycle waits for the slower of the two, at most the call timeout.
	var zkRead sync.WaitGroup
	if _, zerr := c.client.ZooKeeper(); zerr == nil && (force || due(st.zkAt, c.cfg.ZKInterval, began)) {
		zkRead.Go(func() { c.refreshZK(ctx) })
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
			ce.add(e)
		}
	}
	committed := c.fetchCommitted(ctx, ce.fail)

	// Sizes are read every cycle, right after the offsets: the byte rates are their growth, so
	// reading them less often made bytes/s lag messages/s (0 B/s for a whole minute after start)
	// and cover a different interval. One DescribeLogDirs per broker.
	c.refreshLogDirs(ctx, md, brokerIDs)
	for b, e := range st.logDirErr {
		ce.fail("logDirs", b, errors.New(e))
	}
	if force || due(st.configsAt, c.cfg.LogDirsInterval, began) {
		c.refreshMinISR(ctx, md, ce.fail)
	}
	c.refreshCleaner(ctx, ce.fail)
	if !st.q.unsupported {
		c.refreshQuorum(ctx, force, began, ce.fail)
	}
	zkRead.Wait()
	if st.zk != nil && st.zk.Error != "" {
		ce.add(PollError{Source: "zookeeper", Broker: -1, Message: st.zk.Error})
	}
	return committed
}

// unreachableSnapshot keeps the previous picture with every broker down.
func (c *Collector) unreachableSnapshot(began time.Time, errs []PollError) *Snapshot {
	s := &Snapshot{Cluster: ClusterInfo{Name: c.cfg.Cluster, Controller: -1, LastPoll: began, PollDuration: c.cfg.Now().Sub(began), Partial: true, Errors: errs}}
	stale := began
	if prev := c.latest.Load(); prev != nil && !prev.Cluster.Shared {
		stale = prev.Cluster.LastPoll
		if prev.Cluster.StaleSince != nil {
			stale = *prev.Cluster.StaleSince
		}
	}
	s.Cluster.StaleSince = &stale
	if prev := c.latest.Load(); prev != nil {
		s.Cluster.ID = prev.Cluster.ID
		s.Topics, s.Groups = prev.Topics, prev.Groups
		s.Totals = prev.Totals
		s.Totals.MsgsPerSec, s.Totals.BytesPerSec = 0, 0
		s.Totals.Internal.MsgsPerSec, s.Totals.Internal.BytesPerSec = 0, 0
		s.Storage = unreachableStorage(prev.Storage)
	}
	for _, b := range c.st.known {
		b.Up, b.Error = false, "cluster unreachable"
		b.LogDirBytes = -1
		s.Brokers = append(s.Brokers, b)
	}
	s.Totals.Brokers, s.Totals.BrokersUp = len(s.Brokers), 0
	s.Cluster.KRaft = c.st.q.kraft
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
