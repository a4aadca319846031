package image

import (
	"cmp"
	"slices"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// TopicPartition names a partition by topic name.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// LocalPartition is a partition a broker must act on, with its state after
// the delta.
type LocalPartition struct {
	Topic   string
	TopicID metadata.Uuid
	Partition
}

// LocalDirectory is the log directory a broker's replica of a partition is
// now assigned to (the zero Uuid: not known).
type LocalDirectory struct {
	Topic     string
	TopicID   metadata.Uuid
	Partition int32
	Directory metadata.Uuid
}

// LocalChanges are the partitions whose state changed for one broker in a
// delta (Kafka's LocalReplicaChanges), each list ordered by topic name then
// partition.
type LocalChanges struct {
	// Deletes: partitions the broker was a replica of and no longer is,
	// because the replica moved away or the topic was removed.
	Deletes []TopicPartition
	// Leaders: partitions the broker leads whose partition epoch changed
	// (new partitions too): a new leader, or the ISR or replicas changed
	// under the same leader.
	Leaders []LocalPartition
	// ElectedLeaders: the Leaders whose leader epoch changed, i.e. the
	// broker became leader (again) and must start a new leader epoch.
	ElectedLeaders []LocalPartition
	// Followers: partitions the broker is a replica but not the leader of
	// whose partition epoch changed: a new leader to fetch from, or the
	// replica set changed.
	Followers []LocalPartition
	// Directories: replicas of the broker in changed partitions whose
	// assigned directory is new or different.
	Directories []LocalDirectory
}

// Empty reports whether the broker has nothing to do.
func (c LocalChanges) Empty() bool {
	return len(c.Deletes) == 0 && len(c.Leaders) == 0 && len(c.Followers) == 0 && len(c.Directories) == 0
}

// LocalChanges returns what broker must do after the delta, comparing every
// partition the delta's records touched with the base image as Kafka's
// TopicsDelta.localChanges does: a touched partition counts as changed when
// its partition epoch differs (every PartitionChangeRecord bumps it; a
// PartitionRecord repeating the state does not), and every partition of a
// topic (re)created in the delta counts as new; so after a snapshot delta
// every partition the broker holds is listed.
func (d *Delta) LocalChanges(broker int32) LocalChanges {
	var c LocalChanges
	for _, td := range d.topics {
		for index, p := range td.parts {
			prev := td.base[index]
			switch {
			case !p.HasReplica(broker):
				if prev != nil && prev.HasReplica(broker) {
					c.Deletes = append(c.Deletes, TopicPartition{Topic: td.name, Partition: index})
				}
			case p.Leader == broker:
				if prev == nil || prev.PartitionEpoch != p.PartitionEpoch {
					lp := LocalPartition{Topic: td.name, TopicID: td.id, Partition: *p}
					c.Leaders = append(c.Leaders, lp)
					if prev == nil || prev.LeaderEpoch != p.LeaderEpoch {
						c.ElectedLeaders = append(c.ElectedLeaders, lp)
					}
				}
			default:
				if prev == nil || prev.PartitionEpoch != p.PartitionEpoch {
					c.Followers = append(c.Followers, LocalPartition{Topic: td.name, TopicID: td.id, Partition: *p})
				}
			}
			if dir, ok := p.Directory(broker); ok {
				// Kafka skips a replica the broker did not hold before
				// (its lookup of the old directory throws); a replica
				// that moves here is listed, since it needs a directory.
				if old, had := prevDirectory(prev, broker); !had || old != dir {
					c.Directories = append(c.Directories, LocalDirectory{Topic: td.name, TopicID: td.id, Partition: index, Directory: dir})
				}
			}
		}
	}
	deleted := func(t *Topic, still func(index int32) bool) {
		for index, p := range t.partitions {
			if p.HasReplica(broker) && !still(index) {
				c.Deletes = append(c.Deletes, TopicPartition{Topic: t.Name, Partition: index})
			}
		}
	}
	never := func(int32) bool { return false }
	for id := range d.deletedTopics {
		deleted(d.base.topicsByID[id], never)
	}
	if d.prev != nil {
		// A snapshot delta re-creates every topic, so each of its partitions
		// counts as new above (as in Kafka); replicas prev had here that the
		// snapshot does not are deleted, in topics it kept too.
		for id, t := range d.prev.topicsByID {
			td, kept := d.topics[id]
			if !kept {
				deleted(t, never)
				continue
			}
			deleted(t, func(index int32) bool {
				p, ok := td.parts[index]
				return ok && p.HasReplica(broker)
			})
		}
	}
	slices.SortFunc(c.Deletes, compareTP)
	for _, l := range [][]LocalPartition{c.Leaders, c.ElectedLeaders, c.Followers} {
		slices.SortFunc(l, func(a, b LocalPartition) int {
			return compareTP(TopicPartition{a.Topic, a.Index}, TopicPartition{b.Topic, b.Index})
		})
	}
	slices.SortFunc(c.Directories, func(a, b LocalDirectory) int {
		return compareTP(TopicPartition{a.Topic, a.Partition}, TopicPartition{b.Topic, b.Partition})
	})
	return c
}

func prevDirectory(prev *Partition, broker int32) (metadata.Uuid, bool) {
	if prev == nil {
		return metadata.Uuid{}, false
	}
	return prev.Directory(broker)
}

func compareTP(a, b TopicPartition) int {
	if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}
