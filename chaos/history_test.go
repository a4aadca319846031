package chaos

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// cleanHistory is a history with nothing wrong: six acknowledged records on
// two partitions, all read, offsets committed forwards.
func cleanHistory() *History {
	h := &History{Final: map[int32][]Read{}}
	for p := int32(0); p < 2; p++ {
		for i := int64(0); i < 3; i++ {
			v := fmt.Sprintf("p%d-%d", p, i)
			h.Sends = append(h.Sends, Send{Value: v, Partition: p, Seq: i, Acked: true, Offset: i})
			r := Read{Partition: p, Offset: i, Value: v}
			h.Final[p] = append(h.Final[p], r)
			h.Reads = append(h.Reads, r)
		}
	}
	t0 := time.Unix(1000, 0)
	h.Commits = []CommitObservation{{t0, 0, 1}, {t0.Add(time.Second), 0, 3}, {t0, 1, 3}}
	return h
}

func TestCheckHistory(t *testing.T) {
	definite := kerr.MessageTooLarge.Error()
	cases := []struct {
		name   string
		change func(h *History)
		want   string // the violation kind, "" for none
	}{
		{"clean", func(*History) {}, ""},
		{"acknowledged record lost", func(h *History) { h.Final[0] = h.Final[0][:2] }, "lost"},
		{"acknowledged record at another offset", func(h *History) { h.Sends[1].Offset = 7 }, "moved"},
		{"duplicate", func(h *History) {
			h.Final[1] = append(h.Final[1], Read{Partition: 1, Offset: 3, Value: "p1-2"})
		}, "duplicate"},
		{"never sent", func(h *History) {
			h.Final[1] = append(h.Final[1], Read{Partition: 1, Offset: 3, Value: "ghost"})
		}, "unknown"},
		{"present though definitely failed", func(h *History) {
			h.Sends[2] = Send{Value: "p0-2", Partition: 0, Seq: 2, Err: definite}
		}, "failed-but-present"},
		{"present after an ambiguous error", func(h *History) {
			h.Sends[2] = Send{Value: "p0-2", Partition: 0, Seq: 2, Err: "timed out", Ambiguous: true}
		}, ""},
		{"reordered", func(h *History) {
			f := h.Final[0]
			f[0].Value, f[1].Value = f[1].Value, f[0].Value
			h.Sends[0].Offset, h.Sends[1].Offset = 1, 0
			h.Reads = nil
		}, "reordered"},
		{"read record later lost", func(h *History) {
			h.Reads = append(h.Reads, Read{Partition: 0, Offset: 3, Value: "p0-3"})
		}, "read-lost"},
		{"read record later replaced", func(h *History) { h.Reads[0].Value = "other" }, "read-replaced"},
		{"commit goes backwards", func(h *History) {
			h.Commits = append(h.Commits, CommitObservation{time.Unix(1002, 0), 0, 2})
		}, "commit-backwards"},
		{"commit past the end", func(h *History) {
			h.Commits = append(h.Commits, CommitObservation{time.Unix(1003, 0), 1, 9})
		}, "commit-past-end"},
		{"zombie acknowledged a write it lost", func(h *History) {
			h.Probes = []Probe{{Broker: 2, Partition: 0, Value: "probe", Acked: true, Offset: 3}}
		}, "zombie-ack"},
		{"zombie refused", func(h *History) {
			h.Probes = []Probe{{Broker: 2, Partition: 0, Value: "probe", Err: "NOT_LEADER_OR_FOLLOWER", Ambiguous: true}}
		}, ""},
		{"zombie acknowledged a write that survived", func(h *History) {
			h.Probes = []Probe{{Broker: 2, Partition: 0, Value: "probe", Acked: true, Offset: 3}}
			h.Final[0] = append(h.Final[0], Read{Partition: 0, Offset: 3, Value: "probe"})
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := cleanHistory()
			tc.change(h)
			v := CheckHistory(h)
			if tc.want == "" {
				if len(v) > 0 {
					t.Fatalf("violations in a valid history: %q", v)
				}
				return
			}
			for _, line := range v {
				if strings.HasPrefix(line, tc.want+": ") {
					return
				}
			}
			t.Fatalf("want a %q violation, got %q", tc.want, v)
		})
	}
}

func TestAmbiguous(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{kerr.RequestTimedOut, true},
		{kerr.NotLeaderForPartition, true},
		{kerr.NotEnoughReplicasAfterAppend, true},
		{fmt.Errorf("wrapped: %w", kerr.MessageTooLarge), false},
		{kerr.InvalidRecord, false},
		{kgo.ErrRecordTimeout, true},
		{errors.New("connection reset"), true},
	} {
		if got := Ambiguous(tc.err); got != tc.want {
			t.Errorf("Ambiguous(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
