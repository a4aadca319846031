package alert

import (
	"fmt"
	"strconv"
)

// Transaction kinds read the last stable offset (LSO) the collector lists every cycle (ListOffsets
// at read_committed) and how long it has stayed behind the high watermark (collector.Partition's
// StableStuckSeconds and StableStuckWrites). Both fire per partition and honour the topic scope.
//
//	lso_stuck_seconds    fires per partition whose LSO has stayed at one offset behind the high
//	                     watermark for longer than Threshold seconds: read_committed consumers
//	                     cannot read past an open transaction.
//	transaction_hanging  fires per partition whose LSO has not moved while its high watermark has,
//	                     for longer than Threshold seconds: set it to the brokers'
//	                     transaction.max.timeout.ms in seconds (Kafka's default 900). No transaction
//	                     stays open that long unless its coordinator has lost it (KIP-664's hanging
//	                     transaction); the Transactions page aborts it.
const (
	KindLSOStuck           Kind = "lso_stuck_seconds"
	KindTransactionHanging Kind = "transaction_hanging"
)

type lsoSample struct {
	Partition     int32   `json:"partition"`
	StableOffset  int64   `json:"stableOffset"`
	EndOffset     int64   `json:"endOffset"`
	StuckSeconds  float64 `json:"stuckSeconds"`
	WritesPastLSO int64   `json:"writesPastLso"`
}

func evalStableOffsets(r Rule, c evalContext) []finding {
	var out []finding
	for _, t := range c.snap.Topics {
		if !match(r.Topic, t.Name) {
			continue
		}
		for _, p := range t.Partitions {
			if p.StableStuckSeconds <= r.Threshold || (r.Kind == KindTransactionHanging && p.StableStuckWrites <= 0) {
				continue
			}
			id := strconv.Itoa(int(p.Partition))
			f := finding{
				labels:  map[string]string{"topic": t.Name, "partition": id},
				subject: "topic " + t.Name + " / partition " + id,
				value:   p.StableStuckSeconds,
				samples: lsoSample{Partition: p.Partition, StableOffset: p.StableOffset, EndOffset: p.EndOffset,
					StuckSeconds: p.StableStuckSeconds, WritesPastLSO: p.StableStuckWrites},
			}
			if r.Kind == KindTransactionHanging {
				f.summary = fmt.Sprintf("Partition %d of topic %s has a hanging transaction: its last stable offset has stayed at %d for %.0f s (threshold %s s) while %d records were written past it; read_committed consumers are stuck there",
					p.Partition, t.Name, p.StableOffset, p.StableStuckSeconds, fmtNum(r.Threshold), p.StableStuckWrites)
			} else {
				f.summary = fmt.Sprintf("Partition %d of topic %s: the last stable offset has stayed at %d, behind the high watermark %d, for %.0f s (threshold %s s); an open transaction holds read_committed consumers there",
					p.Partition, t.Name, p.StableOffset, p.EndOffset, p.StableStuckSeconds, fmtNum(r.Threshold))
			}
			out = append(out, f)
		}
	}
	return out
}
