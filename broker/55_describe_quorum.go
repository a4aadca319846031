package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeQuorum: v0-2, KRaft mode only
//
// Behavior:
// * Forwarded to the quorum (the leader answers, as Kafka's brokers forward
//   it to the active controller), so an admin client that can only reach the
//   brokers sees the voters, the observers and their progress.
// * The answer is the leader's, passed on as it is; a quorum with no leader
//   reachable in time gets NOT_LEADER_OR_FOLLOWER (retriable).
// * Not listed by a ZooKeeper-mode broker (registry.go).
//
// Version notes:
// * v1: last fetch and last caught-up timestamps; v2: nodes with listeners,
//   voter directory ids.

func init() { regKeyMode(kraftOnly, 55, 0, 2, handleDescribeQuorum) }

// quorumDescriber is a cluster that can reach a KRaft quorum (kraftCluster).
type quorumDescriber interface {
	describeQuorum(ctx context.Context, req *kmsg.DescribeQuorumRequest) (*kmsg.DescribeQuorumResponse, error)
}

func handleDescribeQuorum(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeQuorumRequest)
	resp := req.ResponseKind().(*kmsg.DescribeQuorumResponse)
	qd, ok := b.cluster.(quorumDescriber)
	if !ok {
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		return resp, nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	got, err := qd.describeQuorum(ctx, req)
	if err != nil {
		r.c.log.Warn("DescribeQuorum not answered by the quorum", "err", err)
		resp.ErrorCode = kerr.NotLeaderForPartition.Code
		resp.ErrorMessage = kmsg.StringPtr(err.Error())
		return resp, nil
	}
	got.Version = req.Version
	return got, nil
}
