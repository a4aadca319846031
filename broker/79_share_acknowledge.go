package broker

import (
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ShareAcknowledge: v1-2
//
// Behavior:
// * Acknowledges records acquired by ShareFetch in the member's share
//   session: accept (1), release (2), reject (3), gap (0); each
//   partition's error is its first failed batch (INVALID_RECORD_STATE for
//   records the member does not hold). A positive epoch must be the
//   session's next; epoch 0 is INVALID_SHARE_SESSION_EPOCH (a new session
//   holds nothing to acknowledge); -1 closes the session after the
//   acknowledgements and releases what the member still holds.
// * The changed share-partitions are written to the share coordinator
//   before the answer; a failed write is the partition's error.
//
// Version notes:
// * v2: IsRenewAck and AcquisitionLockTimeoutMillis; acknowledge type 4
//   renews the locks (KIP-1222). v0 is not served.

func init() { regKey(79, 1, 2, handleShareAcknowledge) }

func handleShareAcknowledge(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ShareAcknowledgeRequest)
	resp := req.ResponseKind().(*kmsg.ShareAcknowledgeResponse)
	resp.AcquisitionLockTimeoutMillis = int32(b.cfg.Share.RecordLockDuration / time.Millisecond)
	group, member := deref(req.GroupID), deref(req.MemberID)
	switch {
	case !b.shareGroupsEnabled():
		resp.ErrorCode = errUnsupportedVersion
		return resp, nil
	case group == "" || member == "":
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp, nil
	case req.ShareSessionEpoch == 0:
		resp.ErrorCode = kerr.InvalidShareSessionEpoch.Code
		return resp, nil
	}
	// Partition leaders answer, not the group's coordinator: only the
	// group ACL is checked.
	if code := r.authzGroupErr(acl.OpRead, group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	s := &b.shares
	var keys []sharePartKey
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			keys = append(keys, sharePartKey{group, t.TopicID, p.Partition})
		}
	}
	b.loadShareParts(keys, false)
	s.mu.Lock()
	sess, code := s.shareSessionLocked(group, member, req.ShareSessionEpoch)
	if code != 0 {
		s.mu.Unlock()
		resp.ErrorCode = code
		return resp, nil
	}
	for _, t := range req.Topics {
		rt := kmsg.NewShareAcknowledgeResponseTopic()
		rt.TopicID = t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewShareAcknowledgeResponseTopicPartition()
			rp.Partition = p.Partition
			rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = -1, -1
			k := sharePartKey{group, t.TopicID, p.Partition}
			if sess != nil {
				if _, in := sess.parts[k]; !in {
					sess.parts[k] = struct{}{}
				}
			}
			acks := make([]shareAck, len(p.AcknowledgementBatches))
			for i, a := range p.AcknowledgementBatches {
				acks[i] = shareAck{a.FirstOffset, a.LastOffset, a.AcknowledgeTypes}
			}
			rp.ErrorCode = s.acknowledgeLocked(k, member, acks)
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if sess == nil {
		keys = append(keys, s.sessionKeysLocked(group, member)...)
		s.closeSessionLocked(group, member)
	}
	s.mu.Unlock()
	errs := b.persistShareParts(keys)
	for ti := range resp.Topics {
		rt := &resp.Topics[ti]
		for pi := range rt.Partitions {
			rp := &rt.Partitions[pi]
			if code := errs[sharePartKey{group, rt.TopicID, rp.Partition}]; code != 0 && rp.ErrorCode == 0 {
				rp.ErrorCode = code
			}
		}
	}
	b.signalAppend() // released records wake other members' long polls
	return resp, nil
}
