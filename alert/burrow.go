package alert

import "time"

// Status is a consumer's window status on one partition, after Burrow.
type Status int

// Statuses, in increasing order of badness (the group reports the worst).
const (
	StatusOK Status = iota
	StatusWarn
	StatusRewind
	StatusStall
	StatusStop
)

func (s Status) String() string {
	switch s {
	case StatusWarn:
		return "WARN"
	case StatusRewind:
		return "REWIND"
	case StatusStall:
		return "STALL"
	case StatusStop:
		return "STOP"
	}
	return "OK"
}

// Level is 0 for OK, 1 for WARN and 2 for the statuses Burrow reports as ERR
// at the group level (STALL, STOP, REWIND).
func (s Status) Level() int {
	switch s {
	case StatusOK:
		return 0
	case StatusWarn:
		return 1
	}
	return 2
}

// GroupStatusName is the group-level name for the worst partition status:
// OK, WARN or ERR.
func GroupStatusName(worst Status) string {
	switch worst.Level() {
	case 0:
		return "OK"
	case 1:
		return "WARN"
	}
	return "ERR"
}

// LagSample is one observation of a group's position on one partition.
type LagSample struct {
	At        time.Time `json:"at"`
	Committed int64     `json:"committed"`
	End       int64     `json:"end"`
	Lag       int64     `json:"lag"`
}

// PartitionStatus evaluates the last window samples (oldest first) of one
// group×partition.
//
// Burrow's rules (evaluator/caching.go) over the last N commits, applied only
// when the current lag is above zero: STOP when no commit happened for longer
// than the window while the head moved; REWIND when an offset went backwards;
// STALL when lag > 0 throughout and the offset never changed; WARN when
// lag > 0 throughout and never decreased. Osprey samples positions once per
// collector cycle (it cannot see commits that repeat the same offset), and
// changes the rules where Burrow is known to raise false alarms:
//
//   - A consumer at the log end (current lag 0) is OK however old its last
//     commit is: an idle topic with a stopped consumer is not a problem
//     (Burrow issues #38, #123, #140, #237, #287, #303).
//   - STOP needs the head to have moved during the window while the committed
//     offset stood still: new messages arrived and nobody consumed them. With
//     no new messages and a leftover backlog that nobody consumes, the status
//     is STALL.
//   - WARN needs the lag to grow over the window (never decreasing, and larger
//     at the end than at the start) while the consumer advances: a consumer
//     that keeps up at a constant distance is OK, and a slow consumer that
//     advances is WARN, never ERR.
//   - STOP, STALL and WARN need a full window; REWIND only two samples.
func PartitionStatus(samples []LagSample, window int) Status {
	if len(samples) > window && window > 0 {
		samples = samples[len(samples)-window:]
	}
	n := len(samples)
	if n == 0 || samples[n-1].Lag <= 0 {
		return StatusOK
	}
	for i := 1; i < n; i++ {
		if samples[i].Committed < samples[i-1].Committed {
			return StatusRewind
		}
	}
	if n < window || n < 2 {
		return StatusOK // not enough history to judge
	}
	lagAlways := true
	lagNeverDown := true
	for i, s := range samples {
		if s.Lag <= 0 {
			lagAlways = false
		}
		if i > 0 && s.Lag < samples[i-1].Lag {
			lagNeverDown = false
		}
	}
	if !lagAlways {
		return StatusOK
	}
	first, last := samples[0], samples[n-1]
	committedMoved := last.Committed != first.Committed
	headMoved := last.End > first.End
	switch {
	case !committedMoved && headMoved:
		return StatusStop
	case !committedMoved:
		return StatusStall
	case lagNeverDown && last.Lag > first.Lag:
		return StatusWarn
	}
	return StatusOK
}
