package broker

import (
	"strconv"
	"time"

	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/prometheus/client_golang/prometheus"
)

// Transaction metrics, computed at scrape time from the coordinator's
// loaded ids and the partitions this broker leads: what an operator
// alerts on for hanging transactions (an old open transaction, a last
// stable offset held behind the high watermark).

// registerTxnMetrics adds the transaction gauges and the expiry counter to
// the broker's registry.
func (tc *txnCoordinator) registerTxnMetrics() {
	labels := prometheus.Labels{"broker_id": strconv.Itoa(int(tc.b.cfg.BrokerID))}
	opts := func(name, help string) prometheus.GaugeOpts {
		return prometheus.GaugeOpts{Namespace: "osprey", Subsystem: "broker", Name: name, Help: help, ConstLabels: labels}
	}
	tc.expired = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "osprey", Subsystem: "broker",
		Name: "transactions_expired_total", Help: "Transactions this coordinator aborted after their transaction.timeout.ms.",
		ConstLabels: labels})
	tc.b.metrics.reg.MustRegister(tc.expired,
		prometheus.NewGaugeFunc(opts("transactions_ongoing", "Open transactions coordinated by this broker."),
			func() float64 { n, _ := tc.openStats(); return float64(n) }),
		prometheus.NewGaugeFunc(opts("transaction_oldest_open_seconds", "Age of the oldest open transaction coordinated by this broker (0: none)."),
			func() float64 { _, age := tc.openStats(); return age.Seconds() }),
		prometheus.NewGaugeFunc(opts("partitions_lso_behind_hw", "Partitions led by this broker whose last stable offset is below the high watermark (an open transaction holds read_committed consumers)."),
			func() float64 { return float64(tc.b.partitionsLSOBehind()) }))
}

// openStats counts the open transactions of the partitions this broker
// leads and returns the age of the oldest. It never loads a partition.
func (tc *txnCoordinator) openStats() (int, time.Duration) {
	tc.mu.Lock()
	entries := make([]*txnEntry, 0, len(tc.txns))
	for _, e := range tc.txns {
		entries = append(entries, e)
	}
	tc.mu.Unlock()
	now := time.Now().UnixMilli()
	n, oldest := 0, int64(0)
	led := map[int32]bool{}
	for _, e := range entries {
		l, seen := led[e.partition]
		if !seen {
			l = tc.b.leadsLocally(txnStateTopic, e.partition)
			led[e.partition] = l
		}
		if !l {
			continue
		}
		e.mu.Lock()
		if e.known && e.m.State == txn.Ongoing {
			n++
			if e.m.StartMs > 0 {
				oldest = max(oldest, now-e.m.StartMs)
			}
		}
		e.mu.Unlock()
	}
	return n, time.Duration(oldest) * time.Millisecond
}

// partitionsLSOBehind counts the partitions led here with an open
// transaction below the high watermark.
func (b *Broker) partitionsLSOBehind() int {
	n := 0
	for _, p := range b.data.all() {
		p.mu.Lock()
		if p.rep.isLeader && p.lsoLocked() < p.log.HighWatermark() {
			n++
		}
		p.mu.Unlock()
	}
	return n
}
