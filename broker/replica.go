package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osprey-kafka/osprey/broker/storage"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Replication, as Kafka 2.x does it:
//   - a follower fetches from its leader (Fetch with its broker id as
//     replica id) and appends the batches as they are (AppendAsFollower);
//     after a leader change it first truncates its log to where it agrees
//     with the leader (OffsetForLeaderEpoch; the high watermark when the
//     leader has no answer);
//   - the leader records each follower's fetch offset (its log end offset),
//     moves the high watermark to the minimum log end offset of the ISR,
//     adds a follower that has caught up to the ISR and removes one that has
//     not caught up for replica.lag.time.max.ms (it writes the partition
//     state itself, conditional on the znode version, and leaves an ISR
//     change notification);
//   - acks=all waits for the high watermark to pass the batch.

// replicaState is a partition replica's replication state. Guarded by the
// partition's mu.
type replicaState struct {
	leader    int32 // current leader, -1 = none
	isLeader  bool
	replicas  []int32
	isr       []int32
	followers map[int32]*followerState // leader only
	hwSignal  chan struct{}            // closed and replaced when the HW or the role changes
	isrBusy   bool                     // an ISR change is being written
}

// followerState is what the leader knows of one follower.
type followerState struct {
	leo                int64 // last fetch offset; -1 = not fetched yet under this leader
	lastCaughtUp       time.Time
	lastFetch          time.Time
	lastFetchLeaderLEO int64
}

// signalLocked wakes everything waiting on the HW or the role. p.mu held.
func (p *partition) signalLocked() {
	if p.rep.hwSignal != nil {
		close(p.rep.hwSignal)
	}
	p.rep.hwSignal = make(chan struct{})
}

// hwSignalLocked returns the channel closed at the next HW or role change.
func (p *partition) hwSignalLocked() <-chan struct{} {
	if p.rep.hwSignal == nil {
		p.rep.hwSignal = make(chan struct{})
	}
	return p.rep.hwSignal
}

// applyLayout takes the partition's new leader, epoch, replicas and ISR
// (from the cluster view). It returns whether this broker must now follow
// (and whom) so that the caller updates the fetchers.
func (p *partition) applyLayout(pi PartitionInfo, self int32) followTarget {
	p.mu.Lock()
	defer p.mu.Unlock()
	wasLeader := p.rep.isLeader
	oldEpoch := p.leaderEpoch
	p.leaderEpoch = pi.LeaderEpoch
	p.rep.leader = pi.Leader
	p.rep.replicas = slices.Clone(pi.Replicas)
	p.rep.isLeader = pi.Leader == self
	if p.rep.isLeader {
		// The leader's own ISR changes are applied when written; a view
		// that lags behind them must not undo them, so only a new epoch
		// (a controller decision) replaces the ISR wholesale.
		if !wasLeader || oldEpoch != pi.LeaderEpoch || !p.rep.isrBusy {
			p.rep.isr = slices.Clone(pi.ISR)
		}
		if !wasLeader || oldEpoch != pi.LeaderEpoch {
			now := time.Now()
			nf := map[int32]*followerState{}
			for _, r := range pi.Replicas {
				if r == self {
					continue
				}
				if f, ok := p.rep.followers[r]; ok && wasLeader {
					nf[r] = f
					continue
				}
				// Kafka gives every follower a fresh lag clock on election.
				nf[r] = &followerState{leo: -1, lastCaughtUp: now, lastFetch: now}
			}
			p.rep.followers = nf
		} else {
			for _, r := range pi.Replicas {
				if _, ok := p.rep.followers[r]; !ok && r != self {
					now := time.Now()
					p.rep.followers[r] = &followerState{leo: -1, lastCaughtUp: now, lastFetch: now}
				}
			}
		}
		if !wasLeader && p.topic != offsetsTopic {
			// The producer state of the old leader is in the replicated
			// log: rebuild it so retried batches are recognised here.
			p.producers = map[int64]*producerState{}
			if err := p.rebuildProducers(); err != nil {
				_ = err // best effort: unknown producers start fresh
			}
		}
		p.maybeAdvanceHWLocked()
		p.signalLocked()
		return followTarget{leader: -1, becameLeader: !wasLeader}
	}
	p.rep.isr = slices.Clone(pi.ISR)
	p.rep.followers = nil
	if wasLeader {
		p.signalLocked() // acks=all waiters answer NOT_LEADER_OR_FOLLOWER
	}
	return followTarget{follow: pi.Leader >= 0, leader: pi.Leader, epoch: pi.LeaderEpoch, resigned: wasLeader}
}

// drop ends p's roles when this broker stops hosting it (its replica moved
// away, or its topic was deleted): acks=all waiters answer
// NOT_LEADER_OR_FOLLOWER at once, as Kafka's StopReplica completes the
// delayed produces of a partition it removes, instead of at their timeout,
// and a produce still holding p is refused.
func (p *partition) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rep.isLeader = false
	p.rep.leader = -1
	p.rep.followers = nil
	p.signalLocked()
}

// followTarget says whom a replica fetches from.
type followTarget struct {
	follow        bool
	leader, epoch int32
	becameLeader  bool // this broker just took over the leadership
	resigned      bool // this broker just stopped leading it
}

// maybeAdvanceHWLocked moves the leader's HW to the minimum log end offset
// of the ISR. p.mu held. Reports whether it moved.
func (p *partition) maybeAdvanceHWLocked() bool {
	if !p.rep.isLeader {
		return false
	}
	hw := p.log.LogEndOffset()
	for _, r := range p.rep.isr {
		f, ok := p.rep.followers[r]
		if !ok {
			continue // the leader itself
		}
		if f.leo < 0 {
			return false // not heard from since the election
		}
		hw = min(hw, f.leo)
	}
	if hw > p.log.HighWatermark() {
		p.log.SetHighWatermark(hw)
		p.signalLocked()
		return true
	}
	return false
}

// followerFetched records a follower's fetch at offset. It returns whether
// the HW moved and whether the ISR should be reconsidered.
func (p *partition) followerFetched(replica int32, offset int64, now time.Time) (hwMoved, isrCheck bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.rep.isLeader {
		return false, false
	}
	f, ok := p.rep.followers[replica]
	if !ok {
		return false, false
	}
	leo := p.log.LogEndOffset()
	switch {
	case offset >= leo:
		f.lastCaughtUp = now
	case offset >= f.lastFetchLeaderLEO && f.lastFetchLeaderLEO >= 0:
		f.lastCaughtUp = f.lastFetch
	}
	f.leo, f.lastFetch, f.lastFetchLeaderLEO = offset, now, leo
	inISR := slices.Contains(p.rep.isr, replica)
	isrCheck = !inISR && offset >= p.log.HighWatermark() && !p.rep.isrBusy
	return p.maybeAdvanceHWLocked(), isrCheck
}

// desiredISRLocked is the ISR the leader wants now: caught-up followers in,
// lagging ones out. p.mu held.
func (p *partition) desiredISRLocked(self int32, lagMax time.Duration, now time.Time, live func(int32) bool) []int32 {
	hw := p.log.HighWatermark()
	var isr []int32
	for _, r := range p.rep.replicas {
		if r == self {
			isr = append(isr, r)
			continue
		}
		f := p.rep.followers[r]
		if f == nil {
			continue
		}
		in := slices.Contains(p.rep.isr, r)
		switch {
		case in && now.Sub(f.lastCaughtUp) <= lagMax:
			isr = append(isr, r)
		case !in && f.leo >= 0 && f.leo >= hw && now.Sub(f.lastCaughtUp) <= lagMax && now.Sub(f.lastFetch) <= min(lagMax, followerFetchFresh) && live(r):
			isr = append(isr, r)
		}
	}
	return isr
}

// waitHW waits until the HW reaches offset (acks=all). It returns a Kafka
// error code: 0, NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS_AFTER_APPEND or
// REQUEST_TIMED_OUT.
func (p *partition) waitHW(ctx context.Context, offset int64, epoch, minISR int32) int16 {
	for {
		p.mu.Lock()
		if !p.rep.isLeader || p.leaderEpoch != epoch && p.log.HighWatermark() < offset {
			p.mu.Unlock()
			return errNotLeader
		}
		if p.log.HighWatermark() >= offset {
			short := int32(len(p.rep.isr)) < minISR
			p.mu.Unlock()
			if short {
				return errNotEnoughReplicasAfterAppend
			}
			return 0
		}
		ch := p.hwSignalLocked()
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return errRequestTimedOut
		}
	}
}

// followerFetchFresh: a follower joins the ISR only while it is fetching
// (its fetches long-poll for at most 500ms), never on old fetch state.
const followerFetchFresh = 1500 * time.Millisecond

// ---- the leader's ISR maintenance ----

// isrAlterer is implemented by clusters where the leader writes ISR
// changes itself (zkCluster).
type isrAlterer interface {
	alterISR(ctx context.Context, topic string, partition, leaderEpoch int32, isr []int32) error
}

// replication is a broker's replication machinery: the follower fetchers
// and the leader's ISR loop.
type replication struct {
	b *Broker

	mu       sync.Mutex // guards fetchers
	fetchers map[int32]*fetcher

	isrCh chan *partition // partitions whose ISR may need a change

	// groups is the group coordinator once created: leadership changes of
	// __consumer_offsets partitions load or unload their groups.
	groups atomic.Pointer[groupCoordinator]

	leaderThrottle, followerThrottle *throttle // throttle.go
}

func newReplication(b *Broker) *replication {
	r := &replication{b: b, fetchers: map[int32]*fetcher{}, isrCh: make(chan *partition, 1024),
		leaderThrottle: newThrottle(), followerThrottle: newThrottle()}
	r.leaderThrottle.setRate(b.cfg.LeaderReplicationThrottle)
	r.followerThrottle.setRate(b.cfg.FollowerReplicationThrottle)
	return r
}

// start runs the ISR loop until the broker's context ends.
func (r *replication) start() {
	r.b.wg.Add(1)
	go func() {
		defer r.b.wg.Done()
		r.isrLoop()
	}()
}

// stop ends every fetcher and waits for them.
func (r *replication) stop() {
	r.mu.Lock()
	fs := r.fetchers
	r.fetchers = map[int32]*fetcher{}
	r.mu.Unlock()
	for _, f := range fs {
		f.stop()
	}
}

// checkISR queues p for an ISR check (never blocks).
func (r *replication) checkISR(p *partition) {
	select {
	case r.isrCh <- p:
	default:
	}
}

func (r *replication) isrLoop() {
	lag := r.b.cfg.ReplicaLagTimeMax
	tick := time.NewTicker(max(lag/2, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-r.b.ctx.Done():
			return
		case p := <-r.isrCh:
			r.updateISR(p)
		case <-tick.C:
			for _, p := range r.b.data.all() {
				r.updateISR(p)
			}
		}
	}
}

// updateISR writes the partition's desired ISR if it differs.
func (r *replication) updateISR(p *partition) {
	view := r.b.view()
	alt, ok := view.(isrAlterer)
	if !ok {
		return
	}
	self := r.b.cfg.BrokerID
	brokers := view.Brokers()
	live := func(id int32) bool {
		return slices.ContainsFunc(brokers, func(bi BrokerInfo) bool { return bi.ID == id })
	}
	p.mu.Lock()
	if !p.rep.isLeader || p.rep.isrBusy {
		p.mu.Unlock()
		return
	}
	want := p.desiredISRLocked(self, r.b.cfg.ReplicaLagTimeMax, time.Now(), live)
	if slices.Equal(want, p.rep.isr) || len(want) == 0 {
		p.mu.Unlock()
		return
	}
	epoch := p.leaderEpoch
	old := slices.Clone(p.rep.isr)
	p.rep.isrBusy = true
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(r.b.ctx, 10*time.Second)
	err := alt.alterISR(ctx, p.topic, p.index, epoch, want)
	cancel()
	p.mu.Lock()
	p.rep.isrBusy = false
	if err == nil && p.rep.isLeader && p.leaderEpoch == epoch {
		p.rep.isr = want
		p.maybeAdvanceHWLocked()
	}
	p.mu.Unlock()
	if err != nil {
		r.b.log.Warn("ISR change failed", "topic", p.topic, "partition", p.index, "isr", want, "err", err)
		return
	}
	r.b.log.Info("ISR changed", "topic", p.topic, "partition", p.index, "from", old, "to", want, "leader_epoch", epoch)
	r.b.signalAppend()
}

// view returns the broker's cluster, nil while it is being set up (the
// cluster's watcher may start fetchers before Start has stored it).
func (b *Broker) view() Cluster {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cluster
}

// ---- followers ----

// follow makes p fetch from leader at epoch (or stop fetching when leader
// is -1 or this broker leads).
func (r *replication) follow(p *partition, t followTarget) {
	if (t.becameLeader || t.resigned) && p.topic == offsetsTopic {
		if gc := r.groups.Load(); gc != nil {
			gc.partitionChanged(p.index)
		}
	}
	follow, leader, epoch := t.follow, t.leader, t.epoch
	r.mu.Lock()
	defer r.mu.Unlock()
	key := tpKey(p.topic, p.index)
	for id, f := range r.fetchers {
		if id == leader && follow {
			continue
		}
		if f.remove(key) {
			delete(r.fetchers, id)
			go f.stop()
		}
	}
	if !follow || r.b.ctx.Err() != nil {
		return
	}
	f := r.fetchers[leader]
	if f == nil {
		f = newFetcher(r.b, leader)
		r.fetchers[leader] = f
	}
	f.add(key, p, epoch)
}

// forget stops fetching p (its replica was deleted); a coordinator of its
// groups gives them up.
func (r *replication) forget(p *partition) { r.follow(p, followTarget{leader: -1, resigned: true}) }

// fetcher fetches every partition this broker follows from one leader over
// one connection, as Kafka's ReplicaFetcherThread.
type fetcher struct {
	b      *Broker
	leader int32

	mu    sync.Mutex // guards parts
	parts map[string]*fetchPart
	wake  chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

type fetchPart struct {
	p          *partition
	epoch      int32
	truncated  bool
	retryAfter time.Time
}

func newFetcher(b *Broker, leader int32) *fetcher {
	ctx, cancel := context.WithCancel(b.ctx)
	f := &fetcher{b: b, leader: leader, parts: map[string]*fetchPart{}, wake: make(chan struct{}, 1),
		cancel: cancel, done: make(chan struct{})}
	go f.run(ctx)
	return f
}

func (f *fetcher) stop() {
	f.cancel()
	<-f.done
}

func (f *fetcher) add(key string, p *partition, epoch int32) {
	f.mu.Lock()
	if fp, ok := f.parts[key]; ok && fp.p == p && fp.epoch == epoch {
		f.mu.Unlock()
		return
	}
	f.parts[key] = &fetchPart{p: p, epoch: epoch}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// remove drops key; it reports whether the fetcher has nothing left.
func (f *fetcher) remove(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.parts, key)
	return len(f.parts) == 0
}

func (f *fetcher) snapshot() []*fetchPart {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*fetchPart, 0, len(f.parts))
	now := time.Now()
	for _, fp := range f.parts {
		if now.After(fp.retryAfter) {
			out = append(out, fp)
		}
	}
	return out
}

func (f *fetcher) current(fp *fetchPart) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.parts[tpKey(fp.p.topic, fp.p.index)]
	return ok && cur == fp
}

func (f *fetcher) run(ctx context.Context) {
	defer close(f.done)
	var kc *kafkaConn
	defer func() {
		if kc != nil {
			kc.Close()
		}
	}()
	backoff := func(d time.Duration) bool { return sleepCtx(ctx, d) }
	for ctx.Err() == nil {
		parts := f.snapshot()
		if len(parts) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-f.wake:
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		if kc == nil {
			addr := ""
			view := f.b.view()
			if view == nil {
				if !backoff(100 * time.Millisecond) {
					return
				}
				continue
			}
			for _, bi := range view.Brokers() {
				if bi.ID == f.leader {
					addr = net.JoinHostPort(bi.Host, strconv.Itoa(int(bi.Port)))
				}
			}
			if addr == "" {
				if !backoff(200 * time.Millisecond) {
					return
				}
				continue
			}
			var err error
			kc, err = dialKafka(ctx, addr, "osprey-replica-"+strconv.Itoa(int(f.b.cfg.BrokerID)))
			if err != nil {
				if !backoff(200 * time.Millisecond) {
					return
				}
				continue
			}
		}
		if err := f.truncate(ctx, kc, parts); err != nil {
			kc.Close()
			kc = nil
			if ctx.Err() == nil {
				f.b.log.Debug("replica truncation request failed", "leader", f.leader, "err", err)
			}
			if !backoff(200 * time.Millisecond) {
				return
			}
			continue
		}
		if err := f.fetch(ctx, kc, parts); err != nil {
			kc.Close()
			kc = nil
			if ctx.Err() == nil {
				f.b.log.Debug("replica fetch failed", "leader", f.leader, "err", err)
			}
			if !backoff(200 * time.Millisecond) {
				return
			}
		}
	}
}

// truncate brings the logs of newly followed partitions back to where
// they agree with the leader (KIP-101/279).
func (f *fetcher) truncate(ctx context.Context, kc *kafkaConn, parts []*fetchPart) error {
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.Version = 3
	req.ReplicaID = f.b.cfg.BrokerID
	byTopic := map[string]int{}
	var pending []*fetchPart
	for _, fp := range parts {
		if fp.truncated {
			continue
		}
		latest := fp.p.log.LatestEpoch()
		if latest < 0 {
			fp.truncated = true // empty log: nothing to agree on
			continue
		}
		i, ok := byTopic[fp.p.topic]
		if !ok {
			t := kmsg.NewOffsetForLeaderEpochRequestTopic()
			t.Topic = fp.p.topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			byTopic[fp.p.topic] = i
		}
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = fp.p.index, fp.epoch, latest
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		pending = append(pending, fp)
	}
	if len(pending) == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp := kmsg.NewPtrOffsetForLeaderEpochResponse()
	if err := kc.Do(rctx, req, resp); err != nil {
		return err
	}
	find := func(topic string, part int32) *fetchPart {
		for _, fp := range pending {
			if fp.p.topic == topic && fp.p.index == part {
				return fp
			}
		}
		return nil
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			fp := find(rt.Topic, rp.Partition)
			if fp == nil {
				continue
			}
			if rp.ErrorCode != 0 {
				fp.retryAfter = time.Now().Add(100 * time.Millisecond)
				continue
			}
			f.applyTruncation(fp, rp.LeaderEpoch, rp.EndOffset)
		}
	}
	return nil
}

func (f *fetcher) applyTruncation(fp *fetchPart, leaderEpoch int32, leaderEnd int64) {
	p := fp.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rep.isLeader || p.leaderEpoch != fp.epoch || !f.current(fp) {
		return
	}
	to := p.log.HighWatermark()
	if leaderEpoch >= 0 && leaderEnd >= 0 {
		_, localEnd := p.log.EndOffsetForEpoch(leaderEpoch)
		to = leaderEnd
		if localEnd >= 0 {
			to = min(leaderEnd, localEnd)
		}
	}
	if to < p.log.LogEndOffset() {
		if err := p.log.TruncateTo(to); err != nil {
			f.b.log.Error("truncating follower log", "topic", p.topic, "partition", p.index, "to", to, "err", err)
			return
		}
		f.b.log.Info("follower log truncated", "topic", p.topic, "partition", p.index, "to", to, "leader", f.leader, "leader_epoch", fp.epoch)
	}
	fp.truncated = true
}

// fetch sends one Fetch for every truncated partition and appends what
// comes back.
func (f *fetcher) fetch(ctx context.Context, kc *kafkaConn, parts []*fetchPart) error {
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	req.ReplicaID = f.b.cfg.BrokerID
	req.MaxWaitMillis = 500
	req.MinBytes = 1
	req.MaxBytes = max(f.b.cfg.ReplicaFetchMaxBytes, 1<<20) * 10
	req.SessionEpoch = -1
	byTopic := map[string]int{}
	sent := map[string]*fetchPart{}
	throttled := map[string]bool{}
	view := f.b.view()
	overQuota := f.b.repl.followerThrottle.exceeded()
	self := f.b.cfg.BrokerID
	for _, fp := range parts {
		if !fp.truncated {
			continue
		}
		if view != nil {
			t, _ := view.Topic(fp.p.topic)
			if throttledReplica(t.Configs["follower.replication.throttled.replicas"], fp.p.index, self) &&
				int(fp.p.index) < len(t.Partitions) && !slices.Contains(t.Partitions[fp.p.index].ISR, self) {
				if overQuota {
					continue
				}
				throttled[tpKey(fp.p.topic, fp.p.index)] = true
			}
		}
		i, ok := byTopic[fp.p.topic]
		if !ok {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = fp.p.topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			byTopic[fp.p.topic] = i
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = fp.p.index
		rp.CurrentLeaderEpoch = fp.epoch
		rp.FetchOffset = fp.p.log.LogEndOffset()
		rp.LogStartOffset = fp.p.log.LogStartOffset()
		rp.PartitionMaxBytes = max(f.b.cfg.ReplicaFetchMaxBytes, 1)
		if throttled[tpKey(fp.p.topic, fp.p.index)] {
			rp.PartitionMaxBytes = min(rp.PartitionMaxBytes, f.b.repl.followerThrottle.available())
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		sent[tpKey(fp.p.topic, fp.p.index)] = fp
	}
	if len(sent) == 0 {
		// Everything is throttled (or being truncated): wait a little.
		sleepCtx(ctx, 100*time.Millisecond)
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp := kmsg.NewPtrFetchResponse()
	if err := kc.Do(rctx, req, resp); err != nil {
		return err
	}
	if resp.ErrorCode != 0 {
		return fmt.Errorf("fetch from leader %d: error code %d", f.leader, resp.ErrorCode)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			fp := sent[tpKey(rt.Topic, rp.Partition)]
			if fp == nil {
				continue
			}
			switch rp.ErrorCode {
			case 0:
				if throttled[tpKey(rt.Topic, rp.Partition)] {
					f.b.repl.followerThrottle.record(len(rp.RecordBatches))
				}
				f.appendFetched(fp, rp.RecordBatches, rp.HighWatermark)
			case errOffsetOutOfRange:
				fp.truncated = false
				fp.retryAfter = time.Now().Add(100 * time.Millisecond)
				f.outOfRange(fp, rp.LogStartOffset)
			default:
				// NOT_LEADER, FENCED/UNKNOWN_LEADER_EPOCH, ...: the view
				// catches up shortly; retry this partition a bit later.
				fp.retryAfter = time.Now().Add(100 * time.Millisecond)
			}
		}
	}
	return nil
}

func (f *fetcher) appendFetched(fp *fetchPart, batches []byte, leaderHW int64) {
	p := fp.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rep.isLeader || p.leaderEpoch != fp.epoch || !f.current(fp) {
		return
	}
	if len(batches) > 0 {
		if _, err := p.log.AppendAsFollower(batches); err != nil {
			if errors.Is(err, storage.ErrOffsetNotContiguous) {
				fp.truncated = false
			}
			f.b.log.Warn("follower append failed", "topic", p.topic, "partition", p.index, "err", err)
			fp.retryAfter = time.Now().Add(100 * time.Millisecond)
			return
		}
	}
	if leaderHW >= 0 {
		p.log.SetHighWatermark(min(leaderHW, p.log.LogEndOffset()))
	}
}

// outOfRange handles a fetch offset the leader does not have: below its
// log start the follower restarts empty there; otherwise it re-truncates.
func (f *fetcher) outOfRange(fp *fetchPart, leaderStart int64) {
	p := fp.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rep.isLeader || p.leaderEpoch != fp.epoch || !f.current(fp) {
		return
	}
	if leaderStart > p.log.LogEndOffset() {
		if err := p.log.TruncateFullyAndStartAt(leaderStart); err != nil {
			f.b.log.Error("resetting follower log", "topic", p.topic, "partition", p.index, "err", err)
		}
	}
}

// ---- a minimal Kafka client connection for broker-to-broker requests ----

// kafkaConn sends one request at a time on a connection to another broker.
// Not safe for concurrent use (a fetcher owns it).
type kafkaConn struct {
	c    net.Conn
	corr int32
	f    *kmsg.RequestFormatter
}

func dialKafka(ctx context.Context, addr, clientID string) (*kafkaConn, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	return &kafkaConn{c: c, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID))}, nil
}

func (k *kafkaConn) Close() error { return k.c.Close() }

// Do sends req and decodes the answer into resp, within ctx's deadline.
func (k *kafkaConn) Do(ctx context.Context, req kmsg.Request, resp kmsg.Response) error {
	if dl, ok := ctx.Deadline(); ok {
		k.c.SetDeadline(dl) //nolint:errcheck // a failed deadline shows up as an I/O error
	}
	stop := context.AfterFunc(ctx, func() { k.c.SetDeadline(time.Unix(1, 0)) }) //nolint:errcheck
	defer stop()
	k.corr++
	buf := k.f.AppendRequest(nil, req, k.corr)
	if _, err := k.c.Write(buf); err != nil {
		return fmt.Errorf("writing %s: %w", kmsg.NameForKey(req.Key()), err)
	}
	var hdr [8]byte
	if _, err := io.ReadFull(k.c, hdr[:4]); err != nil {
		return fmt.Errorf("reading %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	size := int32(binary.BigEndian.Uint32(hdr[:4]))
	if size < 4 || size > 256<<20 {
		return fmt.Errorf("bad response size %d", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(k.c, body); err != nil {
		return fmt.Errorf("reading %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	if corr := int32(binary.BigEndian.Uint32(body)); corr != k.corr {
		return fmt.Errorf("correlation id %d, want %d", corr, k.corr)
	}
	body = body[4:]
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() && req.Key() != 18 {
		// Response header v1: tagged fields.
		n, l := binary.Uvarint(body)
		if l <= 0 {
			return errors.New("bad response header")
		}
		body = body[l:]
		for i := uint64(0); i < n; i++ {
			_, l1 := binary.Uvarint(body)
			if l1 <= 0 {
				return errors.New("bad response header tag")
			}
			sz, l2 := binary.Uvarint(body[l1:])
			if l2 <= 0 || uint64(len(body)) < uint64(l1+l2)+sz {
				return errors.New("bad response header tag")
			}
			body = body[uint64(l1+l2)+sz:]
		}
	}
	return resp.ReadFrom(body)
}
