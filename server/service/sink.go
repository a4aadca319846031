package service

import (
	"context"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/store"
)

// storeSink writes a collector's samples as raw points (step 0) in one batched transaction.
type storeSink struct {
	st *store.Store
}

func (k *storeSink) WriteSamples(ctx context.Context, s *collector.Samples) error {
	if k.st == nil {
		return nil
	}
	if err := k.st.WriteBatch(ctx, samplesToBatch(s)); err != nil {
		return err
	}
	if len(s.LogDirs) > 0 {
		pts := make([]store.LogDirPoint, 0, len(s.LogDirs))
		for _, d := range s.LogDirs {
			pts = append(pts, store.LogDirPoint{Cluster: s.Cluster, BrokerID: d.Broker, Dir: d.Path, Ts: s.Time.UnixMilli(),
				UsedBytes: d.UsedBytes, TotalBytes: d.TotalBytes, UsableBytes: d.UsableBytes})
		}
		if err := k.st.WriteLogDirs(ctx, pts); err != nil {
			return err
		}
	}
	if q := s.Quorum; q != nil {
		p, reps := quorumPoint(s.Cluster, s.Time, q)
		return k.st.WriteQuorum(ctx, p, reps)
	}
	return nil
}

func samplesToBatch(s *collector.Samples) *store.Batch {
	ts := s.Time.Unix()
	b := &store.Batch{
		Topics:  make([]store.TopicPoint, 0, len(s.Topics)),
		Groups:  make([]store.GroupPoint, 0, len(s.Groups)),
		Brokers: make([]store.BrokerPoint, 0, len(s.Brokers)),
	}
	for _, t := range s.Topics {
		b.Topics = append(b.Topics, store.TopicPoint{Cluster: s.Cluster, Topic: t.Topic, Ts: ts,
			StartOffset: t.StartOffsetSum, EndOffset: t.EndOffsetSum, SizeBytes: t.SizeBytes,
			MsgsPerSec: t.MsgsPerSec, BytesPerSec: t.BytesPerSec})
	}
	for _, g := range s.Groups {
		b.Groups = append(b.Groups, store.GroupPoint{Cluster: s.Cluster, GroupName: g.Group, Topic: g.Topic, Ts: ts,
			Committed: g.CommittedSum, Lag: g.Lag, LagMax: g.Lag, LagSeconds: g.LagSeconds})
	}
	for _, br := range s.Brokers {
		up := 0.0
		if br.Up {
			up = 1
		}
		b.Brokers = append(b.Brokers, store.BrokerPoint{Cluster: s.Cluster, BrokerID: br.Broker, Ts: ts, Up: up,
			Leaders: br.Leaders, Replicas: br.Replicas, LogDirBytes: br.LogDirBytes,
			MsgsInPerSec: br.MsgsPerSec, BytesInPerSec: br.BytesInPerSec})
	}
	t := s.Totals
	b.Clusters = []store.ClusterPoint{{Cluster: s.Cluster, Ts: ts, Brokers: t.Brokers, BrokersUp: t.BrokersUp,
		Topics: t.Topics, Partitions: t.Partitions, UnderReplicated: t.UnderReplicated, Offline: t.Offline,
		UnderMinISR: t.UnderMinISR, TotalLag: t.Lag, MsgsPerSec: t.MsgsPerSec, BytesPerSec: t.BytesPerSec}}
	return b
}
