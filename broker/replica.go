package broker

import (
	"context"
	"slices"
	"time"
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
			if err := p.rebuildProducers(false); err != nil {
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
