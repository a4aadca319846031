package alert

import (
	"fmt"
	"strconv"
)

// KindDiskFull fires per broker log directory that will be full in less than Threshold days at
// its current growth rate (collector.LogDirStorage.DaysUntilFull: its usable bytes over the
// least-squares growth of its used bytes across collector.storageWindow). A directory that is not
// growing, or whose broker does not report usable bytes, does not fire; one whose read failed this
// cycle keeps its state.
const KindDiskFull Kind = "disk_full_days"

type diskSamples struct {
	Broker            int32    `json:"broker"`
	Path              string   `json:"path"`
	UsedBytes         int64    `json:"usedBytes"`
	TotalBytes        int64    `json:"totalBytes"`
	UsableBytes       int64    `json:"usableBytes"`
	GrowthBytesPerDay *float64 `json:"growthBytesPerDay,omitempty"`
	DaysUntilFull     *float64 `json:"daysUntilFull,omitempty"`
	Points            int      `json:"points"`
}

func evalDiskFull(r Rule, c evalContext) []finding {
	st := c.snap.Storage
	if st == nil {
		return nil
	}
	var out []finding
	for _, d := range st.Dirs {
		b := strconv.Itoa(int(d.Broker))
		f := finding{labels: map[string]string{"broker": b, "dir": d.Path}, subject: "broker " + b + " " + d.Path,
			samples: diskSamples{Broker: d.Broker, Path: d.Path, UsedBytes: d.UsedBytes, TotalBytes: d.TotalBytes,
				UsableBytes: d.UsableBytes, GrowthBytesPerDay: d.Growth, DaysUntilFull: d.DaysUntilFull, Points: d.Points}}
		switch {
		case d.Error != "":
			f.unknown = true
			out = append(out, f)
		case d.DaysUntilFull != nil && *d.DaysUntilFull < r.Threshold:
			f.value = *d.DaysUntilFull
			f.summary = fmt.Sprintf("Log directory %s on broker %d of %s will be full in %.1f days (threshold %s): %s usable, growing %s a day",
				d.Path, d.Broker, c.cluster, *d.DaysUntilFull, fmtNum(r.Threshold), fmtBytes(d.UsableBytes), fmtBytes(int64(*d.Growth)))
			out = append(out, f)
		}
	}
	return out
}

// fmtBytes is a byte count in binary units, for summaries.
func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
