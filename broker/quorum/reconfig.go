package quorum

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddRaftVoter (80), RemoveRaftVoter (81) and UpdateRaftVoter (82): the leader of a dynamic
// quorum changes the voter set by appending a VotersRecord with the new set (KIP-853).
//
// Behavior:
//   - Only the leader answers, only in a dynamic quorum (kraft.version 1: UNSUPPORTED_VERSION
//     otherwise), and only once it has committed an entry of its own epoch: before that a change
//     could be decided against a voter set an older leader is still changing.
//   - One change at a time: while a VotersRecord is uncommitted, another request gets
//     REQUEST_TIMED_OUT (and the admin client tries again).
//   - A new voter must be an observer that fetches from the leader with the directory id named
//     in the request and is caught up (it reached the leader's log end within a fetch timeout):
//     otherwise REQUEST_TIMED_OUT. A voter already in the set is DUPLICATE_VOTER.
//   - Removing or updating a voter that is not in the set (id and directory id) is
//     VOTER_NOT_FOUND; the last voter cannot be removed (INVALID_REQUEST).
//   - The answer waits until the change commits (AddRaftVoter v1 with AckWhenCommitted false:
//     until it is written); a leader that loses its epoch first answers NOT_LEADER_OR_FOLLOWER.
//     A leader that removed itself resigns once the removal commits.

// pendingChange is the leader's uncommitted voter change and the request waiting for it.
type pendingChange struct {
	offset int64
	from   int32
	corr   int32
	resp   kmsg.Response
}

// voterChangeError checks what every change needs; 0 when the change may go ahead.
func (n *Node) voterChangeError(clusterID *string) (int16, string) {
	switch {
	case !n.clusterOK(clusterID):
		return kerr.InconsistentClusterID.Code, ""
	case n.state != Leader:
		return kerr.NotLeaderForPartition.Code, ""
	case !n.dynamic:
		return kerr.UnsupportedVersion.Code, "the voter set is static (kraft.version 0, controller.quorum.voters)"
	case n.hw <= n.lead.epochStart:
		return kerr.RequestTimedOut.Code, "the leader has not yet committed an entry of its epoch"
	case n.lead.pending != nil || n.history.uncommitted(n.hw) > 0:
		return kerr.RequestTimedOut.Code, "a voter change is in progress"
	}
	return 0, ""
}

func setError(code int16, msg string, ec *int16, em **string) {
	*ec = code
	if code != 0 {
		if msg == "" {
			msg = kerr.ErrorForCode(code).Error()
		}
		*em = &msg
	}
}

func (n *Node) handleAddRaftVoter(m Message, req *kmsg.AddRaftVoterRequest) {
	resp := kmsg.NewPtrAddRaftVoterResponse()
	resp.Version = req.Version
	code, msg := n.voterChangeError(req.ClusterID)
	if code == 0 {
		code, msg = n.checkNewVoter(req)
	}
	if code != 0 {
		setError(code, msg, &resp.ErrorCode, &resp.ErrorMessage)
		n.send(m.From, m.Correlation, nil, resp)
		return
	}
	v := Voter{ID: req.VoterID, DirectoryID: req.VoterDirectoryID, MinKRaftVersion: 0, MaxKRaftVersion: 1}
	for _, l := range req.Listeners {
		v.Endpoints = append(v.Endpoints, Endpoint{Name: l.Name, Host: l.Host, Port: l.Port})
	}
	ack := req.Version < 1 || req.AckWhenCommitted
	n.appendVoterChange(m, n.history.latest().set.With(v), resp, ack)
}

func (n *Node) checkNewVoter(req *kmsg.AddRaftVoterRequest) (int16, string) {
	if _, ok := n.history.latest().set.Get(req.VoterID); ok {
		return kerr.DuplicateVoter.Code, fmt.Sprintf("node %d is already a voter", req.VoterID)
	}
	if req.VoterDirectoryID == [16]byte{} || len(req.Listeners) == 0 {
		return kerr.InvalidRequest.Code, "a new voter needs a directory id and at least one listener"
	}
	r := n.lead.replicas[req.VoterID]
	if r == nil || r.DirectoryID != req.VoterDirectoryID {
		return kerr.RequestTimedOut.Code, fmt.Sprintf("node %d is not fetching from the leader with that directory id", req.VoterID)
	}
	if !caughtUpWithin(r, n.now(), n.cfg.FetchTimeout) {
		return kerr.RequestTimedOut.Code, fmt.Sprintf("node %d has not caught up with the leader", req.VoterID)
	}
	return 0, ""
}

func (n *Node) handleRemoveRaftVoter(m Message, req *kmsg.RemoveRaftVoterRequest) {
	resp := kmsg.NewPtrRemoveRaftVoterResponse()
	resp.Version = req.Version
	code, msg := n.voterChangeError(req.ClusterID)
	set := n.history.latest().set
	if code == 0 {
		if v, ok := set.Get(req.VoterID); !ok || v.DirectoryID != req.VoterDirectoryID {
			code, msg = kerr.VoterNotFound.Code, fmt.Sprintf("no voter %d with that directory id", req.VoterID)
		} else if len(set) == 1 {
			code, msg = kerr.InvalidRequest.Code, "the last voter cannot be removed"
		}
	}
	if code != 0 {
		setError(code, msg, &resp.ErrorCode, &resp.ErrorMessage)
		n.send(m.From, m.Correlation, nil, resp)
		return
	}
	n.appendVoterChange(m, set.Without(req.VoterID), resp, true)
}

func (n *Node) handleUpdateRaftVoter(m Message, req *kmsg.UpdateRaftVoterRequest) {
	resp := kmsg.NewPtrUpdateRaftVoterResponse()
	resp.Version = req.Version
	code, msg := n.voterChangeError(req.ClusterID)
	set := n.history.latest().set
	v, ok := set.Get(req.VoterID)
	switch {
	case code != 0:
	case req.CurrentLeaderEpoch < n.epoch:
		code = kerr.FencedLeaderEpoch.Code
	case req.CurrentLeaderEpoch > n.epoch:
		code = kerr.UnknownLeaderEpoch.Code
	case !ok || v.DirectoryID != req.VoterDirectoryID:
		code, msg = kerr.VoterNotFound.Code, fmt.Sprintf("no voter %d with that directory id", req.VoterID)
	case len(req.Listeners) == 0:
		code, msg = kerr.InvalidRequest.Code, "a voter needs at least one listener"
	}
	if code != 0 {
		var em *string
		setError(code, msg, &resp.ErrorCode, &em)
		resp.CurrentLeader.LeaderID, resp.CurrentLeader.LeaderEpoch = n.leaderID, n.epoch
		if ep, ok := n.leaderEndpoint(); ok {
			// The schema has room for where the leader is; the voter asks it next.
			resp.CurrentLeader.Host, resp.CurrentLeader.Port = ep.Host, int32(ep.Port)
		}
		n.send(m.From, m.Correlation, nil, resp)
		return
	}
	v.Endpoints = nil
	for _, l := range req.Listeners {
		v.Endpoints = append(v.Endpoints, Endpoint{Name: l.Name, Host: l.Host, Port: l.Port})
	}
	v.MinKRaftVersion, v.MaxKRaftVersion = req.KRaftVersionFeature.MinSupportedVersion, req.KRaftVersionFeature.MaxSupportedVersion
	next := set.With(v)
	if next.Equal(set) {
		n.send(m.From, m.Correlation, nil, resp) // nothing to change
		return
	}
	n.appendVoterChange(m, next, resp, true)
}

// appendVoterChange writes the new voter set and answers m with resp once it commits (at once
// when ack is false).
func (n *Node) appendVoterChange(m Message, set VoterSet, resp kmsg.Response, ack bool) {
	e := Entry{Offset: n.log.EndOffset(), Epoch: n.epoch, Control: true, ControlType: ControlKRaftVoters, Data: MarshalVoters(set)}
	if err := n.log.Append([]Entry{e}); err != nil {
		n.fail(fmt.Errorf("append a voter change: %w", err))
		return
	}
	n.cfg.Logger.Info("quorum: voter change written", "node", n.id, "epoch", n.epoch, "offset", e.Offset, "voters", set.IDs())
	n.noteAppended([]Entry{e})
	if !ack {
		n.send(m.From, m.Correlation, nil, resp)
		resp = nil
	}
	n.lead.pending = &pendingChange{offset: e.Offset, from: m.From, corr: m.Correlation, resp: resp}
	n.updateOwnReplica()
}

// finishVoterChange runs on the leader after each step: a committed change is answered, and a
// leader no longer in the committed voter set resigns.
func (n *Node) finishVoterChange() {
	if n.state != Leader || !n.dynamic {
		return
	}
	if p := n.lead.pending; p != nil && n.hw > p.offset {
		n.lead.pending = nil
		if p.resp != nil {
			n.send(p.from, p.corr, nil, p.resp)
		}
	}
	if !n.IsVoter() && n.hw > n.history.latest().offset {
		n.cfg.Logger.Info("quorum: the leader's removal from the voter set is committed; resigning", "node", n.id, "epoch", n.epoch)
		n.resign()
	}
}

// dropLeadership answers a waiting voter change NOT_LEADER_OR_FOLLOWER: the change may still
// commit under the next leader, and the client asks that one.
func (n *Node) dropLeadership() {
	if n.lead == nil || n.lead.pending == nil {
		return
	}
	p := n.lead.pending
	n.lead.pending = nil
	if p.resp == nil {
		return
	}
	code := kerr.NotLeaderForPartition.Code
	switch r := p.resp.(type) {
	case *kmsg.AddRaftVoterResponse:
		setError(code, "", &r.ErrorCode, &r.ErrorMessage)
	case *kmsg.RemoveRaftVoterResponse:
		setError(code, "", &r.ErrorCode, &r.ErrorMessage)
	case *kmsg.UpdateRaftVoterResponse:
		r.ErrorCode = code
	}
	n.send(p.from, p.corr, nil, p.resp)
}

// caughtUpWithin tells whether r reached the leader's log end within d of now.
func caughtUpWithin(r *ReplicaState, now time.Time, d time.Duration) bool {
	return !r.LastCaughtUp.IsZero() && now.Sub(r.LastCaughtUp) <= d
}
