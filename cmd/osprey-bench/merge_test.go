package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -merge replaces a rerun section's rows, why lines and notes in place and keeps everything else.
func TestMergeMarkdown(t *testing.T) {
	old := `# Benchmarks

- Date: 2026-12-06 11:49 UTC (whole run 24m34s)
- Machine: 2 cores

| Section | Figure | Value | Reference | Ratio | Target | Status |
|---|---|---|---|---|---|---|
| api | topics | p99 12 ms |  |  | p99 ≤ 50 ms | met |
| insights | storage | p99 97 ms |  |  | p99 ≤ 50 ms | **missed** |
| insights | search | 97 MB/s |  |  | ≥ 0.5 × | **missed** |
| broker | produce | 565 MB/s |  |  | ≥ 1.00 × kfake | **missed** |

## Targets missed or not measured, and why

- **insights / storage** (MISSED): slow
- **broker / produce** (MISSED): cores

## How each figure is measured

- API: the api note.
- Insights: the old insights note.
- Broker produce: the broker note.
`
	path := filepath.Join(t.TempDir(), "B.md")
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &report{loadStart: "1.00"}
	r.rows = []row{
		{Section: "insights", Name: "storage", Value: "p99 20 ms", Target: "p99 ≤ 50 ms", Status: statusMet},
		{Section: "insights", Name: "search", Value: "300 MB/s", Target: "≥ 0.5 ×", Status: statusMissed, Why: "fast now"},
	}
	r.notes = []string{"Insights: the new insights note.", "Message search: a new note."}
	if err := r.mergeMarkdown(path, []string{"insights"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	for _, want := range []string{
		"- Date: 2026-12-06 11:49 UTC (whole run 24m34s)\n- Rerun alone (-only insights): ",
		"| api | topics | p99 12 ms |  |  | p99 ≤ 50 ms | met |\n| insights | storage | p99 20 ms |  |  | p99 ≤ 50 ms | met |\n" +
			"| insights | search | 300 MB/s |  |  | ≥ 0.5 × | **missed** |\n| broker | produce |",
		"- **broker / produce** (MISSED): cores\n- **insights / search** (MISSED): fast now\n\n## How each",
		"- API: the api note.\n- Insights: the new insights note.\n- Broker produce: the broker note.\n- Message search: a new note.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("merged report lacks %q:\n%s", want, got)
		}
	}
	for _, gone := range []string{"97 MB/s", "slow", "old insights note"} {
		if strings.Contains(got, gone) {
			t.Errorf("merged report still has %q:\n%s", gone, got)
		}
	}
}
