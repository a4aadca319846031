package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddRaftVoter: v0-1, KRaft mode only
//
// Behavior:
// * Forwarded to the quorum leader's CONTROLLER listener (as Kafka's brokers
//   forward it), so an admin client that reaches only the brokers can grow a
//   dynamic quorum (KIP-853); the leader's answer is passed on as it is.
// * The leader answers once the new voter set is committed, or
//   REQUEST_TIMED_OUT after TimeoutMillis (the change may still commit);
//   NOT_LEADER_OR_FOLLOWER when no leader answered within the request's time.
// * Not listed by a ZooKeeper-mode broker (registry.go).
//
// Version notes:
// * v1: AckWhenCommitted.

func init() { regKeyMode(kraftOnly, 80, 0, 1, handleAddRaftVoter) }

// voterChanger is a cluster that can send voter changes to its KRaft quorum
// leader (kraftCluster).
type voterChanger interface {
	quorumRequest(ctx context.Context, req kmsg.Request) (kmsg.Response, error)
}

func handleAddRaftVoter(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.AddRaftVoterRequest)
	resp := req.ResponseKind().(*kmsg.AddRaftVoterResponse)
	wait := 15 * time.Second // Kafka's default timeout for the request
	if req.TimeoutMillis > 0 {
		wait = time.Duration(req.TimeoutMillis) * time.Millisecond
	}
	got, code, msg := forwardVoterChange(b, r, req, wait)
	if got != nil {
		return got, nil
	}
	resp.ErrorCode, resp.ErrorMessage = code, msg
	return resp, nil
}

// forwardVoterChange sends req to the quorum leader within wait (plus a
// second for the way back) and returns its answer at the request's version,
// or the error code and message to answer with.
func forwardVoterChange(b *Broker, r *request, req kmsg.Request, wait time.Duration) (kmsg.Response, int16, *string) {
	vc, ok := b.cluster.(voterChanger)
	if !ok {
		return nil, kerr.UnsupportedVersion.Code, nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, wait+time.Second)
	defer cancel()
	got, err := vc.quorumRequest(ctx, req)
	if err != nil {
		r.c.log.Warn("voter change not answered by the quorum", "key", req.Key(), "err", err)
		return nil, kerr.NotLeaderForPartition.Code, kmsg.StringPtr(err.Error())
	}
	got.SetVersion(req.GetVersion())
	return got, 0, nil
}
