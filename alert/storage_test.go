package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/forecast"
)

const gib = int64(1) << 30

// diskSnap is a snapshot whose one log directory (broker 1, /data) has the growth and days until
// full the collector computes from the given history (used bytes a day apart) and usable bytes.
func diskSnap(h *harness, usable int64, used ...int64) *collector.Snapshot {
	var pts []forecast.Point
	for i, u := range used {
		pts = append(pts, forecast.Point{At: h.now().Add(time.Duration(i-len(used)+1) * forecast.Day), Used: u})
	}
	d := collector.LogDirStorage{Broker: 1, Path: "/data", UsedBytes: used[len(used)-1], TotalBytes: 1000 * gib, UsableBytes: usable, Points: len(pts)}
	if g, ok := forecast.Growth(pts); ok {
		d.Growth = &g
		if days, ok := forecast.DaysUntilFull(usable, g); ok {
			d.DaysUntilFull = &days
		}
	}
	s := newSnap("c1", h.now()).broker(1, true).build()
	s.Storage = &collector.Storage{Window: 3 * forecast.Day, Dirs: []collector.LogDirStorage{d}}
	return s
}

// disk_full_days fires for a directory that a fixed history of 10 GiB a day fills in 5 days (under
// the 7-day threshold), keeps firing through a cycle whose read failed, and resolves once the
// history flattens; a directory with days to spare, or without usable bytes, never fires.
func TestRuleDiskFull(t *testing.T) {
	h := newHarness(t, RuleInput{Name: "disk", Kind: KindDiskFull, Threshold: 7})
	h.observe(diskSnap(h, 100*gib, 400*gib, 410*gib, 420*gib)) // 10 days left
	h.expectFiring(0)
	h.observe(diskSnap(h, 50*gib, 430*gib, 440*gib, 450*gib)) // 5 days left
	a := h.expectFiring(1)[0]
	if a.Value != 5 || a.Labels["broker"] != "1" || a.Labels["dir"] != "/data" ||
		!strings.Contains(a.Summary, "full in 5.0 days") || !strings.Contains(a.Summary, "growing 10.0 GiB a day") {
		t.Fatalf("alert = %+v", a)
	}
	failed := diskSnap(h, 50*gib, 430*gib, 440*gib, 450*gib)
	failed.Storage.Dirs[0].Error = "cluster unreachable"
	failed.Storage.Dirs[0].DaysUntilFull = nil
	h.observe(failed)
	h.expectFiring(1)
	h.observe(diskSnap(h, -1, 430*gib, 440*gib, 450*gib)) // usable unknown: no estimate
	h.expectFiring(0)
	h.observe(diskSnap(h, 50*gib, 430*gib, 440*gib, 450*gib))
	h.expectFiring(1)
	h.observe(diskSnap(h, 50*gib, 450*gib, 450*gib, 450*gib)) // stopped growing
	h.expectFiring(0)
}

func TestRuleDiskFullThreshold(t *testing.T) {
	for _, in := range []RuleInput{
		{Name: "d", Kind: KindDiskFull},
		{Name: "d", Kind: KindDiskFull, Threshold: 3, Topic: "orders"},
	} {
		if _, err := in.normalize(); err == nil {
			t.Fatalf("%+v accepted", in)
		}
	}
	if _, err := (RuleInput{Name: "d", Kind: KindDiskFull, Threshold: 0.5}).normalize(); err != nil {
		t.Fatal(err)
	}
}
