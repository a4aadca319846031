package broker

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/sharegroup"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ShareFetch: v1-2
//
// Behavior:
// * Share sessions: epoch 0 opens a session (replacing the member's
//   previous one on this broker and releasing its records), a positive
//   epoch must be the session's next (INVALID_SHARE_SESSION_EPOCH; no
//   session: SHARE_SESSION_NOT_FOUND) and adds Topics and removes
//   ForgottenTopicsData, -1 closes it after its acknowledgements.
// * Piggy-backed acknowledgements are applied first; their outcome is the
//   partition's AcknowledgeErrorCode (INVALID_RECORD_STATE for records the
//   member does not hold).
// * Up to MaxRecords records of the session's partitions are acquired for
//   the member (sharegroup.Partition) and returned with their batches and
//   AcquiredRecords ranges; a share-partition starts at the log end when
//   first fetched (share.auto.offset.reset=latest).
// * Long poll: with nothing acquired and no acknowledgements, the answer
//   waits up to MaxWaitMillis for appends, released records or expired
//   locks.
// * With an authorizer: READ on the group and on each topic.
// * The leader loads a share-partition's state from the share coordinator
//   (ReadShareGroupState at its leader epoch) the first time it serves it,
//   and on a new session when nothing of it is acquired; it writes the
//   state back (WriteShareGroupState) after acknowledgements, releases and
//   lock expiries, before it answers. A failed load is the partition's
//   error (retriable); a failed write of acknowledged records is their
//   AcknowledgeErrorCode.
//
// Version notes:
// * v1: MaxRecords, BatchSize; v2: IsRenewAck (acknowledge type 4 renews
//   the locks). v0 (Kafka 4.0's early access) is not served.

func init() { regKey(78, 1, 2, handleShareFetch) }

func handleShareFetch(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ShareFetchRequest)
	resp := req.ResponseKind().(*kmsg.ShareFetchResponse)
	resp.AcquisitionLockTimeoutMillis = int32(b.cfg.Share.RecordLockDuration / time.Millisecond)
	group, member := deref(req.GroupID), deref(req.MemberID)
	switch {
	case !b.shareGroupsEnabled():
		resp.ErrorCode = errUnsupportedVersion
		return resp, nil
	case group == "" || member == "":
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp, nil
	}
	// Partition leaders answer, not the group's coordinator: only the
	// group ACL is checked.
	if code := r.authzGroupErr(acl.OpRead, group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	s := &b.shares
	keys := shareFetchKeys(group, req)
	s.mu.Lock()
	if req.ShareSessionEpoch != 0 {
		keys = append(keys, s.sessionKeysLocked(group, member)...)
	}
	s.mu.Unlock()
	loadErrs := b.loadShareParts(keys, req.ShareSessionEpoch == 0)
	s.mu.Lock()
	sess, code := s.shareSessionLocked(group, member, req.ShareSessionEpoch)
	if code != 0 {
		s.mu.Unlock()
		resp.ErrorCode = code
		return resp, nil
	}
	out := newShareFetchOut(resp)
	acked := s.applyShareFetchLocked(req, group, member, sess, out)
	if sess == nil { // epoch -1: the session closed
		keys = append(keys, s.sessionKeysLocked(group, member)...)
		s.closeSessionLocked(group, member)
		s.mu.Unlock()
		out.persisted(b.persistShareParts(keys), acked)
		b.signalAppend() // released records wake other members' long polls
		return resp, nil
	}
	got := b.acquireLocked(r, req, member, sess, out)
	out.loadFailed(loadErrs)
	next := s.nextExpiryLocked(sess)
	keys = append(keys, s.sessionKeysLocked(group, member)...)
	s.mu.Unlock()
	out.persisted(b.persistShareParts(keys), acked)
	if len(acked) > 0 {
		b.signalAppend()
	}
	wait := time.Duration(req.MaxWaitMillis) * time.Millisecond
	if got || len(acked) > 0 || out.errored() || wait <= 0 {
		return resp, nil
	}
	b.wg.Add(1)
	go b.shareLongPoll(r, req, member, sess, out, wait, next)
	return nil, errDeferred
}

// applyShareFetchLocked adds the request's partitions to the session (nil:
// closing), removes its forgotten ones and applies its acknowledgements;
// it returns the acknowledged share-partitions. s.mu held.
func (s *shareCoordinator) applyShareFetchLocked(req *kmsg.ShareFetchRequest, group, member string, sess *shareSession, out *shareFetchOut) []sharePartKey {
	var acked []sharePartKey
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			k := sharePartKey{group, t.TopicID, p.Partition}
			if sess != nil {
				sess.parts[k] = struct{}{}
			}
			if len(p.AcknowledgementBatches) > 0 {
				acked = append(acked, k)
				sp := out.part(k)
				sp.AcknowledgeErrorCode = s.acknowledgeLocked(k, member, shareFetchAcks(p.AcknowledgementBatches))
			}
		}
	}
	for _, f := range req.ForgottenTopicsData {
		for _, p := range f.Partitions {
			if sess != nil {
				delete(sess.parts, sharePartKey{group, f.TopicID, p})
			}
		}
	}
	return acked
}

// shareFetchKeys lists the share-partitions a ShareFetch names.
func shareFetchKeys(group string, req *kmsg.ShareFetchRequest) []sharePartKey {
	var keys []sharePartKey
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			keys = append(keys, sharePartKey{group, t.TopicID, p.Partition})
		}
	}
	return keys
}

// shareLongPoll retries the acquisition after appends, releases and lock
// expiries until something is acquired or the wait is over.
func (b *Broker) shareLongPoll(r *request, req *kmsg.ShareFetchRequest, member string, sess *shareSession, out *shareFetchOut, wait time.Duration, next time.Time) {
	defer b.wg.Done()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	expiry := time.NewTimer(time.Hour)
	defer expiry.Stop()
	for {
		sig := *b.appendSignal.Load()
		expiry.Reset(time.Hour)
		if !next.IsZero() {
			expiry.Reset(time.Until(next))
		}
		select {
		case <-deadline.C:
			r.reply(out.resp)
			return
		case <-r.c.done:
			return
		case <-b.ctx.Done():
			return
		case <-sig:
		case <-expiry.C:
		}
		s := &b.shares
		s.mu.Lock()
		got := b.acquireLocked(r, req, member, sess, out)
		next = s.nextExpiryLocked(sess)
		keys := s.sessionKeysLocked(deref(req.GroupID), member)
		s.mu.Unlock()
		b.persistShareParts(keys) // lock expiries released or archived records
		if got || out.errored() {
			r.reply(out.resp)
			return
		}
	}
}

// shareSessionLocked opens, checks or closes the member's share session
// for a request carrying epoch; it returns nil for epoch -1. s.mu held.
func (s *shareCoordinator) shareSessionLocked(group, member string, epoch int32) (*shareSession, int16) {
	key := shareSessionKey{group, member}
	if s.sessions == nil {
		s.sessions = map[shareSessionKey]*shareSession{}
	}
	cur := s.sessions[key]
	switch {
	case epoch == 0:
		if cur != nil {
			s.closeSessionLocked(group, member)
		}
		sess := &shareSession{epoch: 1, parts: map[sharePartKey]struct{}{}}
		s.sessions[key] = sess
		return sess, 0
	case cur == nil:
		return nil, kerr.ShareSessionNotFound.Code
	case epoch == -1:
		return nil, 0
	case epoch != cur.epoch:
		return nil, kerr.InvalidShareSessionEpoch.Code
	}
	cur.epoch = nextSessionEpoch(cur.epoch)
	return cur, 0
}

// closeSessionLocked ends the member's session and releases the records
// it holds in the session's partitions. s.mu held.
func (s *shareCoordinator) closeSessionLocked(group, member string) {
	key := shareSessionKey{group, member}
	if sess := s.sessions[key]; sess != nil {
		for k := range sess.parts {
			if p := s.parts[k]; p != nil {
				p.ReleaseMember(member)
			}
		}
	}
	delete(s.sessions, key)
}

// nextExpiryLocked is the earliest lock expiry in the session's
// partitions (zero if none). s.mu held.
func (s *shareCoordinator) nextExpiryLocked(sess *shareSession) time.Time {
	var next time.Time
	for k := range sess.parts {
		if p := s.parts[k]; p != nil {
			if t := p.NextExpiry(); !t.IsZero() && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
	}
	return next
}

// shareAck is one acknowledgement batch.
type shareAck struct {
	first, last int64
	types       []int8
}

func shareFetchAcks(bs []kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch) []shareAck {
	out := make([]shareAck, len(bs))
	for i, a := range bs {
		out[i] = shareAck{a.FirstOffset, a.LastOffset, a.AcknowledgeTypes}
	}
	return out
}

// renewAck is KIP-1222's acknowledge type that extends the locks.
const renewAck = 4

// acknowledgeLocked applies the batches to the share-partition; the
// first failure is the partition's error code. s.mu held.
func (s *shareCoordinator) acknowledgeLocked(k sharePartKey, member string, acks []shareAck) int16 {
	p := s.parts[k]
	if p == nil {
		return kerr.InvalidRecordState.Code
	}
	now := time.Now()
	var code int16
	for _, a := range acks {
		var err error
		if len(a.types) > 0 && allRenew(a.types) {
			err = p.Renew(now, member, a.first, a.last)
		} else {
			types := make([]sharegroup.AckType, len(a.types))
			for i, t := range a.types {
				types[i] = sharegroup.AckType(t)
			}
			err = p.Acknowledge(now, member, a.first, a.last, types)
		}
		if c := ackCode(err); c != 0 && code == 0 {
			code = c
		}
	}
	return code
}

func allRenew(types []int8) bool {
	for _, t := range types {
		if t != renewAck {
			return false
		}
	}
	return true
}

// shareFetchOut builds the response's partitions, one per partition.
type shareFetchOut struct {
	resp  *kmsg.ShareFetchResponse
	index map[sharePartKey][2]int
}

func newShareFetchOut(resp *kmsg.ShareFetchResponse) *shareFetchOut {
	return &shareFetchOut{resp: resp, index: map[sharePartKey][2]int{}}
}

// loadFailed gives the partitions whose state could not be loaded their
// error, unless records were acquired there.
func (o *shareFetchOut) loadFailed(errs map[sharePartKey]int16) {
	for k, code := range errs {
		if sp := o.part(k); sp.ErrorCode == 0 && len(sp.AcquiredRecords) == 0 {
			sp.ErrorCode = code
		}
	}
}

// persisted reports failed writes of acknowledged share-partitions as
// their acknowledgement error.
func (o *shareFetchOut) persisted(errs map[sharePartKey]int16, acked []sharePartKey) {
	for _, k := range acked {
		if code := errs[k]; code != 0 {
			if sp := o.part(k); sp.AcknowledgeErrorCode == 0 {
				sp.AcknowledgeErrorCode = code
			}
		}
	}
}

// errored reports whether a partition carries an error, which is
// answered at once.
func (o *shareFetchOut) errored() bool {
	for _, t := range o.resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return true
			}
		}
	}
	return false
}

func (o *shareFetchOut) part(k sharePartKey) *kmsg.ShareFetchResponseTopicPartition {
	if at, ok := o.index[k]; ok {
		return &o.resp.Topics[at[0]].Partitions[at[1]]
	}
	ti := -1
	for i := range o.resp.Topics {
		if o.resp.Topics[i].TopicID == k.topic {
			ti = i
		}
	}
	if ti < 0 {
		t := kmsg.NewShareFetchResponseTopic()
		t.TopicID = k.topic
		o.resp.Topics = append(o.resp.Topics, t)
		ti = len(o.resp.Topics) - 1
	}
	sp := kmsg.NewShareFetchResponseTopicPartition()
	sp.Partition = k.partition
	sp.CurrentLeader.LeaderID, sp.CurrentLeader.LeaderEpoch = -1, -1
	t := &o.resp.Topics[ti]
	t.Partitions = append(t.Partitions, sp)
	o.index[k] = [2]int{ti, len(t.Partitions) - 1}
	return &t.Partitions[len(t.Partitions)-1]
}

// acquireLocked acquires records of the session's partitions for the
// member, up to the request's MaxRecords and MaxBytes, and adds them to
// out; it reports whether any was acquired. The log is read under s.mu
// so that what is read and what is acquired agree. s.mu held.
func (b *Broker) acquireLocked(r *request, req *kmsg.ShareFetchRequest, member string, sess *shareSession, out *shareFetchOut) bool {
	s := &b.shares
	now := time.Now()
	left := int(req.MaxRecords)
	if left <= 0 {
		left = 500
	}
	budget := req.MaxBytes
	if budget <= 0 {
		budget = 1<<31 - 1
	}
	got := false
	for k := range sess.parts {
		if left <= 0 || budget <= 0 {
			break
		}
		t, known := b.cluster.TopicByID(k.topic)
		if !known {
			out.part(k).ErrorCode = errUnknownTopicID
			continue
		}
		if !r.authorizeTopic(acl.OpRead, t.Name) {
			out.part(k).ErrorCode = kerr.TopicAuthorizationFailed.Code
			continue
		}
		p, code := b.leaderPartition(t, true, k.partition)
		if code != 0 {
			out.part(k).ErrorCode = code
			continue
		}
		hw, logStart := p.log.HighWatermark(), p.log.LogStartOffset()
		sp := s.partitionLocked(k, p.epoch())
		if sp == nil {
			continue // not loaded at this leader epoch: the next request loads it
		}
		from := sp.NextAcquirable(now, logStart, hw)
		if from < 0 {
			continue
		}
		res, err := p.log.Read(from, budget, hw, true)
		if err != nil {
			out.part(k).ErrorCode = kafkaCode(err)
			continue
		}
		var buf bytes.Buffer
		_, err = res.WriteTo(&buf)
		res.Close()
		last, ok := lastBatchOffset(buf.Bytes())
		if err != nil || !ok {
			continue
		}
		ranges := sp.Acquire(now, member, logStart, min(hw, last+1), left)
		if len(ranges) == 0 {
			continue
		}
		got = true
		part := out.part(k)
		part.Records = append(part.Records, buf.Bytes()...)
		budget -= int32(buf.Len())
		for _, rg := range ranges {
			a := kmsg.NewShareFetchResponseTopicPartitionAcquiredRecord()
			a.FirstOffset, a.LastOffset, a.DeliveryCount = rg.First, rg.Last, int16(rg.Deliveries)
			part.AcquiredRecords = append(part.AcquiredRecords, a)
			left -= int(rg.Last - rg.First + 1)
		}
	}
	return got
}

// lastBatchOffset is the last offset of the last whole record batch in
// a run of batches (v2 format: base offset, length, ..., last offset
// delta at byte 23).
func lastBatchOffset(b []byte) (int64, bool) {
	var last int64
	ok := false
	for len(b) >= 27 {
		n := int(binary.BigEndian.Uint32(b[8:12]))
		if n < 15 || len(b) < 12+n {
			break
		}
		last = int64(binary.BigEndian.Uint64(b[0:8])) + int64(int32(binary.BigEndian.Uint32(b[23:27])))
		ok = true
		b = b[12+n:]
	}
	return last, ok
}
