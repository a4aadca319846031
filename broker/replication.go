package broker

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The leader's side of replication: the ISR loop that adds caught-up followers and removes lagging
// ones, writing the partition state itself.

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
