package collector

import "sort"

// TopicFigures are the per-topic layout figures, in percent.
type TopicFigures struct {
	Brokers         []int32 // brokers holding any replica, sorted
	BrokerSpread    float64
	BrokerSkew      float64
	LeaderSkew      float64
	PreferredLeader float64
	UnderReplicated int
}

// Layout is the part of a partition the figures depend on.
type Layout struct {
	Leader   int32
	Replicas []int32
	ISR      []int32
}

// ComputeTopicFigures applies CMAK's definitions (yahoo/CMAK ActorModel.scala):
//
//   - broker spread = 100 × brokers holding a replica of the topic / brokers in the cluster. The
//     cluster's brokers are every broker the snapshot lists, up or down: a broker that is down but
//     still named in a replica list is a member of the cluster, so it counts on both sides and the
//     spread never exceeds 100% (counting only live brokers below the line gave 150% for a topic on
//     three brokers with one of them down). A caller that counts fewer cluster brokers than the
//     topic has is corrected to the topic's brokers, for the same reason;
//   - broker skew: avg = ceil(replicas / topic brokers), where replicas is
//     partitions × replication factor (the sum of replica-list lengths here,
//     equal for uniform topics); a broker holding more than avg is skewed;
//     skew = 100 × skewed brokers / topic brokers;
//   - leader skew: avg = ceil(partitions / topic brokers); a broker leading
//     more than avg is skewed; % as above;
//   - preferred leader = 100 × partitions led by their first replica / partitions;
//   - under-replicated = partitions whose ISR is smaller than their replica list.
//
// A topic with no partitions or replicas yields zeros.
func ComputeTopicFigures(parts []Layout, clusterBrokers int) TopicFigures {
	var f TopicFigures
	if len(parts) == 0 {
		return f
	}
	replicasOn := map[int32]int{}
	leadersOn := map[int32]int{}
	total, preferred := 0, 0
	for _, p := range parts {
		for _, r := range p.Replicas {
			replicasOn[r]++
		}
		total += len(p.Replicas)
		if p.Leader >= 0 {
			leadersOn[p.Leader]++
			if len(p.Replicas) > 0 && p.Replicas[0] == p.Leader {
				preferred++
			}
		}
		if len(p.ISR) < len(p.Replicas) {
			f.UnderReplicated++
		}
	}
	f.PreferredLeader = 100 * float64(preferred) / float64(len(parts))
	topicBrokers := len(replicasOn)
	if topicBrokers == 0 {
		return f
	}
	f.Brokers = make([]int32, 0, topicBrokers)
	for b := range replicasOn {
		f.Brokers = append(f.Brokers, b)
	}
	sort.Slice(f.Brokers, func(i, j int) bool { return f.Brokers[i] < f.Brokers[j] })
	f.BrokerSpread = 100 * float64(topicBrokers) / float64(max(clusterBrokers, topicBrokers))
	avgReplicas := ceilDiv(total, topicBrokers)
	skewed := 0
	for _, n := range replicasOn {
		if n > avgReplicas {
			skewed++
		}
	}
	f.BrokerSkew = 100 * float64(skewed) / float64(topicBrokers)
	avgLeaders := ceilDiv(len(parts), topicBrokers)
	skewed = 0
	for _, n := range leadersOn {
		if n > avgLeaders {
			skewed++
		}
	}
	f.LeaderSkew = 100 * float64(skewed) / float64(topicBrokers)
	return f
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
