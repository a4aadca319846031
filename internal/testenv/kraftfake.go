package testenv

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KRaftFake makes a kfake cluster answer like the brokers of a KRaft cluster: ApiVersions lists
// DescribeQuorum (key 55, v0–2) and the finalized features, DescribeQuorum answers with Quorum, and
// DescribeCluster marks the brokers in Fenced. kfake knows neither; everything else is kfake's own.
// Tests change the answers between polls with the Set methods.
type KRaftFake struct {
	mu sync.Mutex // guards the fields below
	// quorum is the answer's one partition (__cluster_metadata-0), nodes v2's listeners; a nil quorum
	// answers with quorumErr on the partition.
	quorum    *kmsg.DescribeQuorumResponseTopicPartition
	nodes     []kmsg.DescribeQuorumResponseNode
	quorumErr int16
	fenced    map[int32]bool
	features  []kmsg.ApiVersionsResponseFinalizedFeature
	epoch     int64
	asked     int
}

// NewKRaftFake installs the control functions on kc. It reads kfake's own ApiVersions answer once,
// to extend it rather than replace it.
func NewKRaftFake(t testing.TB, kc *kfake.Cluster) *KRaftFake {
	t.Helper()
	base := apiVersionsOf(t, kc)
	f := &KRaftFake{fenced: map[int32]bool{}, epoch: -1}
	kc.ControlKey(int16(kmsg.ApiVersions), func(req kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		r := req.(*kmsg.ApiVersionsRequest)
		resp := *base
		resp.Version = r.Version
		if r.Version > base.Version {
			return nil, nil, false // kfake answers a version it does not serve itself
		}
		resp.ApiKeys = append([]kmsg.ApiVersionsResponseApiKey(nil), base.ApiKeys...)
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = int16(kmsg.DescribeQuorum), 0, 2
		resp.ApiKeys = append(resp.ApiKeys, k)
		f.mu.Lock()
		resp.FinalizedFeatures = append([]kmsg.ApiVersionsResponseFinalizedFeature(nil), f.features...)
		resp.FinalizedFeaturesEpoch = f.epoch
		f.mu.Unlock()
		return &resp, nil, true
	})
	kc.ControlKey(int16(kmsg.DescribeQuorum), func(req kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		resp := req.ResponseKind().(*kmsg.DescribeQuorumResponse)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.asked++
		rt := kmsg.NewDescribeQuorumResponseTopic()
		rt.Topic = "__cluster_metadata"
		p := kmsg.NewDescribeQuorumResponseTopicPartition()
		if f.quorum != nil {
			p = *f.quorum
		} else {
			p.ErrorCode = f.quorumErr
		}
		rt.Partitions = []kmsg.DescribeQuorumResponseTopicPartition{p}
		resp.Topics = []kmsg.DescribeQuorumResponseTopic{rt}
		if resp.Version >= 2 {
			resp.Nodes = f.nodes
		}
		return resp, nil, true
	})
	kc.ControlKey(int16(kmsg.DescribeCluster), func(req kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
		resp.ClusterID = "kraft-fake"
		resp.ControllerID = -1
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, addr := range kc.ListenAddrs() {
			br := kmsg.NewDescribeClusterResponseBroker()
			br.NodeID = int32(i) // kfake numbers its brokers from 0 in listen order
			host, port, _ := net.SplitHostPort(addr)
			p, _ := strconv.Atoi(port)
			br.Host, br.Port = host, int32(p)
			br.IsFenced = f.fenced[br.NodeID]
			resp.Brokers = append(resp.Brokers, br)
		}
		return resp, nil, true
	})
	return f
}

// SetQuorum sets the DescribeQuorum answer's partition and nodes.
func (f *KRaftFake) SetQuorum(p kmsg.DescribeQuorumResponseTopicPartition, nodes []kmsg.DescribeQuorumResponseNode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.quorum, f.nodes = &p, nodes
}

// SetQuorumError makes DescribeQuorum answer with code on the partition (say NOT_LEADER_OR_FOLLOWER
// while no controller leads).
func (f *KRaftFake) SetQuorumError(code int16) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.quorum, f.quorumErr = nil, code
}

// SetFenced sets which brokers DescribeCluster reports fenced.
func (f *KRaftFake) SetFenced(ids ...int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fenced = map[int32]bool{}
	for _, id := range ids {
		f.fenced[id] = true
	}
}

// SetFeatures sets the finalized features (name → level) and their epoch.
func (f *KRaftFake) SetFeatures(epoch int64, levels map[string]int16) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.features, f.epoch = nil, epoch
	for name, l := range levels {
		ff := kmsg.NewApiVersionsResponseFinalizedFeature()
		ff.Name, ff.MaxVersionLevel, ff.MinVersionLevel = name, l, l
		f.features = append(f.features, ff)
	}
}

// Asked is how many DescribeQuorum requests were answered.
func (f *KRaftFake) Asked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked
}

// QuorumReplica builds one replica state of a DescribeQuorum answer.
func QuorumReplica(id int32, leo int64, lastFetch, lastCaughtUp time.Time) kmsg.DescribeQuorumResponseTopicPartitionReplicaState {
	s := kmsg.NewDescribeQuorumResponseTopicPartitionReplicaState()
	s.ReplicaID, s.LogEndOffset = id, leo
	if !lastFetch.IsZero() {
		s.LastFetchTimestamp = lastFetch.UnixMilli()
	}
	if !lastCaughtUp.IsZero() {
		s.LastCaughtUpTimestamp = lastCaughtUp.UnixMilli()
	}
	return s
}

// apiVersionsOf asks kc's first broker for ApiVersions at the highest version it serves.
func apiVersionsOf(t testing.TB, kc *kfake.Cluster) *kmsg.ApiVersionsResponse {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()[0]))
	if err != nil {
		t.Fatalf("client for kfake: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "osprey-test", "1"
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("api versions from kfake: %v", err)
	}
	return resp
}
