package service

import (
	"context"

	"github.com/osprey-kafka/osprey/broker/supervisor"
	"github.com/osprey-kafka/osprey/collector"
)

// runtimeCleaner reads the log cleaners of a runtime cluster's brokers that run in this process.
// Brokers run as child processes (ZooKeeper-mode runtime clusters on a real ensemble) are left
// out: their cleaner state is only on their own metrics endpoint, which the console does not
// scrape, so their compacted topics say the state is not reported.
type runtimeCleaner struct{ sup *supervisor.Cluster }

func (r runtimeCleaner) CleanerStates(context.Context) (map[int32][]collector.CleanerState, error) {
	out := map[int32][]collector.CleanerState{}
	for _, st := range r.sup.Status() {
		b := r.sup.Broker(st.ID)
		if b == nil {
			continue
		}
		states := b.LogCleanerStates()
		if states == nil { // the cleaner does not run (log.cleaner.enable=false)
			continue
		}
		cs := make([]collector.CleanerState, 0, len(states))
		for _, s := range states {
			cs = append(cs, collector.CleanerState{Topic: s.Topic, Partition: s.Partition,
				FirstDirtyOffset: s.FirstDirtyOffset, CleanBytes: s.CleanBytes, DirtyBytes: s.DirtyBytes,
				DirtyRatio: s.DirtyRatio, LastCleanedMs: s.LastCleanedMs, BytesCleaned: s.BytesCleaned,
				BytesFreed: s.BytesFreed, FreeableBytes: s.FreeableBytes, Uncleanable: s.Uncleanable})
		}
		out[st.ID] = cs
	}
	return out, nil
}
