package admin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// MetadataTopic is the KRaft metadata log's topic; its one partition is the Raft quorum's log.
const MetadataTopic = "__cluster_metadata"

// QuorumState is the KRaft metadata quorum, as DescribeQuorum on __cluster_metadata-0 reports it.
type QuorumState struct {
	// LeaderID is the active controller, -1 while the quorum has no leader.
	LeaderID      int32
	LeaderEpoch   int32
	HighWatermark int64
	Voters        []QuorumReplica
	Observers     []QuorumReplica
	// Nodes are the voters' listeners (v2+, KIP-853); empty from older brokers.
	Nodes []QuorumNode
	// Version is the DescribeQuorum version the broker answered: timestamps need v1, Nodes v2.
	Version int16
}

// QuorumReplica is one voter or observer of the quorum.
type QuorumReplica struct {
	ID int32
	// DirectoryID is the replica's metadata log directory id (v2+, base64 as Kafka prints it; empty
	// when unknown).
	DirectoryID  string
	LogEndOffset int64
	// LastFetchTimestamp and LastCaughtUpTimestamp are Unix milliseconds, -1 when unknown (v0, or
	// a replica the leader has not heard from).
	LastFetchTimestamp    int64
	LastCaughtUpTimestamp int64
}

// QuorumNode is one voter's endpoints (DescribeQuorum v2's Nodes).
type QuorumNode struct {
	ID        int32
	Listeners []QuorumListener
}

// QuorumListener is one named endpoint of a controller.
type QuorumListener struct {
	Name string
	Host string
	Port int32
}

// DescribeQuorum describes the KRaft quorum. It is sent to any broker, which forwards it to the active
// controller, as Kafka's admin client does. Brokers that do not know the request (ZooKeeper mode, kfake)
// make it return ErrUnsupported; a quorum that cannot answer (no leader yet) returns the KafkaError.
func (c *Client) DescribeQuorum(ctx context.Context) (*QuorumState, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = MetadataTopic
	t.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = []kmsg.DescribeQuorumRequestTopic{t}
	resp, err := c.requestAny(ctx, req, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("describe quorum: %w", err)
	}
	return quorumFromResponse(resp.(*kmsg.DescribeQuorumResponse))
}

func quorumFromResponse(r *kmsg.DescribeQuorumResponse) (*QuorumState, error) {
	if e := codeErr(r.Key(), r.ErrorCode, r.ErrorMessage); e != nil {
		return nil, fmt.Errorf("describe quorum: %w", e)
	}
	if len(r.Topics) == 0 || len(r.Topics[0].Partitions) == 0 {
		return nil, errors.New("describe quorum: empty response")
	}
	p := r.Topics[0].Partitions[0] // __cluster_metadata has one partition
	if e := codeErr(r.Key(), p.ErrorCode, p.ErrorMessage); e != nil {
		return nil, fmt.Errorf("describe quorum: %w", e)
	}
	q := &QuorumState{LeaderID: p.LeaderID, LeaderEpoch: p.LeaderEpoch, HighWatermark: p.HighWatermark, Version: r.Version}
	conv := func(in []kmsg.DescribeQuorumResponseTopicPartitionReplicaState) []QuorumReplica {
		out := make([]QuorumReplica, 0, len(in))
		for _, s := range in {
			qr := QuorumReplica{ID: s.ReplicaID, LogEndOffset: s.LogEndOffset, LastFetchTimestamp: -1, LastCaughtUpTimestamp: -1}
			if r.Version >= 1 {
				qr.LastFetchTimestamp, qr.LastCaughtUpTimestamp = s.LastFetchTimestamp, s.LastCaughtUpTimestamp
			}
			if s.ReplicaDirectoryID != ([16]byte{}) {
				qr.DirectoryID = base64.RawURLEncoding.EncodeToString(s.ReplicaDirectoryID[:])
			}
			out = append(out, qr)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		return out
	}
	q.Voters, q.Observers = conv(p.CurrentVoters), conv(p.Observers)
	for _, n := range r.Nodes {
		qn := QuorumNode{ID: n.NodeID}
		for _, l := range n.Listeners {
			qn.Listeners = append(qn.Listeners, QuorumListener{Name: l.Name, Host: l.Host, Port: int32(l.Port)})
		}
		q.Nodes = append(q.Nodes, qn)
	}
	sort.Slice(q.Nodes, func(i, j int) bool { return q.Nodes[i].ID < q.Nodes[j].ID })
	return q, nil
}

// Features are the cluster's finalized feature levels (KIP-584) as one broker's ApiVersions answer
// reports them: metadata.version, kraft.version and the like.
type Features struct {
	// Epoch is FinalizedFeaturesEpoch: the metadata offset the levels were finalized at, -1 unknown.
	Epoch     int64
	Finalized []FeatureLevel
}

// FeatureLevel is one finalized feature with the answering broker's supported range.
type FeatureLevel struct {
	Name         string
	Level        int16
	SupportedMin int16
	SupportedMax int16
}

// FinalizedFeatures asks any broker for ApiVersions v3+ and returns its finalized features. Brokers
// before v3 have none to report: the answer is empty, not an error.
func (c *Client) FinalizedFeatures(ctx context.Context) (*Features, error) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName = "osprey" // v3+: brokers validate both fields
	req.ClientSoftwareVersion = "1"
	resp, err := c.requestAny(ctx, req, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("api versions: %w", err)
	}
	r := resp.(*kmsg.ApiVersionsResponse)
	if e := codeErr(r.Key(), r.ErrorCode, nil); e != nil {
		return nil, fmt.Errorf("api versions: %w", e)
	}
	f := &Features{Epoch: r.FinalizedFeaturesEpoch}
	supported := map[string]kmsg.ApiVersionsResponseSupportedFeature{}
	for _, s := range r.SupportedFeatures {
		supported[s.Name] = s
	}
	for _, ff := range r.FinalizedFeatures {
		s := supported[ff.Name]
		f.Finalized = append(f.Finalized, FeatureLevel{Name: ff.Name, Level: ff.MaxVersionLevel, SupportedMin: s.MinVersion, SupportedMax: s.MaxVersion})
	}
	sort.Slice(f.Finalized, func(i, j int) bool { return f.Finalized[i].Name < f.Finalized[j].Name })
	return f, nil
}
