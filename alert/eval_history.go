package alert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/osprey-kafka/osprey/collector"
)

// catchUpSamples is what a catch-up or lag-growth alert carries: the estimate it fired on.
type catchUpSamples struct {
	Lag     int64             `json:"lag"`
	CatchUp collector.CatchUp `json:"catchUp"`
}

// evalCatchUp fires catchup_time and lag_growing rules from each group×topic's catch-up estimate
// (computed by the collector over its catch-up window). An estimate still unknown (too few polls
// since a restart) neither fires nor resolves.
func evalCatchUp(r Rule, c evalContext) []finding {
	var out []finding
	for _, g := range c.snap.Groups {
		if !match(r.Group, g.Name) {
			continue
		}
		for _, gt := range g.Topics {
			if !match(r.Topic, gt.Topic) {
				continue
			}
			cu := gt.CatchUp
			f := finding{labels: groupTopicLabels(g.Name, gt.Topic), subject: "group " + g.Name + " / topic " + gt.Topic,
				samples: catchUpSamples{Lag: gt.Lag, CatchUp: cu}}
			if r.Kind == KindLagGrowing {
				f.value = cu.LagGrowingSeconds
				if cu.LagGrowingSeconds >= r.Threshold {
					f.summary = fmt.Sprintf("Consumer group %s on topic %s: lag growing for %s (threshold %s), now %d messages",
						g.Name, gt.Topic, fmtSeconds(cu.LagGrowingSeconds), fmtSeconds(r.Threshold), gt.Lag)
					out = append(out, f)
				}
				continue
			}
			switch cu.State {
			case collector.CatchUpUnknown:
				if gt.Lag != 0 {
					f.unknown = true
					out = append(out, f)
				}
			case collector.CatchUpNotCatchingUp:
				f.value = -1
				f.summary = fmt.Sprintf("Consumer group %s on topic %s will not catch up: consuming %.1f/s, producing %.1f/s, lag %d messages",
					g.Name, gt.Topic, cu.ConsumeRate, cu.ProduceRate, gt.Lag)
				out = append(out, f)
			case collector.CatchUpCatchingUp:
				f.value = cu.Seconds
				if cu.Seconds > r.Threshold {
					f.summary = fmt.Sprintf("Consumer group %s on topic %s will not catch up within %s: estimated %s (lag %d messages)",
						g.Name, gt.Topic, fmtSeconds(r.Threshold), fmtSeconds(cu.Seconds), gt.Lag)
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// flapSample is one flapping partition as an alert carries it.
type flapSample struct {
	Partition int32   `json:"partition"`
	Changes   int     `json:"isrChanges"`
	ISR       []int32 `json:"isr"`
	Replicas  []int32 `json:"replicas"`
}

// evalFlapping fires per partition whose ISR changed at least Threshold times within the
// collector's flap window.
func evalFlapping(r Rule, c evalContext) []finding {
	var out []finding
	for _, t := range c.snap.Topics {
		if !match(r.Topic, t.Name) {
			continue
		}
		for _, p := range t.Partitions {
			if float64(p.ISRChanges) < r.Threshold {
				continue
			}
			id := strconv.Itoa(int(p.Partition))
			out = append(out, finding{
				labels:  map[string]string{"topic": t.Name, "partition": id},
				subject: "topic " + t.Name + " / partition " + id,
				value:   float64(p.ISRChanges),
				summary: fmt.Sprintf("Partition %d of topic %s is flapping: its ISR changed %d times recently (threshold %s); ISR now %s of replicas %s",
					p.Partition, t.Name, p.ISRChanges, fmtNum(r.Threshold), ids(p.ISR), ids(p.Replicas)),
				samples: flapSample{Partition: p.Partition, Changes: p.ISRChanges, ISR: p.ISR, Replicas: p.Replicas},
			})
		}
	}
	return out
}

func ids(v []int32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(int(x))
	}
	return "[" + strings.Join(s, ",") + "]"
}
