package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// RemoveRaftVoter: v0, KRaft mode only
//
// Behavior:
// * Forwarded to the quorum leader's CONTROLLER listener, as AddRaftVoter
//   is; the leader answers once the smaller voter set is committed.
// * UpdateRaftVoter (82) is not served here: Kafka's brokers do not list it
//   either (a controller sends it to the leader itself).
// * Not listed by a ZooKeeper-mode broker (registry.go).

func init() { regKeyMode(kraftOnly, 81, 0, 0, handleRemoveRaftVoter) }

func handleRemoveRaftVoter(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.RemoveRaftVoterRequest)
	resp := req.ResponseKind().(*kmsg.RemoveRaftVoterResponse)
	got, code, msg := forwardVoterChange(b, r, req, 15*time.Second)
	if got != nil {
		return got, nil
	}
	resp.ErrorCode, resp.ErrorMessage = code, msg
	return resp, nil
}
