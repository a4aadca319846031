package collector

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/internal/forecast"
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
	// shareOffsets is the last cycle's share-partitions of share groups (group → topic →
	// partition) and shareStates their in-flight state from the share state source (share.go).
	shareOffsets map[string]map[string]map[int32]admin.ShareOffset
	shareStates  map[shareKey]SharePartitionState

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
	retention map[string]forecast.Retention // topics whose retention configs were read
	policy    map[string]string             // cleanup.policy of the topics whose configs were read

	// cleaner is the last cycle's cleaner states by broker (cleaner.go); nil without a source.
	cleaner map[int32]map[partKey]CleanerState
	// sec is the previous reading of the security source (security.go).
	sec securityState

	// Storage (storage.go): each log directory's history, each topic's bytes over all replicas
	// and the bytes written to it over the storage window.
	dirs      map[dirKey]*dirTrack
	topicDisk map[string]int64
	written   map[string]*writtenTrack

	// zkAt and zk are written by refreshZK, which runs beside the rest of refresh; nothing else
	// touches them until it has ended.
	zkAt time.Time
	zk   *ZooKeeperInfo

	q quorumState // the KRaft quorum (quorum.go)

	known    map[int32]Broker // every broker seen, for marking missing ones down
	lastSeen map[int32]time.Time

	// For the starting state (Config.StartingGrace): when each current partition and each known
	// broker was first seen, and whether it has been healthy (up) since.
	partSeen    map[partKey]partSeen
	brokerFirst map[int32]time.Time
	brokerUp    map[int32]bool // has been up at least once

	// catchUp is each group×topic's recent positions for the catch-up estimate; the group's own
	// (all topics summed) is under topic "".
	catchUp map[catchKey]*catchTrack
}

type catchKey struct{ group, topic string }

type partKey struct {
	topic     string
	partition int32
}

type partSeen struct {
	first   time.Time
	healthy bool // had a leader, a full ISR and min ISR in some cycle
	// isr is the last ISR seen (as a set: sorted); isrChanges the times it changed within
	// Config.FlapWindow, oldest first.
	isr        []int32
	isrChanges []time.Time
	// stable is the last stable offset seen behind the high watermark and stableSince the cycle it
	// was first seen at that value (zero when the LSO has caught up).
	// stableHW is the high watermark at that first cycle.
	stable      int64
	stableSince time.Time
	stableHW    int64
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
			catchUp: map[catchKey]*catchTrack{},
			dirs:    map[dirKey]*dirTrack{}, retention: map[string]forecast.Retention{}, written: map[string]*writtenTrack{},
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
		if c.holds() {
			c.poll(ctx, false)
		}
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
// Without the cluster's lease (Config.Hold) it polls nothing and returns the latest snapshot.
func (c *Collector) PollNow(ctx context.Context) *Snapshot {
	if !c.holds() {
		return c.Latest()
	}
	return c.poll(ctx, true)
}

func (c *Collector) holds() bool { return c.cfg.Hold == nil || c.cfg.Hold() }

// Adopt publishes a snapshot another console polled (the holder of the cluster's lease), marked
// Shared, to Latest and the subscribers; it is not written to the sink. It is ignored unless it is
// newer than the latest snapshot.
func (c *Collector) Adopt(s *Snapshot) {
	if s == nil {
		return
	}
	if l := c.Latest(); l != nil && !s.Cluster.LastPoll.After(l.Cluster.LastPoll) {
		return
	}
	s.Cluster.Shared = true
	c.announce(s)
}

func (c *Collector) running() bool {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	return c.started
}

func (c *Collector) publish(ctx context.Context, s *Snapshot) {
	c.announce(s)
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

// announce makes s the latest snapshot and hands it to every subscriber.
func (c *Collector) announce(s *Snapshot) {
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
}
