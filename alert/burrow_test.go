package alert

import (
	"testing"
	"time"
)

// seq builds samples from (committed, end) pairs, one per 15 s.
func seq(pairs ...[2]int64) []LagSample {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]LagSample, len(pairs))
	for i, p := range pairs {
		out[i] = LagSample{At: t0.Add(time.Duration(i) * 15 * time.Second), Committed: p[0], End: p[1], Lag: max(p[1]-p[0], 0)}
	}
	return out
}

// repeat makes n samples with committed and end advancing by dc and de per step.
func repeat(n int, c0, dc, e0, de int64) []LagSample {
	pairs := make([][2]int64, n)
	for i := range pairs {
		pairs[i] = [2]int64{c0 + int64(i)*dc, e0 + int64(i)*de}
	}
	return seq(pairs...)
}

func TestPartitionStatus(t *testing.T) {
	cases := []struct {
		name    string
		samples []LagSample
		want    Status
	}{
		// Burrow's most criticised false positive: nothing is produced, the
		// consumer sits at the log end and stops committing. That is fine.
		{"idle topic, stopped consumer at log end", repeat(10, 500, 0, 500, 0), StatusOK},
		{"idle topic after catching up", seq([2]int64{90, 100}, [2]int64{95, 100}, [2]int64{100, 100}, [2]int64{100, 100}, [2]int64{100, 100}, [2]int64{100, 100}, [2]int64{100, 100}, [2]int64{100, 100}, [2]int64{100, 100}, [2]int64{100, 100}), StatusOK},
		// A slow consumer advances but falls behind: WARN, never ERR.
		{"slow but advancing consumer", repeat(10, 0, 50, 100, 80), StatusWarn},
		// Keeping up at a constant distance (batch commits) is not a warning.
		{"constant lag, consumer keeps up", repeat(10, 0, 100, 200, 100), StatusOK},
		{"lag sometimes shrinks", seq([2]int64{0, 100}, [2]int64{10, 150}, [2]int64{100, 160}, [2]int64{110, 200}, [2]int64{150, 260}, [2]int64{200, 300}, [2]int64{210, 350}, [2]int64{250, 400}, [2]int64{300, 450}, [2]int64{310, 500}), StatusOK},
		// A real stop: the head moves, the committed offset does not.
		{"stopped consumer, head moving", repeat(10, 1000, 0, 1100, 100), StatusStop},
		// A backlog nobody consumes on a quiet topic: stuck, not stopped.
		{"stalled: backlog, no progress, head still", repeat(10, 1000, 0, 1200, 0), StatusStall},
		{"rewind", seq([2]int64{100, 300}, [2]int64{150, 300}, [2]int64{20, 300}, [2]int64{40, 310}), StatusRewind},
		{"rewind needs only two samples", seq([2]int64{100, 300}, [2]int64{20, 300}), StatusRewind},
		{"rewind to the end is OK (no lag)", seq([2]int64{300, 300}, [2]int64{100, 300}, [2]int64{300, 300}), StatusOK},
		{"stop needs a full window", repeat(9, 1000, 0, 1100, 100), StatusOK},
		{"warn needs a full window", repeat(5, 0, 50, 100, 80), StatusOK},
		{"lag reached zero inside the window", seq([2]int64{0, 100}, [2]int64{0, 100}, [2]int64{100, 100}, [2]int64{100, 200}, [2]int64{100, 300}, [2]int64{100, 400}, [2]int64{100, 500}, [2]int64{100, 600}, [2]int64{100, 700}, [2]int64{100, 800}), StatusOK},
		{"only the last window counts", append(repeat(10, 1000, 0, 1100, 100), repeat(10, 1000, 100, 2100, 100)...), StatusOK},
		{"empty", nil, StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := PartitionStatus(c.samples, 10); got != c.want {
				t.Fatalf("status = %s, want %s", got, c.want)
			}
		})
	}
}

func TestStatusLevels(t *testing.T) {
	for st, want := range map[Status]string{StatusOK: "OK", StatusWarn: "WARN", StatusStall: "ERR", StatusStop: "ERR", StatusRewind: "ERR"} {
		if got := GroupStatusName(st); got != want {
			t.Errorf("group status of %s = %s, want %s", st, got, want)
		}
	}
}
