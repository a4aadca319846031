package controller

import (
	"slices"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// election is how a partition change picks a leader (Kafka's
// PartitionChangeBuilder.Election).
type election int

const (
	// electOnline keeps a valid leader, else takes the first replica that is
	// in the ISR and acceptable.
	electOnline election = iota
	// electPreferred takes the first replica when it is in the ISR and
	// acceptable, else keeps a valid leader, else as electOnline.
	electPreferred
	// electUnclean is electOnline, then any acceptable replica outside the
	// ISR (the ISR becomes that replica alone and its recovery state
	// RECOVERING).
	electUnclean
)

// partitionChange computes the PartitionChangeRecord that takes a partition
// to target ISR, replicas and reassignment lists, electing a leader on the
// way, as Kafka's PartitionChangeBuilder does. Eligible leader replicas
// (KIP-966) are not kept: an ELR found on the partition is cleared.
type partitionChange struct {
	img      image.Image
	topicID  metadata.Uuid
	part     image.Partition
	election election
	// acceptable says whether a broker may lead (Kafka's LeaderAcceptor):
	// by default an active broker.
	acceptable func(int32) bool

	isr, replicas, removing, adding []int32
	recovery                        int8
}

func newChange(img image.Image, topicID metadata.Uuid, p image.Partition) *partitionChange {
	return &partitionChange{
		img: img, topicID: topicID, part: p, election: electOnline,
		acceptable: func(id int32) bool { return isActive(img, id) },
		isr:        slices.Clone(p.Isr), replicas: slices.Clone(p.Replicas),
		removing: slices.Clone(p.RemovingReplicas), adding: slices.Clone(p.AddingReplicas),
		recovery: p.LeaderRecoveryState,
	}
}

// valid is a leader the election may keep or pick without losing data.
func (c *partitionChange) valid(id int32) bool {
	return slices.Contains(c.isr, id) && c.acceptable(id)
}

// completeReassignment finishes a reassignment whose target replicas are
// all in the target ISR (Kafka's PartitionReassignmentReplicas
// .maybeCompleteReassignment): the removed replicas leave the replicas and the
// ISR, and the adding/removing lists empty.
func (c *partitionChange) completeReassignment() {
	if len(c.removing) == 0 && len(c.adding) == 0 {
		return
	}
	isr, replicas := c.isr, c.replicas
	if len(c.removing) > 0 {
		isr = without(c.isr, c.removing...)
		replicas = without(c.replicas, c.removing...)
		if len(isr) == 0 || len(replicas) == 0 {
			return
		}
	}
	if !containsAll(isr, replicas) {
		return
	}
	c.isr, c.replicas = isr, replicas
	c.removing, c.adding = []int32{}, []int32{}
}

// elect returns the leader and whether the election was unclean.
func (c *partitionChange) elect() (int32, bool) {
	if c.election == electPreferred {
		if len(c.replicas) > 0 && c.valid(c.replicas[0]) {
			return c.replicas[0], false
		}
	}
	if c.valid(c.part.Leader) {
		return c.part.Leader, false
	}
	for _, r := range c.replicas {
		if c.valid(r) {
			return r, false
		}
	}
	if c.election == electUnclean {
		for _, r := range c.replicas {
			if c.acceptable(r) {
				return r, true
			}
		}
	}
	return image.NoLeader, false
}

// build returns the record, or nil when nothing changes.
func (c *partitionChange) build() *metadata.PartitionChangeRecord {
	mv := c.img.MetadataVersion()
	rec := metadata.NewPartitionChangeRecord()
	rec.TopicID, rec.PartitionID = c.topicID, c.part.Index

	c.completeReassignment()

	if leader, unclean := c.elect(); leader != c.part.Leader {
		rec.Leader = leader
		if unclean {
			// An unclean leader may lack committed records: it is the ISR
			// alone, and recovers before it takes more members.
			rec.Isr = []int32{leader}
			if c.part.LeaderRecoveryState != image.LeaderRecovering {
				rec.LeaderRecoveryState = image.LeaderRecovering
			}
		}
	}
	// A reassignment that drops a replica bumps the leader epoch, so the
	// dropped replica's fetches are fenced.
	if rec.Leader == metadata.NoLeaderChange && !containsAll(c.replicas, c.part.Replicas) {
		rec.Leader = c.part.Leader
	}
	if len(c.part.EligibleLeaderReplicas) > 0 && mv >= image.MetadataVersion40IV1 {
		rec.EligibleLeaderReplicas = []int32{}
	}
	// Without ELR the ISR never becomes empty: its last member stays.
	if rec.Isr == nil && len(c.isr) > 0 && !sameList(c.isr, c.part.Isr) {
		rec.Isr = c.isr
	}
	// Before 3.6-IV0 brokers needed a leader epoch bump on every ISR shrink
	// (KAFKA-15021).
	if mv < mv36IV0 && rec.Leader == metadata.NoLeaderChange && rec.Isr != nil && !containsAll(rec.Isr, c.part.Isr) {
		rec.Leader = c.part.Leader
	}
	c.setAssignment(&rec, mv)
	if c.recovery != c.part.LeaderRecoveryState {
		rec.LeaderRecoveryState = c.recovery
	}
	if isNoOp(&rec) {
		return nil
	}
	return &rec
}

func (c *partitionChange) setAssignment(rec *metadata.PartitionChangeRecord, mv int16) {
	if len(c.replicas) > 0 {
		if directoriesSupported(mv) {
			dirs := make([]metadata.Uuid, len(c.replicas))
			for i, r := range c.replicas {
				if d, ok := c.part.Directory(r); ok {
					dirs[i] = d
				} else {
					dirs[i] = defaultDir(c.img, r)
				}
			}
			if !slices.Equal(dirs, c.part.Directories) {
				rec.Directories = dirs
			}
		}
		if !sameList(c.replicas, c.part.Replicas) {
			rec.Replicas = c.replicas
		}
	}
	if !sameList(c.removing, c.part.RemovingReplicas) {
		rec.RemovingReplicas = emptyIfNil(c.removing)
	}
	if !sameList(c.adding, c.part.AddingReplicas) {
		rec.AddingReplicas = emptyIfNil(c.adding)
	}
}

func isNoOp(r *metadata.PartitionChangeRecord) bool {
	return r.Isr == nil && r.Leader == metadata.NoLeaderChange && r.Replicas == nil &&
		r.RemovingReplicas == nil && r.AddingReplicas == nil && r.LeaderRecoveryState == -1 &&
		r.Directories == nil && r.EligibleLeaderReplicas == nil && r.LastKnownElr == nil
}

// addChange builds c and adds its record to b; it reports whether there was one.
func addChange(b *batch, c *partitionChange) bool {
	rec := c.build()
	if rec == nil {
		return false
	}
	b.add(rec, partitionVersion(b.mv))
	return true
}

// moveOff writes the changes that take broker out of every ISR it is in and
// elect new leaders where it led (Kafka's generateLeaderAndIsrUpdates with a
// broker to remove): on fencing, controlled shutdown and unregistration. The
// last ISR member stays in the ISR; a partition whose only ISR member is
// broker is left without a leader unless unclean election is allowed for
// its topic. It stops once b holds limit records (limit <= 0: no limit) and
// reports whether it went through every partition.
func (c *Controller) moveOff(b *batch, broker int32, limit int) bool {
	img := b.image()
	done := true
	forEachPartition(img, func(t image.Topic, p image.Partition) bool {
		if !slices.Contains(p.Isr, broker) {
			return true
		}
		if limit > 0 && len(b.recs) >= limit {
			done = false
			return false
		}
		ch := newChange(img, t.ID, p)
		ch.acceptable = func(id int32) bool { return id != broker && isActive(img, id) }
		if c.uncleanAllowed(img, t.Name) {
			ch.election = electUnclean
		}
		ch.isr = without(p.Isr, broker)
		addChange(b, ch)
		return true
	})
	return done
}

// electFor writes leader elections for the leaderless partitions broker may
// now lead (Kafka's handleBrokerUnfenced): broker counts as acceptable even
// before the image shows it unfenced.
func (c *Controller) electFor(b *batch, broker int32) {
	img := b.image()
	forEachPartition(img, func(t image.Topic, p image.Partition) bool {
		if p.Leader != image.NoLeader || !p.HasReplica(broker) {
			return true
		}
		ch := newChange(img, t.ID, p)
		ch.acceptable = func(id int32) bool { return id == broker || isActive(img, id) }
		if c.uncleanAllowed(img, t.Name) {
			ch.election = electUnclean
		}
		addChange(b, ch)
		return true
	})
}
