package service

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
)

func TestElectionScopes(t *testing.T) {
	snap := testSnapshot(3, nil, map[string][][]int32{
		"orders":   {{1, 2}, {2, 3}, {3, 1}},
		"payments": {{1, 2}, {2, 1}},
	}, map[TopicPartition]int32{{"orders", 0}: 2, {"orders", 2}: 1, {"payments", 1}: 1})

	elect, items, err := electionTargets(snap, ElectionScope{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(elect["orders"], []int32{0, 2}) || !slices.Equal(elect["payments"], []int32{1}) || len(items) != 3 {
		t.Fatalf("all: elect %v items %+v", elect, items)
	}
	elect, items, err = electionTargets(snap, ElectionScope{Topic: "orders"})
	if err != nil || len(elect) != 1 || len(items) != 3 || items[1].Result != ElectionNotNeeded {
		t.Fatalf("topic: elect %v items %+v err %v", elect, items, err)
	}
	elect, items, err = electionTargets(snap, ElectionScope{Partitions: []TopicPartition{{"payments", 0}, {"payments", 1}, {"payments", 1}}})
	if err != nil || !slices.Equal(elect["payments"], []int32{1}) || len(items) != 2 {
		t.Fatalf("partitions: elect %v items %+v err %v", elect, items, err)
	}
	_, _, err = electionTargets(snap, ElectionScope{Topic: "nope"})
	wantUserError(t, err, http.StatusBadRequest, "unknown_topic", "nope")
	_, _, err = electionTargets(snap, ElectionScope{Partitions: []TopicPartition{{"orders", 7}, {"gone", 0}}})
	wantUserError(t, err, http.StatusBadRequest, "unknown_topic", "gone")
	_, _, err = electionTargets(snap, ElectionScope{Partitions: []TopicPartition{{"orders", 7}}})
	wantUserError(t, err, http.StatusBadRequest, "unknown_partition", "orders-7")
	_, _, err = electionTargets(snap, ElectionScope{Topic: "orders", Partitions: []TopicPartition{{"payments", 0}}})
	wantUserError(t, err, http.StatusBadRequest, "bad_request")
}

func TestElectSkipsPreferredAndPollsAfter(t *testing.T) {
	before := testSnapshot(3, nil, map[string][][]int32{"orders": {{1, 2}, {2, 3}, {3, 1}}},
		map[TopicPartition]int32{{"orders", 0}: 2, {"orders", 2}: 1})
	before.Topics[0].LeaderSkew = 50
	after := testSnapshot(3, nil, map[string][][]int32{"orders": {{1, 2}, {2, 3}, {3, 1}}},
		map[TopicPartition]int32{{"orders", 2}: 1})
	// Kafka may still answer ELECTION_NOT_NEEDED (the leader moved back meanwhile): not an error.
	fa := &fakeOpsAdmin{electErr: map[TopicPartition]error{{"orders", 2}: admin.ErrElectionNotNeeded}}
	o := newTestOps(fa, nil)
	polled := 0
	o.poll = func(context.Context) *collector.Snapshot { polled++; return after }
	res, err := o.elect(context.Background(), before, ElectionScope{Topic: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fa.elected["orders"], []int32{0, 2}) {
		t.Fatalf("elected %v: partition 1 is already led by its preferred replica", fa.elected)
	}
	if res.Total != 3 || res.Elected != 1 || res.NotNeeded != 2 || res.Failed != 0 || polled != 1 {
		t.Fatalf("res = %+v polled %d", res, polled)
	}
	if res.Items[0].LeaderBefore != 2 || res.Items[0].LeaderAfter != 1 || res.Items[0].Result != ElectionElected {
		t.Fatalf("partition 0 = %+v", res.Items[0])
	}
	if len(res.Topics) != 1 || res.Topics[0].LeaderSkewBefore != 50 || res.Topics[0].LeaderSkewAfter != 0 {
		t.Fatalf("topics = %+v", res.Topics)
	}
	// Nothing to do: no request, no poll.
	fa.elected = nil
	res, err = o.elect(context.Background(), after, ElectionScope{Partitions: []TopicPartition{{"orders", 0}}})
	if err != nil || res.NotNeeded != 1 || fa.elected != nil || polled != 1 {
		t.Fatalf("res %+v err %v elected %v polled %d", res, err, fa.elected, polled)
	}
	// Every election failing is an error.
	fa.electErr = map[TopicPartition]error{{"orders", 0}: kerr.PreferredLeaderNotAvailable, {"orders", 2}: kerr.PreferredLeaderNotAvailable}
	_, err = o.elect(context.Background(), before, ElectionScope{})
	wantUserError(t, err, http.StatusBadGateway, "kafka_error", "orders-0")
}
