package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/admin/zkstatus"
)

// Collector polls one cluster. Its exported methods are safe for concurrent
// use. The poll state below pollMu is owned by whoever holds pollMu (the loop
// goroutine or a PollNow caller).
type Collector struct {
	cfg    Config
	client *admin.Client
	sink   Sink
	log    *slog.Logger

	latest atomic.Pointer[Snapshot]
	seq    atomic.Uint64

	subMu sync.Mutex // guards subs
	subs  map[chan *Snapshot]struct{}

	runMu   sync.Mutex // guards cancel, started
	cancel  context.CancelFunc
	started bool // between Start and the end of Stop
	wg      sync.WaitGroup
	pending chan *Samples // latest samples waiting for the sink writer

	sinkErrors  atomic.Int64
	sinkDropped atomic.Int64

	pollMu sync.Mutex
	st     pollState // guarded by pollMu
}

// pollState is carried from cycle to cycle; guarded by Collector.pollMu.
type pollState struct {
	history   map[string][]*ring // topic → partition → log-end history
	prevEnd   map[string][]int64
	prevEndAt time.Time

	groupsAt time.Time
	groups   []admin.ListedGroup
	descs    map[string]admin.GroupDescription
	groupErr []PollError
	// committed is the last cycle's committed offsets: group → topic → partition.
	committed map[string]map[string]map[int32]int64

	partSize     map[string]map[int32]int64 // leader replica size
	brokerBytes  map[int32]int64
	logDirErr    map[int32]string
	topicBps     map[string]float64
	brokerBps    map[int32]float64
	prevSizeAt   time.Time
	prevTopicSz  map[string]int64
	prevBrokerSz map[int32]int64

	configsAt time.Time
	minISR    map[string]int

	zkAt time.Time
	zk   *ZooKeeperInfo

	quorum            *QuorumInfo
	quorumAt          time.Time
	quorumUnsupported bool // DescribeQuorum is not asked again once refused

	known    map[int32]Broker // every broker seen, for marking missing ones down
	lastSeen map[int32]time.Time

	// For the starting state (Config.StartingGrace): when each current partition and each known
	// broker was first seen, and whether it has been healthy (up) since.
	partSeen    map[partKey]partSeen
	brokerFirst map[int32]time.Time
	brokerUp    map[int32]bool // has been up at least once
}

type partKey struct {
	topic     string
	partition int32
}

type partSeen struct {
	first   time.Time
	healthy bool // had a leader, a full ISR and min ISR in some cycle
}

// New builds a collector; it does no I/O. sink may be nil.
func New(cfg Config, client *admin.Client, sink Sink, logger *slog.Logger) (*Collector, error) {
	if client == nil {
		return nil, errors.New("collector: nil admin client")
	}
	if cfg.Cluster == "" {
		cfg.Cluster = client.Name()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Collector{
		cfg:     cfg.withDefaults(),
		client:  client,
		sink:    sink,
		log:     logger.With("cluster", cfg.Cluster, "component", "collector"),
		subs:    map[chan *Snapshot]struct{}{},
		pending: make(chan *Samples, 1),
		st: pollState{
			history: map[string][]*ring{}, descs: map[string]admin.GroupDescription{},
			minISR: map[string]int{}, known: map[int32]Broker{}, lastSeen: map[int32]time.Time{},
			topicBps: map[string]float64{}, brokerBps: map[int32]float64{},
			partSeen: map[partKey]partSeen{}, brokerFirst: map[int32]time.Time{}, brokerUp: map[int32]bool{},
		},
	}, nil
}

// Config returns the effective configuration (defaults applied).
func (c *Collector) Config() Config { return c.cfg }

// Latest returns the newest snapshot, or nil before the first cycle ends.
func (c *Collector) Latest() *Snapshot { return c.latest.Load() }

// Subscribe returns a channel that receives every new snapshot. A slow
// subscriber misses intermediate snapshots (the newest one is kept), never
// blocking collection. cancel unsubscribes and closes the channel.
func (c *Collector) Subscribe(buffer int) (<-chan *Snapshot, func()) {
	ch := make(chan *Snapshot, max(buffer, 1))
	c.subMu.Lock()
	c.subs[ch] = struct{}{}
	c.subMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.subMu.Lock()
			delete(c.subs, ch)
			c.subMu.Unlock()
			close(ch)
		})
	}
}

// SinkStats reports failed and dropped sink writes since New.
func (c *Collector) SinkStats() (errors, dropped int64) {
	return c.sinkErrors.Load(), c.sinkDropped.Load()
}

// Start launches the poll loop (first cycle immediately) and the sink writer,
// and returns. ctx bounds their lifetime as Stop does.
func (c *Collector) Start(ctx context.Context) error {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.started {
		return errors.New("collector: already started")
	}
	c.started = true
	ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.loop(ctx) }()
	go func() { defer c.wg.Done(); c.sinkWriter(ctx) }()
	return nil
}

// Stop cancels the loop and waits for it and the sink writer to return (the
// writer first flushes samples still pending, within SinkTimeout). It does
// not close the admin client (its owner does). A stopped collector may be
// started again.
func (c *Collector) Stop() {
	c.runMu.Lock()
	cancel := c.cancel
	c.runMu.Unlock()
	if cancel != nil {
		cancel()
	}
	c.wg.Wait()
	c.runMu.Lock()
	c.started, c.cancel = false, nil
	c.runMu.Unlock()
}

func (c *Collector) loop(ctx context.Context) {
	t := time.NewTicker(c.cfg.OffsetsInterval)
	defer t.Stop()
	for {
		c.poll(ctx, false)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Collector) sinkWriter(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			select {
			case s := <-c.pending: // the last cycle's samples are worth keeping
				c.writeSink(context.WithoutCancel(ctx), s)
			default:
			}
			return
		case s := <-c.pending:
			c.writeSink(ctx, s)
		}
	}
}

func (c *Collector) writeSink(ctx context.Context, s *Samples) {
	wctx, cancel := context.WithTimeout(ctx, c.cfg.SinkTimeout)
	defer cancel()
	if err := c.sink.WriteSamples(wctx, s); err != nil {
		c.sinkErrors.Add(1)
		c.log.Warn("writing samples", "err", err)
	}
}

// PollNow runs one full cycle now (every part, whatever its interval),
// publishes and returns its snapshot. Safe alongside the loop: cycles never overlap.
func (c *Collector) PollNow(ctx context.Context) *Snapshot {
	return c.poll(ctx, true)
}

func (c *Collector) running() bool {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	return c.started
}

func (c *Collector) publish(ctx context.Context, s *Snapshot) {
	s.Cluster.Sequence = c.seq.Add(1)
	s.index()
	c.latest.Store(s)
	c.subMu.Lock()
	for ch := range c.subs {
		select {
		case ch <- s:
		default: // full: replace the stale snapshot with this one
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- s:
			default:
			}
		}
	}
	c.subMu.Unlock()
	if c.sink == nil {
		return
	}
	samples := buildSamples(s)
	if !c.running() {
		c.writeSink(ctx, samples)
		return
	}
	select {
	case c.pending <- samples:
	default:
		select {
		case <-c.pending:
			c.sinkDropped.Add(1)
		default:
		}
		select {
		case c.pending <- samples:
		default:
			c.sinkDropped.Add(1)
		}
	}
}

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

func (c *Collector) refreshLogDirs(ctx context.Context, md *admin.Metadata, brokers []int32) {
	st := &c.st
	leader := make(map[string][]int32, len(md.Topics))
	for _, t := range md.Topics {
		ls := make([]int32, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			for int(p.Partition) >= len(ls) {
				ls = append(ls, -1)
			}
			ls[p.Partition] = p.Leader
		}
		leader[t.Name] = ls
	}
	sizes := map[string]map[int32]int64{}
	brokerBytes := map[int32]int64{}
	errs := map[int32]string{}
	var mu sync.Mutex
	runEach(c, brokers, func(b int32) {
		lctx, cancel := c.callCtx(ctx)
		defer cancel()
		ld, err := c.client.DescribeLogDirs(lctx, b)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs[b] = err.Error()
			return
		}
		brokerBytes[b] = ld.Bytes
		for _, d := range ld.Dirs {
			for t, ps := range d.Partitions {
				ls := leader[t]
				for p, sz := range ps {
					isLeader := int(p) < len(ls) && ls[p] == b
					m := sizes[t]
					if m == nil {
						m = map[int32]int64{}
						sizes[t] = m
					}
					// The leader's replica wins; any replica is better than nothing.
					if _, seen := m[p]; isLeader || !seen {
						m[p] = sz
					}
				}
			}
		}
	})
	now := c.cfg.Now()
	// Byte rates from the previous log-dir refresh.
	topicSz := make(map[string]int64, len(sizes))
	brokerSz := map[int32]int64{}
	for t, ps := range sizes {
		var sum int64
		ls := leader[t]
		for p, sz := range ps {
			sum += sz
			if int(p) < len(ls) && ls[p] >= 0 {
				brokerSz[ls[p]] += sz
			}
		}
		topicSz[t] = sum
	}
	st.topicBps, st.brokerBps = map[string]float64{}, map[int32]float64{}
	if !st.prevSizeAt.IsZero() {
		dt := now.Sub(st.prevSizeAt).Seconds()
		for t, sz := range topicSz {
			if prev, ok := st.prevTopicSz[t]; ok && dt > 0 && sz > prev {
				st.topicBps[t] = float64(sz-prev) / dt
			}
		}
		for b, sz := range brokerSz {
			if prev, ok := st.prevBrokerSz[b]; ok && dt > 0 && sz > prev {
				st.brokerBps[b] = float64(sz-prev) / dt
			}
		}
	}
	st.prevTopicSz, st.prevBrokerSz, st.prevSizeAt = topicSz, brokerSz, now
	st.partSize, st.brokerBytes, st.logDirErr = sizes, brokerBytes, errs
}

func (c *Collector) refreshMinISR(ctx context.Context, md *admin.Metadata, fail func(string, int32, error)) {
	names := make([]string, 0, len(md.Topics))
	for _, t := range md.Topics {
		names = append(names, t.Name)
	}
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	vals, err := c.client.TopicConfigValue(cctx, names, "min.insync.replicas")
	c.st.configsAt = c.cfg.Now()
	if err != nil {
		fail("configs", -1, err)
		return
	}
	m := make(map[string]int, len(vals))
	for t, v := range vals {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			m[t] = n
		}
	}
	c.st.minISR = m
}

func (c *Collector) refreshQuorum(ctx context.Context, fail func(string, int32, error)) {
	st := &c.st
	qctx, cancel := c.callCtx(ctx)
	defer cancel()
	q, err := c.client.DescribeQuorum(qctx)
	st.quorumAt = c.cfg.Now()
	switch {
	case errors.Is(err, admin.ErrUnsupported):
		st.quorumUnsupported = true // ZooKeeper mode, or a broker before 3.3
		return
	case err != nil:
		fail("quorum", -1, err)
		return
	}
	conv := func(in []admin.QuorumReplica) []QuorumReplica {
		out := make([]QuorumReplica, 0, len(in))
		for _, r := range in {
			qr := QuorumReplica{ID: r.ID, LogEndOffset: r.LogEndOffset, Lag: max(q.HighWatermark-r.LogEndOffset, 0)}
			if r.LastCaughtUpTimestamp > 0 {
				qr.LastCaughtUp = time.UnixMilli(r.LastCaughtUpTimestamp)
			}
			out = append(out, qr)
		}
		return out
	}
	st.quorum = &QuorumInfo{LeaderID: q.LeaderID, LeaderEpoch: q.LeaderEpoch, HighWatermark: q.HighWatermark,
		Voters: conv(q.Voters), Observers: conv(q.Observers), ReadAt: st.quorumAt}
}

func (c *Collector) refreshZK(ctx context.Context) {
	st := &c.st
	z, err := c.client.ZooKeeper()
	if err != nil {
		return
	}
	zctx, cancel := c.callCtx(ctx)
	defer cancel()
	info := &ZooKeeperInfo{Servers: z.Servers, ReadAt: c.cfg.Now(), Controller: -1}
	var errs []error
	if brokers, err := z.Brokers(zctx); err != nil {
		errs = append(errs, err)
	} else {
		for _, b := range brokers {
			info.RegisteredBrokers = append(info.RegisteredBrokers, b.ID)
		}
	}
	if ctl, err := z.Controller(zctx); err != nil {
		errs = append(errs, err)
	} else {
		info.Controller, info.ControllerEpoch, info.ControllerSince = ctl.BrokerID, ctl.Epoch, ctl.Since
	}
	if p, err := z.Pending(zctx); err != nil {
		errs = append(errs, err)
	} else {
		info.PendingReassignments, info.PendingElections, info.PendingDeletes = len(p.Reassignments), len(p.PreferredElection), p.DeleteTopics
	}
	info.Ensemble = make([]ZooKeeperServer, len(z.Servers))
	var wg sync.WaitGroup
	for i, addr := range z.Servers {
		wg.Go(func() {
			zs := ZooKeeperServer{Address: addr}
			stats, err := zkstatus.Srvr(zctx, addr) // srvr needs no whitelist entry
			if err != nil {
				zs.Error = err.Error()
			} else {
				zs.OK, zs.Mode, zs.Version = true, string(stats.Mode), stats.Version
				zs.AvgLatencyMs, zs.MaxLatencyMs = stats.AvgLatency, stats.MaxLatency
				zs.Connections, zs.Outstanding, zs.NodeCount, zs.Zxid = stats.Connections, stats.Outstanding, stats.NodeCount, int64(stats.Zxid)
			}
			info.Ensemble[i] = zs
		})
	}
	wg.Wait()
	for _, zs := range info.Ensemble {
		if !zs.OK {
			errs = append(errs, errors.New(zs.Error))
		}
	}
	info.Connected = z.Connected()
	if len(errs) > 0 {
		info.Error = errors.Join(errs...).Error()
	}
	st.zk, st.zkAt = info, c.cfg.Now()
}

// build assembles the snapshot from this cycle's answers and the carried state.
func (c *Collector) build(md *admin.Metadata, start, end *admin.Offsets, committed map[string]map[string]map[int32]int64, obsAt time.Time, brokerErr map[int32]string) *Snapshot {
	st := &c.st
	s := &Snapshot{Cluster: ClusterInfo{Name: c.cfg.Cluster, ID: md.ClusterID, Controller: md.ControllerID}}
	type bacc struct {
		leaders, replicas int
		msgs              float64
	}
	bstats := map[int32]*bacc{}
	bget := func(id int32) *bacc {
		a := bstats[id]
		if a == nil {
			a = &bacc{}
			bstats[id] = a
		}
		return a
	}
	for _, b := range md.Brokers {
		bget(b.ID)
	}
	clusterBrokers := c.memberCount(md, obsAt)
	dt := obsAt.Sub(st.prevEndAt).Seconds()
	haveRate := !st.prevEndAt.IsZero() && dt > 0
	history := make(map[string][]*ring, len(md.Topics))
	partSeenNow := make(map[partKey]partSeen, len(st.partSeen))
	s.Topics = make([]Topic, 0, len(md.Topics))
	var layouts []Layout
	for _, tm := range md.Topics {
		t := Topic{Name: tm.Name, Internal: tm.Internal, MinISR: 1, SizeBytes: -1}
		if tm.Err != nil {
			t.Error = tm.Err.Error()
		}
		if n, ok := st.minISR[tm.Name]; ok {
			t.MinISR = n
		}
		starts, ends := start.Offsets[tm.Name], end.Offsets[tm.Name]
		prevEnds := st.prevEnd[tm.Name]
		oldRings := st.history[tm.Name]
		rings := make([]*ring, len(ends))
		sizes := st.partSize[tm.Name]
		layouts = layouts[:0] // scratch, reused across topics
		var msgs float64
		underReplicated := 0
		t.Partitions = make([]Partition, 0, len(tm.Partitions))
		for _, pm := range tm.Partitions {
			p := Partition{
				Partition: pm.Partition, Leader: pm.Leader, LeaderEpoch: pm.LeaderEpoch,
				Replicas: pm.Replicas, ISR: pm.ISR, OfflineReplicas: pm.Offline,
				StartOffset: at(starts, pm.Partition), EndOffset: at(ends, pm.Partition), SizeBytes: -1,
			}
			if pm.Err != nil {
				p.Error = pm.Err.Error()
			}
			p.Offline = pm.Leader < 0
			p.UnderReplicated = len(pm.ISR) < len(pm.Replicas)
			p.UnderMinISR = len(pm.ISR) < t.MinISR
			p.PreferredLeader = len(pm.Replicas) > 0 && pm.Replicas[0] == pm.Leader
			if sz, ok := sizes[pm.Partition]; ok {
				p.SizeBytes = sz
				if t.SizeBytes < 0 {
					t.SizeBytes = 0
				}
				t.SizeBytes += sz
			}
			p.Starting = c.starting(partSeenNow, tm.Name, &p, obsAt)
			switch {
			case p.Starting:
				t.Starting++
			default:
				if p.Offline {
					t.Offline++
				}
				if p.UnderMinISR {
					t.UnderMinISR++
				}
				if p.UnderReplicated {
					underReplicated++
				}
			}
			t.ReplicationFactor = max(t.ReplicationFactor, len(pm.Replicas))
			if p.StartOffset >= 0 {
				t.StartOffsetSum += p.StartOffset
			}
			if p.EndOffset >= 0 {
				t.EndOffsetSum += p.EndOffset
				if p.StartOffset >= 0 {
					t.Messages += p.EndOffset - p.StartOffset
				}
				var r *ring
				if int(pm.Partition) < len(oldRings) && oldRings[pm.Partition] != nil && oldRings[pm.Partition].newestEnd() <= p.EndOffset {
					r = oldRings[pm.Partition]
				} else { // new partition, or the log end went back (topic recreated)
					r = newRing(c.cfg.HistoryPoints)
				}
				r.add(obsAt, p.EndOffset)
				rings[pm.Partition] = r
				if prev := at(prevEnds, pm.Partition); haveRate && prev >= 0 && p.EndOffset > prev {
					d := float64(p.EndOffset-prev) / dt
					msgs += d
					if pm.Leader >= 0 {
						bget(pm.Leader).msgs += d
					}
				}
			} else if int(pm.Partition) < len(oldRings) {
				rings[pm.Partition] = oldRings[pm.Partition] // keep history across a blip
			}
			if pm.Leader >= 0 {
				bget(pm.Leader).leaders++
			}
			for _, r := range pm.Replicas {
				bget(r).replicas++
			}
			layouts = append(layouts, Layout{Leader: pm.Leader, Replicas: pm.Replicas, ISR: pm.ISR})
			t.Partitions = append(t.Partitions, p)
		}
		history[tm.Name] = rings
		f := ComputeTopicFigures(layouts, clusterBrokers)
		t.Brokers, t.BrokerSpread, t.BrokerSkew, t.LeaderSkew, t.PreferredLeader =
			f.Brokers, f.BrokerSpread, f.BrokerSkew, f.LeaderSkew, f.PreferredLeader
		t.UnderReplicated = underReplicated // f's count includes starting partitions
		t.MsgsPerSec = msgs
		t.BytesPerSec = st.topicBps[tm.Name]
		s.Topics = append(s.Topics, t)

		s.Totals.Partitions += len(t.Partitions)
		s.Totals.UnderReplicated += t.UnderReplicated
		s.Totals.Offline += t.Offline
		s.Totals.UnderMinISR += t.UnderMinISR
		s.Totals.Starting += t.Starting
		s.Totals.Messages += t.Messages
		s.Totals.MsgsPerSec += t.MsgsPerSec
		s.Totals.BytesPerSec += t.BytesPerSec
		if t.SizeBytes > 0 {
			s.Totals.SizeBytes += t.SizeBytes
		}
		if t.Internal {
			in := &s.Totals.Internal
			in.Topics++
			in.Partitions += len(t.Partitions)
			in.UnderReplicated += t.UnderReplicated
			in.Offline += t.Offline
			in.UnderMinISR += t.UnderMinISR
			in.Starting += t.Starting
			in.Messages += t.Messages
			in.SizeBytes += max(t.SizeBytes, 0)
			in.MsgsPerSec += t.MsgsPerSec
			in.BytesPerSec += t.BytesPerSec
		}
	}
	st.history = history      // topics that vanished drop their history
	st.partSeen = partSeenNow // and a topic created again under the same name starts afresh
	st.prevEnd, st.prevEndAt = end.Offsets, obsAt

	// Brokers: in metadata (up unless their requests failed), then every other
	// id seen in replica lists or earlier cycles (down).
	inMD := map[int32]bool{}
	for _, b := range md.Brokers {
		inMD[b.ID] = true
	}
	for id := range bstats { // in metadata or named in a replica list
		if _, ok := st.known[id]; !ok {
			st.known[id] = Broker{ID: id}
		}
		st.lastSeen[id] = obsAt
	}
	for id, kb := range st.known {
		if c.cfg.ForgetBrokersAfter > 0 && obsAt.Sub(st.lastSeen[id]) > c.cfg.ForgetBrokersAfter {
			delete(st.known, id) // decommissioned: gone from metadata and every replica list
			delete(st.lastSeen, id)
			delete(st.brokerFirst, id)
			delete(st.brokerUp, id)
			continue
		}
		a := bget(id)
		b := kb
		b.Controller = id == md.ControllerID
		b.Leaders, b.Replicas, b.MsgsPerSec = a.leaders, a.replicas, a.msgs
		b.BytesInPerSec = st.brokerBps[id]
		b.LogDirBytes = -1
		if v, ok := st.brokerBytes[id]; ok {
			b.LogDirBytes = v
		}
		switch {
		case !inMD[id]:
			b.Up, b.Error = false, "not in cluster metadata"
		case brokerErr[id] != "":
			b.Up, b.Error = false, brokerErr[id]
		default:
			b.Up = true
		}
		if _, ok := st.brokerFirst[id]; !ok {
			st.brokerFirst[id] = obsAt
		}
		if b.Up {
			st.brokerUp[id] = true
		}
		b.Starting = !b.Up && !st.brokerUp[id] && obsAt.Sub(st.brokerFirst[id]) < c.cfg.StartingGrace
		s.Brokers = append(s.Brokers, b)
		s.Totals.Replicas += b.Replicas
		if b.Up {
			s.Totals.BrokersUp++
		}
		if b.Starting {
			s.Totals.BrokersStarting++
		}
	}
	s.Cluster.Starting = s.Totals.Starting > 0 || s.Totals.BrokersStarting > 0
	s.Totals.Brokers = len(s.Brokers)
	s.Totals.Topics = len(s.Topics)

	// Groups: last description plus this cycle's committed offsets.
	endOf := func(topic string, p int32) int64 { return at(end.Offsets[topic], p) }
	s.Groups = make([]Group, 0, len(st.groups))
	for _, lg := range st.groups {
		g := Group{Name: lg.Name, State: lg.State, ProtocolType: lg.ProtocolType, Coordinator: lg.Coordinator}
		owner := map[string]map[int32]string{}
		if d, ok := st.descs[lg.Name]; ok {
			g.State, g.ProtocolType, g.Protocol = d.State, d.ProtocolType, d.Protocol
			if d.Err != nil {
				g.Error = d.Err.Error()
			}
			for _, m := range d.Members {
				mem := Member{ID: m.ID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost}
				for topic, ps := range m.Assignment {
					mem.Assignment = append(mem.Assignment, TopicPartitions{Topic: topic, Partitions: ps})
					if owner[topic] == nil {
						owner[topic] = map[int32]string{}
					}
					for _, p := range ps {
						owner[topic][p] = m.ID
					}
				}
				sort.Slice(mem.Assignment, func(i, j int) bool { return mem.Assignment[i].Topic < mem.Assignment[j].Topic })
				g.Members = append(g.Members, mem)
			}
		}
		lagKnown := len(committed[lg.Name]) == 0 // no committed offsets: nothing to lag behind
		for topic, parts := range committed[lg.Name] {
			gt := GroupTopic{Topic: topic, Partitions: make([]GroupPartition, 0, len(parts))}
			rings := history[topic]
			// A partition whose end offset is unknown has an unknown lag (-1): it is left out of
			// the sums, and a topic with no known partition lag has an unknown lag itself.
			gt.Lag = -1
			for p, off := range parts {
				gp := GroupPartition{Partition: p, Committed: off, End: endOf(topic, p), Lag: -1, Member: owner[topic][p]}
				gt.CommittedSum += off
				if gp.End >= 0 {
					gp.Lag = max(gp.End-off, 0)
					gt.Lag = max(gt.Lag, 0) + gp.Lag
					if gp.Lag > 0 && int(p) < len(rings) {
						gp.LagSeconds = rings[p].lagSeconds(off, obsAt)
					}
					gt.LagSeconds = max(gt.LagSeconds, gp.LagSeconds)
				}
				gt.Partitions = append(gt.Partitions, gp)
			}
			sort.Slice(gt.Partitions, func(i, j int) bool { return gt.Partitions[i].Partition < gt.Partitions[j].Partition })
			if gt.Lag >= 0 {
				lagKnown = true
				g.TotalLag += gt.Lag
			}
			g.LagSeconds = max(g.LagSeconds, gt.LagSeconds)
			g.Topics = append(g.Topics, gt)
		}
		sort.Slice(g.Topics, func(i, j int) bool { return g.Topics[i].Topic < g.Topics[j].Topic })
		if lagKnown {
			s.Totals.Lag += g.TotalLag
		} else {
			g.TotalLag = -1 // no topic's lag is known
		}
		s.Groups = append(s.Groups, g)
	}
	s.Totals.Groups = len(s.Groups)
	return s
}

// starting records partition p of topic in seen (this cycle's map) and reports whether it is
// starting: offline, under-replicated or under min ISR, never healthy since it was first seen, and
// first seen less than StartingGrace ago. pollMu must be held.
func (c *Collector) starting(seen map[partKey]partSeen, topic string, p *Partition, obsAt time.Time) bool {
	key := partKey{topic, p.Partition}
	ps, ok := c.st.partSeen[key]
	if !ok {
		ps = partSeen{first: obsAt}
	}
	degraded := p.Offline || p.UnderReplicated || p.UnderMinISR
	if !degraded {
		ps.healthy = true
	}
	seen[key] = ps
	return degraded && !ps.healthy && obsAt.Sub(ps.first) < c.cfg.StartingGrace
}

// memberCount is the number of brokers the snapshot will list: those in metadata, those named in a
// replica list (down but still holding replicas) and those seen earlier and not yet forgotten. It
// is the denominator of the broker spread, so a topic on a down broker never spreads over more
// than 100% of the cluster. pollMu must be held.
func (c *Collector) memberCount(md *admin.Metadata, obsAt time.Time) int {
	ids := map[int32]bool{}
	for _, b := range md.Brokers {
		ids[b.ID] = true
	}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			for _, r := range p.Replicas {
				ids[r] = true
			}
		}
	}
	for id := range c.st.known {
		if c.cfg.ForgetBrokersAfter <= 0 || obsAt.Sub(c.st.lastSeen[id]) <= c.cfg.ForgetBrokersAfter {
			ids[id] = true
		}
	}
	return len(ids)
}

func at(s []int64, p int32) int64 {
	if p < 0 || int(p) >= len(s) {
		return -1
	}
	return s[p]
}

func buildSamples(s *Snapshot) *Samples {
	out := &Samples{Cluster: s.Cluster.Name, Time: s.Cluster.LastPoll}
	out.Topics = make([]TopicSample, 0, len(s.Topics))
	for _, t := range s.Topics {
		out.Topics = append(out.Topics, TopicSample{Topic: t.Name, EndOffsetSum: t.EndOffsetSum, StartOffsetSum: t.StartOffsetSum, SizeBytes: t.SizeBytes, MsgsPerSec: t.MsgsPerSec, BytesPerSec: t.BytesPerSec})
	}
	for _, g := range s.Groups {
		for _, gt := range g.Topics {
			if gt.Lag < 0 {
				continue // unknown lag: a gap in the series, not a -1
			}
			out.Groups = append(out.Groups, GroupTopicSample{Group: g.Name, Topic: gt.Topic, Lag: gt.Lag, LagSeconds: gt.LagSeconds, CommittedSum: gt.CommittedSum})
		}
	}
	for _, b := range s.Brokers {
		out.Brokers = append(out.Brokers, BrokerSample{Broker: b.ID, Leaders: b.Leaders, Replicas: b.Replicas, LogDirBytes: b.LogDirBytes, MsgsPerSec: b.MsgsPerSec, BytesInPerSec: b.BytesInPerSec, Up: b.Up})
	}
	// The cluster's series follow the console's totals: internal topics left out.
	tt := s.Totals.UserTopics()
	out.Totals = ClusterSample{Brokers: tt.Brokers, BrokersUp: tt.BrokersUp, Topics: tt.Topics, Partitions: tt.Partitions, UnderReplicated: tt.UnderReplicated, Offline: tt.Offline, UnderMinISR: tt.UnderMinISR, Groups: tt.Groups, Lag: tt.Lag, MsgsPerSec: tt.MsgsPerSec, BytesPerSec: tt.BytesPerSec, SizeBytes: tt.SizeBytes}
	return out
}
