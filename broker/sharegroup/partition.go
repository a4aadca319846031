// Package sharegroup keeps the state of one share-partition of a share
// group (KIP-932): which records of a topic partition the group has
// delivered, to whom, how often, and which are done with.
//
// The in-flight window runs from the share-partition start offset (SPSO)
// to the share-partition end offset (SPEO, exclusive here: the next offset
// never acquired). Every record in it is Available, Acquired (by one
// member, until its acquisition lock expires), Acknowledged or Archived.
// The SPSO moves past a leading run of Acknowledged and Archived records.
//
// The package does no I/O and keeps no clock: callers pass the time, so
// tests drive lock expiry with a fake clock. A Partition is not safe for
// concurrent use; its owner serialises calls (the broker holds the
// share-partition's lock).
package sharegroup

import (
	"fmt"
	"time"
)

// State is a record's state, numbered as Kafka's RecordState.
type State int8

const (
	Available    State = 0
	Acquired     State = 1
	Acknowledged State = 2
	Archived     State = 4
)

func (s State) String() string {
	switch s {
	case Available:
		return "Available"
	case Acquired:
		return "Acquired"
	case Acknowledged:
		return "Acknowledged"
	case Archived:
		return "Archived"
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// AckType is an acknowledgement type as ShareFetch and ShareAcknowledge
// carry it; Gap marks an offset with no record (compacted away or a
// transaction marker), which the client acknowledges as absent.
type AckType int8

const (
	Gap     AckType = 0
	Accept  AckType = 1
	Release AckType = 2
	Reject  AckType = 3
)

// Config holds the group.share.* settings a share-partition obeys.
type Config struct {
	// LockDuration is group.share.record.lock.duration.ms: how long an
	// acquired record stays with its member before it is available again.
	LockDuration time.Duration
	// DeliveryLimit is group.share.delivery.count.limit: a record
	// delivered that many times is archived instead of made available.
	DeliveryLimit int32
	// MaxRecordLocks is group.share.partition.max.record.locks: the
	// in-flight window (SPEO - SPSO) is not extended past it.
	MaxRecordLocks int
}

// DefaultConfig is Kafka 4.x's defaults.
func DefaultConfig() Config {
	return Config{LockDuration: 30 * time.Second, DeliveryLimit: 5, MaxRecordLocks: 2000}
}

// record is the state of one in-flight offset.
type record struct {
	state      State
	deliveries int32
	member     string    // the owner while Acquired
	lockUntil  time.Time // while Acquired
}

// Partition is one share-partition's state.
type Partition struct {
	cfg   Config
	start int64    // SPSO
	recs  []record // recs[i] is offset start+i; SPEO is start+len(recs)
	// archived counts the records ever archived (rejected or past the
	// delivery limit), for the console's undeliverable-records figure.
	archived int64
	// version counts the changes of the durable state (see Version).
	version uint64
}

// New returns a share-partition whose SPSO is start (Kafka initialises it
// from share.auto.offset.reset: the log end offset by default).
func New(cfg Config, start int64) *Partition {
	return &Partition{cfg: cfg, start: start}
}

// SetConfig changes the settings; records already acquired keep their locks.
func (p *Partition) SetConfig(cfg Config) { p.cfg = cfg }

// StartOffset is the SPSO.
func (p *Partition) StartOffset() int64 { return p.start }

// EndOffset is the SPEO: the first offset never acquired.
func (p *Partition) EndOffset() int64 { return p.start + int64(len(p.recs)) }

// Range is a run of consecutive offsets acquired in one call with the same
// delivery count, as ShareFetch's AcquiredRecords lists them.
type Range struct {
	First, Last int64
	Deliveries  int32
}

// Acquire hands member up to max Available records below hwm (the high
// watermark, or the last stable offset under read_committed), lowest
// offsets first: released and expired records before new ones, and new
// ones only while the in-flight window is below MaxRecordLocks. Each
// acquired record's delivery count goes up by one and it is locked until
// now + LockDuration. logStart drops records the log no longer holds.
func (p *Partition) Acquire(now time.Time, member string, logStart, hwm int64, max int) []Range {
	p.Expire(now)
	p.SkipTo(logStart)
	var out []Range
	take := func(i int) {
		r := &p.recs[i]
		r.state, r.member, r.lockUntil = Acquired, member, now.Add(p.cfg.LockDuration)
		r.deliveries++
		off := p.start + int64(i)
		if n := len(out); n > 0 && out[n-1].Last == off-1 && out[n-1].Deliveries == r.deliveries {
			out[n-1].Last = off
		} else {
			out = append(out, Range{First: off, Last: off, Deliveries: r.deliveries})
		}
		max--
	}
	for i := 0; i < len(p.recs) && max > 0 && p.start+int64(i) < hwm; i++ {
		if p.recs[i].state == Available {
			take(i)
		}
	}
	for max > 0 && p.EndOffset() < hwm && len(p.recs) < p.cfg.MaxRecordLocks {
		p.recs = append(p.recs, record{})
		take(len(p.recs) - 1)
	}
	return out
}

// SkipTo moves the SPSO to off if it is behind (the log start moved past
// it, or an administrator reset the group's offset forward), dropping the
// records below it.
func (p *Partition) SkipTo(off int64) {
	if off <= p.start {
		return
	}
	p.version++
	if n := off - p.start; n >= int64(len(p.recs)) {
		p.recs = p.recs[:0]
	} else {
		p.recs = append(p.recs[:0], p.recs[n:]...)
	}
	p.start = off
}

// ErrInvalidRecordState is returned when an acknowledged offset is not
// acquired by the acknowledging member (Kafka's INVALID_RECORD_STATE).
var ErrInvalidRecordState = fmt.Errorf("record not acquired by this member")

// ErrInvalidRequest is returned for a malformed acknowledgement batch.
var ErrInvalidRequest = fmt.Errorf("invalid acknowledgement batch")

// Acknowledge applies one acknowledgement batch of member: types holds one
// type for the whole range or one per offset. Every offset must be
// Acquired by member, else nothing changes and ErrInvalidRecordState is
// returned. Accept and Gap acknowledge, Reject archives, Release makes the
// record available again (archived once it reached the delivery limit).
func (p *Partition) Acknowledge(now time.Time, member string, first, last int64, types []AckType) error {
	n := last - first + 1
	if n <= 0 || (len(types) != 1 && int64(len(types)) != n) {
		return ErrInvalidRequest
	}
	for _, t := range types {
		if t < Gap || t > Reject {
			return ErrInvalidRequest
		}
	}
	p.Expire(now)
	if first < p.start || last >= p.EndOffset() {
		return ErrInvalidRecordState
	}
	base := first - p.start
	for i := int64(0); i < n; i++ {
		if r := p.recs[base+i]; r.state != Acquired || r.member != member {
			return ErrInvalidRecordState
		}
	}
	for i := int64(0); i < n; i++ {
		t := types[0]
		if len(types) > 1 {
			t = types[i]
		}
		r := &p.recs[base+i]
		switch t {
		case Gap, Accept:
			p.finish(r, Acknowledged)
		case Reject:
			p.finish(r, Archived)
		case Release:
			p.release(r)
		}
	}
	p.advance()
	return nil
}

// Renew extends the acquisition locks of member's records in [first,
// last] (KIP-1222's renew acknowledgement).
func (p *Partition) Renew(now time.Time, member string, first, last int64) error {
	p.Expire(now)
	if first > last || first < p.start || last >= p.EndOffset() {
		return ErrInvalidRecordState
	}
	for off := first; off <= last; off++ {
		if r := p.recs[off-p.start]; r.state != Acquired || r.member != member {
			return ErrInvalidRecordState
		}
	}
	for off := first; off <= last; off++ {
		p.recs[off-p.start].lockUntil = now.Add(p.cfg.LockDuration)
	}
	return nil
}

// ReleaseMember releases every record member holds (it left the group or
// closed its share session); it reports whether any was released.
func (p *Partition) ReleaseMember(member string) bool {
	released := false
	for i := range p.recs {
		if r := &p.recs[i]; r.state == Acquired && r.member == member {
			p.release(r)
			released = true
		}
	}
	p.advance()
	return released
}

// Expire releases the records whose acquisition lock ran out by now; it
// reports whether any did.
func (p *Partition) Expire(now time.Time) bool {
	expired := false
	for i := range p.recs {
		if r := &p.recs[i]; r.state == Acquired && !now.Before(r.lockUntil) {
			p.release(r)
			expired = true
		}
	}
	p.advance()
	return expired
}

// NextExpiry is the earliest lock expiry, zero when nothing is acquired.
func (p *Partition) NextExpiry() time.Time {
	var t time.Time
	for _, r := range p.recs {
		if r.state == Acquired && (t.IsZero() || r.lockUntil.Before(t)) {
			t = r.lockUntil
		}
	}
	return t
}

func (p *Partition) release(r *record) {
	p.version++
	if r.deliveries >= p.cfg.DeliveryLimit {
		p.finish(r, Archived)
		return
	}
	r.state, r.member, r.lockUntil = Available, "", time.Time{}
}

func (p *Partition) finish(r *record, s State) {
	p.version++
	if s == Archived {
		p.archived++
	}
	r.state, r.member, r.lockUntil = s, "", time.Time{}
}

// advance moves the SPSO past the leading Acknowledged and Archived records.
func (p *Partition) advance() {
	n := 0
	for n < len(p.recs) && (p.recs[n].state == Acknowledged || p.recs[n].state == Archived) {
		n++
	}
	if n > 0 {
		p.recs = append(p.recs[:0], p.recs[n:]...)
		p.start += int64(n)
	}
}

// Snapshot is what a describe shows of a share-partition.
type Snapshot struct {
	StartOffset, EndOffset int64
	// Counts of in-flight records by state.
	Available, Acquired, Acknowledged, Archived int
	// ArchivedTotal counts every record archived so far.
	ArchivedTotal int64
	// Records lists the in-flight records (SPSO to SPEO).
	Records []RecordState
}

// RecordState is one in-flight record.
type RecordState struct {
	Offset     int64
	State      State
	Deliveries int32
	Member     string
}

// Snapshot returns the share-partition's state at now (expired locks
// released first).
func (p *Partition) Snapshot(now time.Time) Snapshot {
	p.Expire(now)
	s := Snapshot{StartOffset: p.start, EndOffset: p.EndOffset(), Records: make([]RecordState, 0, len(p.recs)), ArchivedTotal: p.archived}
	for i, r := range p.recs {
		switch r.state {
		case Available:
			s.Available++
		case Acquired:
			s.Acquired++
		case Acknowledged:
			s.Acknowledged++
		case Archived:
			s.Archived++
		}
		s.Records = append(s.Records, RecordState{Offset: p.start + int64(i), State: r.state, Deliveries: r.deliveries, Member: r.member})
	}
	return s
}

// NextAcquirable is the lowest offset below hwm that Acquire would hand
// out at now, or -1 when there is none (the caller reads the log from it).
func (p *Partition) NextAcquirable(now time.Time, logStart, hwm int64) int64 {
	p.Expire(now)
	p.SkipTo(logStart)
	for i, r := range p.recs {
		if off := p.start + int64(i); off >= hwm {
			break
		} else if r.state == Available {
			return off
		}
	}
	if p.EndOffset() < hwm && len(p.recs) < p.cfg.MaxRecordLocks {
		return p.EndOffset()
	}
	return -1
}

// Batch is a run of in-flight offsets with one durable state and delivery
// count, as the share coordinator stores them: Acquired records are kept
// as Available with their delivery count (after a restart their lock is
// gone and they are delivered again).
type Batch struct {
	First, Last int64
	State       State
	Deliveries  int32
}

// Version counts the changes of the durable state (start offset, states
// and delivery counts of released, acknowledged and archived records): an
// owner persists the partition when it moved since the last write.
func (p *Partition) Version() uint64 { return p.version }

// Batches is the durable in-flight state from the SPSO to the SPEO, and
// how many of its records are delivered for good (acknowledged or
// archived).
func (p *Partition) Batches() (bs []Batch, complete int32) {
	for i, r := range p.recs {
		st := r.state
		if st == Acquired {
			st = Available
		}
		if st == Acknowledged || st == Archived {
			complete++
		}
		off := p.start + int64(i)
		if n := len(bs); n > 0 && bs[n-1].Last == off-1 && bs[n-1].State == st && bs[n-1].Deliveries == r.deliveries {
			bs[n-1].Last = off
			continue
		}
		bs = append(bs, Batch{First: off, Last: off, State: st, Deliveries: r.deliveries})
	}
	return bs, complete
}

// Restore returns a share-partition from its durable state: the SPSO and
// the batches at and above it. Offsets between the batches that no batch
// covers are Available and never delivered; an Available record that
// reached the delivery limit is archived.
func Restore(cfg Config, start int64, batches []Batch) *Partition {
	p := New(cfg, start)
	for _, b := range batches {
		if b.Last < p.start {
			continue
		}
		first := max(b.First, p.start)
		for p.EndOffset() < first {
			p.recs = append(p.recs, record{})
		}
		for off := first; off <= b.Last; off++ {
			r := record{state: b.State, deliveries: b.Deliveries}
			if r.state != Acknowledged && r.state != Archived {
				r.state = Available
				if r.deliveries >= cfg.DeliveryLimit {
					r.state = Archived
				}
			}
			if r.state == Archived {
				p.archived++
			}
			if i := off - p.start; i < int64(len(p.recs)) {
				p.recs[i] = r
			} else {
				p.recs = append(p.recs, r)
			}
		}
	}
	p.advance()
	return p
}
