package broker

import (
	"sort"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListPartitionReassignments: v0
//
// Behavior:
// * The ongoing reassignments (partitions whose topic znode has adding or
//   removing replicas) with their full replica set, adding and removing
//   replicas; all of them for a null topic list, else those asked for.
//   Answered by any broker from its view (Kafka routes it to the
//   controller; the data is the same).
//
// Version notes:
// * v0 is flexible.

func init() { regKey(46, 0, 0, handleListPartitionReassignments) }

func handleListPartitionReassignments(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ListPartitionReassignmentsRequest)
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	if code := r.authzClusterErr(acl.OpDescribe); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	adm, ok := b.cluster.(clusterAdmin)
	if !ok {
		return resp, nil
	}
	all := adm.listReassignments()
	var want func(tp zkdata.TopicPartition) bool
	if req.Topics == nil {
		want = func(zkdata.TopicPartition) bool { return true }
	} else {
		set := map[zkdata.TopicPartition]bool{}
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				set[zkdata.TopicPartition{Topic: rt.Topic, Partition: p}] = true
			}
		}
		want = func(tp zkdata.TopicPartition) bool { return set[tp] }
	}
	var tps []zkdata.TopicPartition
	for tp := range all {
		if want(tp) {
			tps = append(tps, tp)
		}
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	for _, tp := range tps {
		pa := all[tp]
		if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != tp.Topic {
			t := kmsg.NewListPartitionReassignmentsResponseTopic()
			t.Topic = tp.Topic
			resp.Topics = append(resp.Topics, t)
		}
		p := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
		p.Partition = tp.Partition
		p.Replicas, p.AddingReplicas, p.RemovingReplicas = pa.Replicas, nonNilInt32(pa.Adding), nonNilInt32(pa.Removing)
		t := &resp.Topics[len(resp.Topics)-1]
		t.Partitions = append(t.Partitions, p)
	}
	return resp, nil
}

func nonNilInt32(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}
