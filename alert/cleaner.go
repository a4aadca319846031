package alert

import (
	"fmt"
	"strconv"
)

// KindCleanerDirty fires per compacted partition whose dirty ratio (the log cleaner's: cleanable
// bytes above the cleaner checkpoint over the clean plus cleanable bytes, collector.PartitionCleaner)
// is above Threshold percent: the cleaner is not keeping up. A dirty ratio climbs to
// min.cleanable.dirty.ratio between cleans by design, so the rule needs a hold (ForSeconds, at
// least a minute) and only a ratio that stays high for that long fires. Only clusters that report
// their cleaner's state (Osprey runtime clusters) are evaluated; a partition whose state is not
// reported this cycle keeps its alert state. Honours the topic scope.
const KindCleanerDirty Kind = "cleaner_dirty_percent"

// minCleanerHold is the shortest hold a cleaner_dirty_percent rule takes: a few cleaner backoffs
// (Kafka's log.cleaner.backoff.ms is 15 s).
const minCleanerHold = 60

type cleanerSample struct {
	Partition        int32   `json:"partition"`
	Broker           int32   `json:"broker"`
	DirtyPercent     float64 `json:"dirtyPercent"`
	DirtyBytes       int64   `json:"dirtyBytes"`
	CleanBytes       int64   `json:"cleanBytes"`
	FirstDirtyOffset int64   `json:"firstDirtyOffset"`
	LastCleaned      string  `json:"lastCleaned,omitempty"`
	Uncleanable      string  `json:"uncleanable,omitempty"`
}

func evalCleanerDirty(r Rule, c evalContext) []finding {
	var out []finding
	for _, t := range c.snap.Topics {
		if t.Cleaner == nil || !t.Cleaner.Reported || !match(r.Topic, t.Name) {
			continue
		}
		for _, p := range t.Partitions {
			id := strconv.Itoa(int(p.Partition))
			f := finding{labels: map[string]string{"topic": t.Name, "partition": id}, subject: "topic " + t.Name + " / partition " + id}
			pc := p.Cleaner
			if pc == nil {
				f.unknown = true
				out = append(out, f)
				continue
			}
			pct := 100 * pc.DirtyRatio
			if pct <= r.Threshold {
				continue
			}
			s := cleanerSample{Partition: p.Partition, Broker: pc.Broker, DirtyPercent: pct, DirtyBytes: pc.DirtyBytes,
				CleanBytes: pc.CleanBytes, FirstDirtyOffset: pc.FirstDirtyOffset, Uncleanable: pc.Uncleanable}
			last := "not since its broker started"
			if pc.LastCleaned != nil {
				s.LastCleaned = pc.LastCleaned.Format("2006-01-02T15:04:05Z07:00")
				last = "last at " + s.LastCleaned
			}
			f.value, f.samples = pct, s
			f.summary = fmt.Sprintf("Partition %d of compacted topic %s is %.1f%% dirty (threshold %s%%): %s not cleaned above offset %d; cleaned %s",
				p.Partition, t.Name, pct, fmtNum(r.Threshold), fmtBytes(pc.DirtyBytes), pc.FirstDirtyOffset, last)
			if pc.Uncleanable != "" {
				f.summary += "; cleaning it failed: " + pc.Uncleanable
			}
			out = append(out, f)
		}
	}
	return out
}
