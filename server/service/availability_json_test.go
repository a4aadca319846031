package service

import (
	"encoding/json"
	"testing"
	"time"
)

// The hand-written timeline encoding equals encoding/json's for the strings, numbers and times a
// timeline can hold: HTML characters, control characters, invalid UTF-8, line separators, times in
// other zones and with nanoseconds, durations from zero to exponent form, null and empty lists.
func TestTimelineJSONMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.UTC)
	end := at.Add(90 * time.Second)
	zone := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("x", 5*3600+1800))
	strs := []string{"", "orders", `a"b\c`, "<script>&amp;</script>", "tab\there\nnew\rline\b\f\x00\x1f\x7f",
		"ISR [1 2 3] → [1 2]", "bad \xff\xfe utf8 \xe2\x82", "sep\u2028para\u2029", "emoji 🦅 中文"}
	secs := []float64{0, 1, 30.5, 0.001, 1e-7, 123456789.123, 1e21, 5e-324, 86400 * 365}
	var tls []Timeline
	for i, s := range strs {
		ev := AvailabilityEvent{ID: int64(i), Kind: s, Topic: s, Partition: int32(i - 3), Start: at, Seconds: secs[i%len(secs)],
			Brokers: []int32{}, Cause: s, Detail: s}
		if i%2 == 0 {
			ev.End, ev.Brokers = &end, []int32{1, -2, 2147483647}
		}
		if i%3 == 0 {
			ev.Start, ev.Brokers = zone, nil
		}
		tls = append(tls, Timeline{From: at, To: zone, FlapChanges: i, FlapMinutes: 10, Events: []AvailabilityEvent{ev},
			Flapping: []FlappingPartition{{Topic: s, Partition: 1, Changes: 4, Since: zone}}, Truncated: i%2 == 1, Next: s})
	}
	for _, f := range secs {
		tls = append(tls, Timeline{Events: []AvailabilityEvent{{Seconds: f, Brokers: []int32{}}, {Seconds: -f}}})
	}
	tls = append(tls, Timeline{}, Timeline{Events: []AvailabilityEvent{}, Flapping: []FlappingPartition{}})
	for i, tl := range tls {
		want, err := json.Marshal(tl)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendTimelineJSON(nil, &tl); string(got) != string(want) {
			t.Fatalf("timeline %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
