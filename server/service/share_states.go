package service

import (
	"context"
	"time"

	"github.com/osprey-kafka/osprey/broker/sharegroup"
	"github.com/osprey-kafka/osprey/broker/supervisor"
	"github.com/osprey-kafka/osprey/collector"
)

// runtimeShareStates reads the in-flight state of the share-partitions that a runtime cluster's
// brokers in this process lead (Kafka carries it in no admin request). A broker reports it when it
// has ShareSnapshots; one that does not is left out, and so are brokers run as child processes:
// their share groups then show start offsets and lag only, with the in-flight records "not
// reported".
type runtimeShareStates struct{ sup *supervisor.Cluster }

// shareSnapshotter is what a broker offers to report its share-partitions: visit is called once
// per share-partition it leads, with the partition's state at now.
type shareSnapshotter interface {
	ShareSnapshots(now time.Time, visit func(group, topic string, partition int32, s sharegroup.Snapshot))
}

func (r runtimeShareStates) ShareStates(context.Context) ([]collector.SharePartitionState, error) {
	var out []collector.SharePartitionState
	now := time.Now()
	for _, st := range r.sup.Status() {
		br := r.sup.Broker(st.ID)
		if br == nil {
			continue
		}
		b, ok := any(br).(shareSnapshotter)
		if !ok {
			continue
		}
		b.ShareSnapshots(now, func(group, topic string, partition int32, s sharegroup.Snapshot) {
			out = append(out, sharePartitionState(group, topic, partition, s))
		})
	}
	return out, nil
}

func sharePartitionState(group, topic string, partition int32, s sharegroup.Snapshot) collector.SharePartitionState {
	ps := collector.SharePartitionState{Group: group, Topic: topic, Partition: partition, StartOffset: s.StartOffset,
		EndOffset: s.EndOffset, Available: s.Available, Acquired: s.Acquired, Acknowledged: s.Acknowledged,
		Archived: s.Archived, ArchivedTotal: s.ArchivedTotal, Deliveries: map[int32]int{}}
	for _, r := range s.Records {
		ps.Deliveries[r.Deliveries]++
	}
	return ps
}
