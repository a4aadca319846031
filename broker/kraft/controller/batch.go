package controller

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// batch is the records one Handle or Tick writes, replayed as they are made
// onto a delta of the image they started from, so later decisions in the same
// call see earlier ones and every record is known to replay cleanly.
//
// Applying a delta copies the image's maps, so reads avoid it where they
// can: view is the starting image until a record other than a partition's
// is added, and partition reads a partition from the starting image unless
// the batch changed it.
type batch struct {
	mv    int16
	start image.Image
	delta *image.Delta
	cur   image.Image
	stale bool
	recs  []image.VersionedRecord
	err   error // a record the image refused: a bug here, never sent

	parts map[partKey]bool // partitions the batch created or changed
	other bool             // a record other than a partition's was added
}

type partKey struct {
	topic metadata.Uuid
	index int32
}

func newBatch(img image.Image) *batch {
	return &batch{mv: img.MetadataVersion(), start: img, delta: image.NewDelta(img), cur: img}
}

// add appends a record at version v.
func (b *batch) add(r metadata.Record, v int16) {
	if b.err != nil {
		return
	}
	if err := b.delta.Replay(r); err != nil {
		b.err = fmt.Errorf("controller made a record its image refuses: %w", err)
		return
	}
	b.recs = append(b.recs, image.VersionedRecord{Record: r, Version: v})
	b.stale = true
	switch r := r.(type) {
	case *metadata.PartitionChangeRecord:
		b.touch(r.TopicID, r.PartitionID)
	case *metadata.PartitionRecord:
		b.touch(r.TopicID, r.PartitionID)
	default:
		b.other = true
	}
}

func (b *batch) touch(topic metadata.Uuid, index int32) {
	if b.parts == nil {
		b.parts = map[partKey]bool{}
	}
	b.parts[partKey{topic, index}] = true
}

// image is the starting image with every record added so far.
func (b *batch) image() image.Image {
	if b.stale {
		b.cur = b.delta.Apply()
		b.stale = false
	}
	return b.cur
}

// view is an image whose brokers, topics (by name and id), configurations
// and producer ids are as the batch has them; only its partitions may be
// older (read them with partition).
func (b *batch) view() image.Image {
	if b.other {
		return b.image()
	}
	return b.start
}

// partition returns partition index of t (a topic of view) as the batch has
// it.
func (b *batch) partition(t image.Topic, index int32) (image.Partition, bool) {
	if b.parts[partKey{t.ID, index}] {
		nt, ok := b.image().TopicByID(t.ID)
		if !ok {
			return image.Partition{}, false
		}
		return nt.Partition(index)
	}
	return t.Partition(index)
}

func (b *batch) records() []image.VersionedRecord {
	if len(b.recs) == 0 {
		return nil
	}
	return b.recs
}

// Record versions Kafka writes at a metadata.version (MetadataVersion's
// registerBrokerRecordVersion, partitionRecordVersion,
// partitionChangeRecordVersion, isBrokerRegistrationChangeRecordSupported,
// isInControlledShutdownStateSupported, isLeaderEpochBumpRequiredOnIsrShrink,
// isDirectoryAssignmentSupported).
const (
	mv33IV2 int16 = 6  // BrokerRegistrationChangeRecord
	mv36IV0 int16 = 12 // no leader epoch bump on ISR shrink
)

func registerBrokerVersion(mv int16) int16 {
	switch {
	case mv >= image.MetadataVersion37IV2:
		return 3
	case mv >= image.MetadataVersion34IV0:
		return 2
	case mv >= image.MetadataVersion33IV3:
		return 1
	}
	return 0
}

func partitionVersion(mv int16) int16 {
	switch {
	case mv >= image.MetadataVersion40IV1:
		return 2
	case mv >= image.MetadataVersion37IV2:
		return 1
	}
	return 0
}

func directoriesSupported(mv int16) bool { return mv >= image.MetadataVersion37IV2 }

// Kafka's reserved directory ids (DirectoryId): MIGRATING is the zero id,
// UNASSIGNED is 1.
var (
	dirMigrating  = metadata.Uuid{}
	dirUnassigned = metadata.Uuid{15: 1}
)

// defaultDir is the directory a new replica on broker gets (Kafka's
// ClusterControlManager.defaultDir): the broker's only directory, MIGRATING
// when it registered none, UNASSIGNED when it has several (the broker then
// says where it put the replica) or is not registered.
func defaultDir(img image.Image, broker int32) metadata.Uuid {
	br, ok := img.Broker(broker)
	switch {
	case !ok:
		return dirUnassigned
	case len(br.LogDirs) == 0:
		return dirMigrating
	case len(br.LogDirs) == 1:
		return br.LogDirs[0]
	}
	return dirUnassigned
}

// isActive is Kafka's ClusterControlManager.isActive: registered, unfenced
// and not in controlled shutdown. Only active brokers lead or join an ISR.
func isActive(img image.Image, id int32) bool {
	br, ok := img.Broker(id)
	return ok && !br.Fenced && !br.InControlledShutdown
}

// uncleanAllowed is unclean.leader.election.enable for topic: the topic's
// configuration, else this node's dynamic broker configuration, else the
// cluster-wide dynamic default, else the static broker setting.
func (c *Controller) uncleanAllowed(img image.Image, topic string) bool {
	const key = "unclean.leader.election.enable"
	for _, r := range []image.ConfigResource{
		{Type: image.ResourceTopic, Name: topic},
		{Type: image.ResourceBroker, Name: strconv.Itoa(int(c.cfg.NodeID))},
		{Type: image.ResourceBroker, Name: ""},
	} {
		if v, ok := img.Config(r, key); ok {
			return strings.EqualFold(strings.TrimSpace(v), "true")
		}
	}
	return c.cfg.UncleanLeaderElection
}

// without returns s without the brokers in drop (a new slice).
func without(s []int32, drop ...int32) []int32 {
	out := make([]int32, 0, len(s))
	for _, x := range s {
		if !slices.Contains(drop, x) {
			out = append(out, x)
		}
	}
	return out
}

// containsAll reports whether every element of sub is in s.
func containsAll(s, sub []int32) bool {
	for _, x := range sub {
		if !slices.Contains(s, x) {
			return false
		}
	}
	return true
}

// sameList compares replica lists, nil and empty alike.
func sameList(a, b []int32) bool { return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b)) }

// emptyIfNil turns a nil list into an empty one, so that a
// PartitionChangeRecord field set to it means "now empty" and not "no change".
func emptyIfNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

// forEachPartition calls fn on every partition of img, topics by name and
// partitions by index, until fn returns false. Partitions are read one at a
// time (their indexes run from 0, as every partition is created), so a scan
// of a large cluster does not copy them all.
func forEachPartition(img image.Image, fn func(t image.Topic, p image.Partition) bool) {
	for _, t := range img.Topics() {
		n := t.NumPartitions()
		for i := range n {
			p, ok := t.Partition(int32(i))
			if !ok {
				// Not numbered from 0: take them in order the slow way.
				for _, p := range t.Partitions()[i:] {
					if !fn(t, p) {
						return
					}
				}
				break
			}
			if !fn(t, p) {
				return
			}
		}
	}
}

func strPtr(s string) *string { return &s }
