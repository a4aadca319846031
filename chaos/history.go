package chaos

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Send is one record the producer sent and what it was told about it.
type Send struct {
	Value     string
	Partition int32
	Seq       int64 // the record's place in its partition's send order, from 0
	Acked     bool
	Offset    int64  // the acknowledged offset (Acked only)
	Err       string // the error the record failed with (not Acked)
	Ambiguous bool   // the error leaves open whether the record was written
}

// Read is a record read with isolation level read_committed.
type Read struct {
	Partition int32
	Offset    int64
	Value     string
}

// CommitObservation is a partition's committed group offset as the group
// coordinator reported it at one moment.
type CommitObservation struct {
	At        time.Time
	Partition int32
	Offset    int64
}

// Probe is a single acks=all write sent straight to a deposed leader (a
// zombie after the controller moved its leadership, or a leader cut off
// from the cluster) and what that broker answered.
type Probe struct {
	Broker    int32
	Partition int32
	Value     string
	Acked     bool
	Offset    int64
	Err       string
	Ambiguous bool // the error leaves open whether the broker wrote it
}

// History is everything a fault run recorded.
type History struct {
	Sends   []Send
	Reads   []Read           // read while the faults ran
	Final   map[int32][]Read // each partition's whole log, read after the faults healed
	Commits []CommitObservation
	Probes  []Probe
}

// Ambiguous says whether a produce error leaves open that the record was
// written: a Kafka error the protocol marks retriable (the request timed
// out, the leader moved, not enough replicas after the append), or no
// answer at all (a timeout, a closed connection, the client giving up
// after retries). A non-retriable Kafka error is a definite "not written".
func Ambiguous(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, kgo.ErrRecordTimeout) || errors.Is(err, kgo.ErrRecordRetries) {
		return true
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable
	}
	return true
}

// maxPerKind bounds how many violations of one kind are listed.
const maxPerKind = 20

type violations struct {
	out   []string
	count map[string]int
}

func (v *violations) add(kind, format string, args ...any) {
	v.count[kind]++
	if n := v.count[kind]; n <= maxPerKind {
		v.out = append(v.out, kind+": "+fmt.Sprintf(format, args...))
	} else if n == maxPerKind+1 {
		v.out = append(v.out, kind+": (more left out)")
	}
}

// CheckHistory returns every way h breaks the guarantees an idempotent
// acks=all producer and a read_committed consumer are given:
//   - every acknowledged record is in its partition's log exactly once, at
//     the offset it was acknowledged with;
//   - every record in a log was sent, and a record the producer was told
//     definitely failed is not there; records of one partition are in the
//     order they were sent, none twice;
//   - every record read during the run is in the final log at the offset it
//     was read at (nothing read was later lost or replaced);
//   - a partition's committed offset never goes backwards and never passes
//     the end of its log;
//   - a probe write a deposed leader acknowledged is in the log at its
//     offset (a zombie must not acknowledge what it then loses).
func CheckHistory(h *History) []string {
	v := &violations{count: map[string]int{}}
	type where struct {
		part   int32
		offset int64
	}
	found := map[string][]where{}
	for p, recs := range h.Final {
		for _, r := range recs {
			found[r.Value] = append(found[r.Value], where{p, r.Offset})
		}
	}
	sent := map[string]Send{}
	for _, s := range h.Sends {
		sent[s.Value] = s
	}
	for _, pr := range h.Probes {
		sent[pr.Value] = Send{Value: pr.Value, Partition: pr.Partition, Seq: -1, Acked: pr.Acked, Offset: pr.Offset,
			Err: pr.Err, Ambiguous: pr.Ambiguous}
	}
	for _, s := range h.Sends {
		if !s.Acked {
			continue
		}
		ws := found[s.Value]
		switch {
		case len(ws) == 0:
			v.add("lost", "%q acknowledged at %d/%d is not in the log", s.Value, s.Partition, s.Offset)
		case ws[0].part != s.Partition || ws[0].offset != s.Offset:
			v.add("moved", "%q acknowledged at %d/%d is at %d/%d", s.Value, s.Partition, s.Offset, ws[0].part, ws[0].offset)
		}
	}
	for val, ws := range found {
		s, ok := sent[val]
		switch {
		case !ok:
			v.add("unknown", "%q at %d/%d was never sent", val, ws[0].part, ws[0].offset)
		case !s.Acked && !s.Ambiguous:
			v.add("failed-but-present", "%q at %d/%d: the producer was told it failed (%s)", val, ws[0].part, ws[0].offset, s.Err)
		}
		if len(ws) > 1 {
			v.add("duplicate", "%q is in the log %d times (%v)", val, len(ws), ws)
		}
	}
	checkOrder(h, sent, v)
	checkReads(h, v)
	checkCommits(h, v)
	for _, pr := range h.Probes {
		if !pr.Acked {
			continue
		}
		ws := found[pr.Value]
		if len(ws) == 0 || ws[0].part != pr.Partition || ws[0].offset != pr.Offset {
			v.add("zombie-ack", "deposed leader %d acknowledged %q at %d/%d, which the log does not hold there",
				pr.Broker, pr.Value, pr.Partition, pr.Offset)
		}
	}
	return v.out
}

// checkOrder: within a partition, the log holds the producer's records in
// send order.
func checkOrder(h *History, sent map[string]Send, v *violations) {
	for p, recs := range h.Final {
		last, lastOff := int64(-1), int64(-1)
		for _, r := range recs {
			s, ok := sent[r.Value]
			if !ok || s.Seq < 0 {
				continue
			}
			if s.Partition != p {
				v.add("wrong-partition", "%q sent to partition %d is in %d at %d", r.Value, s.Partition, p, r.Offset)
				continue
			}
			if s.Seq <= last {
				v.add("reordered", "partition %d: %q (send #%d) at %d follows send #%d at %d", p, r.Value, s.Seq, r.Offset, last, lastOff)
			}
			last, lastOff = s.Seq, r.Offset
		}
	}
}

// checkReads: every record read during the run is in the final log, same
// offset, same value.
func checkReads(h *History, v *violations) {
	at := map[int32]map[int64]string{}
	for p, recs := range h.Final {
		m := make(map[int64]string, len(recs))
		for _, r := range recs {
			m[r.Offset] = r.Value
		}
		at[p] = m
	}
	for _, r := range h.Reads {
		got, ok := at[r.Partition][r.Offset]
		switch {
		case !ok:
			v.add("read-lost", "%q read at %d/%d is not in the log", r.Value, r.Partition, r.Offset)
		case got != r.Value:
			v.add("read-replaced", "%q read at %d/%d was replaced by %q", r.Value, r.Partition, r.Offset, got)
		}
	}
}

// checkCommits: committed offsets per partition never decrease over time and
// never pass the end of the final log.
func checkCommits(h *History, v *violations) {
	obs := append([]CommitObservation(nil), h.Commits...)
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].At.Before(obs[j].At) })
	last := map[int32]CommitObservation{}
	for _, o := range obs {
		if prev, ok := last[o.Partition]; ok && o.Offset < prev.Offset {
			v.add("commit-backwards", "partition %d: committed offset %d at %s after %d at %s",
				o.Partition, o.Offset, o.At.Format("15:04:05.000"), prev.Offset, prev.At.Format("15:04:05.000"))
		}
		last[o.Partition] = o
		end := int64(0)
		if recs := h.Final[o.Partition]; len(recs) > 0 {
			end = recs[len(recs)-1].Offset + 1
		}
		if o.Offset > end {
			v.add("commit-past-end", "partition %d: committed offset %d past the log end %d", o.Partition, o.Offset, end)
		}
	}
}
