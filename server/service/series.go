package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/store"
)

// SeriesQuery is a time range and an optional resolution (0 raw, 60, 300, 3600; -1 picks one).
type SeriesQuery struct {
	From, To time.Time
	Step     int
}

// maxPoints keeps charts readable and responses small.
const maxPoints = 1500

func (s *Service) seriesRange(q SeriesQuery) (store.SeriesRange, error) {
	if s.opts.Store == nil {
		return store.SeriesRange{}, errors.New("no database")
	}
	if !q.To.After(q.From) {
		return store.SeriesRange{}, badRequest("bad_range", "\"to\" must be after \"from\"")
	}
	step := q.Step
	if step < 0 {
		poll := s.opts.Collector.OffsetsInterval
		if poll <= 0 {
			poll = 15 * time.Second
		}
		step = store.StepFor(s.opts.Now(), q.From, q.To, s.opts.Retention, poll, maxPoints)
	}
	return store.SeriesRange{From: q.From, To: q.To, Step: step}, nil
}

// readSeries checks the cluster, resolves the range and reads one series, filled to the newest point.
func readSeries[P any](s *Service, cluster string, q SeriesQuery, ts func(P) int64, read func(store.SeriesRange) ([]P, error)) ([]P, int, error) {
	if _, err := s.get(cluster); err != nil {
		return nil, 0, err
	}
	r, err := s.seriesRange(q)
	if err != nil {
		return nil, 0, err
	}
	pts, err := readFilled(r, ts, read)
	return pts, r.Step, err
}

// readFilled reads r at its step and, when that is a rollup step, appends the finer steps' points that
// come after the last rollup bucket: a bucket is written only after it has ended and a grace has
// passed (and each coarser step only after the finer one), so a long range read from rollups alone
// ends minutes to an hour before its newest raw point. Each finer step continues where the coarser
// ones stop (5-minute after hourly, 1-minute after 5-minute, raw last), so no time is counted twice
// and the newest point is the newest raw one. The cursor is one for all series of the read (a group's
// topics): their rollups advance together, and one cursor keeps points of one time at one step.
// Points come as read: the requested step's, then each finer step's (a group's topics in topic order,
// each topic in time order, within each step).
func readFilled[P any](r store.SeriesRange, ts func(P) int64, read func(store.SeriesRange) ([]P, error)) ([]P, error) {
	pts, err := read(r)
	if err != nil || r.Step == 0 {
		return pts, err
	}
	cursor := r.From.Unix()
	advance := func(got []P, step int) {
		for _, p := range got {
			cursor = max(cursor, ts(p)+int64(max(step, 1)))
		}
	}
	advance(pts, r.Step)
	for i := len(store.Steps) - 1; i >= 0; i-- {
		step := store.Steps[i]
		if step >= r.Step || cursor > r.To.Unix() {
			continue
		}
		finer, err := read(store.SeriesRange{From: time.Unix(cursor, 0), To: r.To, Step: step})
		if err != nil {
			return nil, fmt.Errorf("filling the newest part at step %ds: %w", step, err)
		}
		pts = append(pts, finer...)
		advance(finer, step)
	}
	return pts, nil
}

// Series is a time series as the API answers it. From and To (Unix seconds) are the window asked
// for, which a chart's axis spans whatever part of it has points; Step is the resolution chosen for
// it (the newest part may come at finer steps, see readFilled). V is the figures of one point.
type Series[V any] struct {
	Step  int        `json:"step" description:"Seconds between points (0: raw polls); the newest part may come at finer steps"`
	From  int64      `json:"from" description:"Start of the window asked for, Unix seconds"`
	To    int64      `json:"to" description:"End of the window asked for, Unix seconds"`
	Items []Point[V] `json:"items"`
	Total int        `json:"total"`
}

// Point is one time of a series: Ts in Unix seconds, the figures in Values.
type Point[V any] struct {
	Ts     int64 `json:"ts"`
	Values V     `json:"values"`
}

// TopicMetrics are a topic's figures at one time.
type TopicMetrics struct {
	EndOffset   int64   `json:"endOffset"`
	StartOffset int64   `json:"startOffset"`
	MsgsPerSec  float64 `json:"msgsPerSec"`
	BytesPerSec float64 `json:"bytesPerSec"`
	// SizeBytes is left out when unknown, so a chart shows a gap rather than -1 B.
	SizeBytes *int64 `json:"sizeBytes,omitempty"`
}

// GroupLag is a group's lag at one time, summed over its topics (or on the one topic asked for).
type GroupLag struct {
	Lag    int64 `json:"lag"`
	LagMax int64 `json:"lagMax"`
	// LagSeconds is the largest over the topics, not a sum.
	LagSeconds float64 `json:"lagSeconds"`
	Committed  int64   `json:"committed"`
}

// BrokerMetrics are a broker's figures at one time.
type BrokerMetrics struct {
	// Up is 1 or 0 for raw points, the fraction of polls it was up in rollups.
	Up            float64 `json:"up"`
	Leaders       int     `json:"leaders"`
	Replicas      int     `json:"replicas"`
	MsgsInPerSec  float64 `json:"msgsInPerSec"`
	BytesInPerSec float64 `json:"bytesInPerSec"`
	// LogDirBytes is left out when unknown (the broker was down): a gap, not -1 B.
	LogDirBytes *int64 `json:"logDirBytes,omitempty"`
}

// ClusterMetrics are a cluster's totals at one time.
type ClusterMetrics struct {
	Brokers         int     `json:"brokers"`
	BrokersUp       int     `json:"brokersUp"`
	Topics          int     `json:"topics"`
	Partitions      int     `json:"partitions"`
	UnderReplicated int     `json:"underReplicated"`
	Offline         int     `json:"offline"`
	UnderMinISR     int     `json:"underMinIsr"`
	Lag             int64   `json:"lag"`
	MsgsPerSec      float64 `json:"msgsPerSec"`
	BytesPerSec     float64 `json:"bytesPerSec"`
}

// seriesOf puts points of one step's read into the answer's shape.
func seriesOf[P, V any](q SeriesQuery, step int, pts []P, point func(P) Point[V]) Series[V] {
	out := make([]Point[V], 0, len(pts))
	for _, p := range pts {
		out = append(out, point(p))
	}
	return Series[V]{Step: step, From: q.From.Unix(), To: q.To.Unix(), Items: out, Total: len(out)}
}

// TopicSeries reads a topic's history; the topic must be in the latest snapshot.
func (s *Service) TopicSeries(ctx context.Context, cluster, topic string, q SeriesQuery) (Series[TopicMetrics], error) {
	if _, err := s.Topic(cluster, topic); err != nil {
		return Series[TopicMetrics]{}, err
	}
	pts, step, err := readSeries(s, cluster, q, func(p store.TopicPoint) int64 { return p.Ts }, func(r store.SeriesRange) ([]store.TopicPoint, error) {
		return s.opts.Store.TopicSeries(ctx, cluster, topic, r)
	})
	if err != nil {
		return Series[TopicMetrics]{}, err
	}
	return seriesOf(q, step, pts, func(p store.TopicPoint) Point[TopicMetrics] {
		return Point[TopicMetrics]{Ts: p.Ts, Values: TopicMetrics{EndOffset: p.EndOffset, StartOffset: p.StartOffset,
			MsgsPerSec: p.MsgsPerSec, BytesPerSec: p.BytesPerSec, SizeBytes: known(p.SizeBytes)}}
	}), nil
}

// GroupSeries reads a group's lag history, one point per time summed over its topics (or on one
// topic when topic != ""); the group must be in the latest snapshot.
func (s *Service) GroupSeries(ctx context.Context, cluster, group, topic string, q SeriesQuery) (Series[GroupLag], error) {
	if _, err := s.Group(cluster, group); err != nil {
		return Series[GroupLag]{}, err
	}
	pts, step, err := readSeries(s, cluster, q, func(p store.GroupPoint) int64 { return p.Ts }, func(r store.SeriesRange) ([]store.GroupPoint, error) {
		return s.opts.Store.GroupSeries(ctx, cluster, group, topic, r)
	})
	if err != nil {
		return Series[GroupLag]{}, err
	}
	byTs := map[int64]*GroupLag{}
	var order []int64
	for _, p := range pts {
		v, ok := byTs[p.Ts]
		if !ok {
			v = &GroupLag{}
			byTs[p.Ts] = v
			order = append(order, p.Ts)
		}
		v.Lag += p.Lag
		v.LagMax += p.LagMax
		v.LagSeconds = max(v.LagSeconds, p.LagSeconds)
		v.Committed += p.Committed
	}
	slices.Sort(order)
	return seriesOf(q, step, order, func(ts int64) Point[GroupLag] { return Point[GroupLag]{Ts: ts, Values: *byTs[ts]} }), nil
}

// BrokerSeries reads a broker's history.
func (s *Service) BrokerSeries(ctx context.Context, cluster string, broker int32, q SeriesQuery) (Series[BrokerMetrics], error) {
	pts, step, err := readSeries(s, cluster, q, func(p store.BrokerPoint) int64 { return p.Ts }, func(r store.SeriesRange) ([]store.BrokerPoint, error) {
		return s.opts.Store.BrokerSeries(ctx, cluster, broker, r)
	})
	if err != nil {
		return Series[BrokerMetrics]{}, err
	}
	return seriesOf(q, step, pts, func(p store.BrokerPoint) Point[BrokerMetrics] {
		return Point[BrokerMetrics]{Ts: p.Ts, Values: BrokerMetrics{Up: p.Up, Leaders: p.Leaders, Replicas: p.Replicas,
			MsgsInPerSec: p.MsgsInPerSec, BytesInPerSec: p.BytesInPerSec, LogDirBytes: known(p.LogDirBytes)}}
	}), nil
}

// ClusterSeries reads a cluster's totals history.
func (s *Service) ClusterSeries(ctx context.Context, cluster string, q SeriesQuery) (Series[ClusterMetrics], error) {
	pts, step, err := readSeries(s, cluster, q, func(p store.ClusterPoint) int64 { return p.Ts }, func(r store.SeriesRange) ([]store.ClusterPoint, error) {
		return s.opts.Store.ClusterSeries(ctx, cluster, r)
	})
	if err != nil {
		return Series[ClusterMetrics]{}, err
	}
	return seriesOf(q, step, pts, func(p store.ClusterPoint) Point[ClusterMetrics] {
		return Point[ClusterMetrics]{Ts: p.Ts, Values: ClusterMetrics{Brokers: p.Brokers, BrokersUp: p.BrokersUp, Topics: p.Topics,
			Partitions: p.Partitions, UnderReplicated: p.UnderReplicated, Offline: p.Offline, UnderMinISR: p.UnderMinISR,
			Lag: p.TotalLag, MsgsPerSec: p.MsgsPerSec, BytesPerSec: p.BytesPerSec}}
	}), nil
}
