package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/storage"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The follower's side of replication: one fetcher per leader broker truncates to where it agrees
// with the leader (OffsetForLeaderEpoch) and appends what it fetches.

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
			kc, err = dialKafka(ctx, addr, "osprey-replica-"+strconv.Itoa(int(f.b.cfg.BrokerID)), f.b.interBroker)
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
		p.truncatedTxnsLocked()
		f.b.log.Info("follower log truncated", "topic", p.topic, "partition", p.index, "to", to, "leader", f.leader, "leader_epoch", fp.epoch)
	}
	fp.truncated = true
}

// fetch sends one Fetch for every truncated partition and appends what
// comes back.
func (f *fetcher) fetch(ctx context.Context, kc *kafkaConn, parts []*fetchPart) error {
	// Made here and lent to the steps, so that they stay on the stack.
	sent := map[string]*fetchPart{}
	throttled := map[string]bool{}
	req := f.fetchRequest(parts, sent, throttled)
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
		return fmt.Errorf("fetch from leader %d: %w", f.leader, kerr.ErrorForCode(resp.ErrorCode))
	}
	f.applyFetch(resp, sent, throttled)
	return nil
}

// fetchRequest builds the Fetch for every truncated partition, recording
// each one asked for in sent and those under the follower replication
// throttle in throttled; a throttled partition is left out while the
// throttle's quota is used up.
func (f *fetcher) fetchRequest(parts []*fetchPart, sent map[string]*fetchPart, throttled map[string]bool) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	req.ReplicaID = f.b.cfg.BrokerID
	req.MaxWaitMillis = 500
	req.MinBytes = 1
	req.MaxBytes = max(f.b.cfg.ReplicaFetchMaxBytes, 1<<20) * 10
	req.SessionEpoch = -1
	byTopic := map[string]int{}
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
	return req
}

// applyFetch appends each sent partition's records, or sets it up to
// retry: at once after handling an out-of-range offset, a little later on
// any other error.
func (f *fetcher) applyFetch(resp *kmsg.FetchResponse, sent map[string]*fetchPart, throttled map[string]bool) {
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
}

func (f *fetcher) appendFetched(fp *fetchPart, batches []byte, leaderHW int64) {
	p := fp.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rep.isLeader || p.leaderEpoch != fp.epoch || !f.current(fp) {
		return
	}
	if len(batches) > 0 {
		info, err := p.log.AppendAsFollower(batches)
		if err != nil {
			if errors.Is(err, storage.ErrOffsetNotContiguous) {
				fp.truncated = false
			}
			f.b.log.Warn("follower append failed", "topic", p.topic, "partition", p.index, "err", err)
			fp.retryAfter = time.Now().Add(100 * time.Millisecond)
			return
		}
		if err := p.appendedAsFollowerLocked(batches, info); err != nil {
			f.b.log.Warn("producer snapshot failed", "topic", p.topic, "partition", p.index, "err", err)
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
		p.txn = partitionTxns{}
	}
}
