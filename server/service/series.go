package service

import (
	"context"
	"errors"
	"fmt"
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

// TopicSeries reads a topic's history.
func (s *Service) TopicSeries(ctx context.Context, cluster, topic string, q SeriesQuery) ([]store.TopicPoint, int, error) {
	return readSeries(s, cluster, q, func(p store.TopicPoint) int64 { return p.Ts }, func(r store.SeriesRange) ([]store.TopicPoint, error) {
		return s.opts.Store.TopicSeries(ctx, cluster, topic, r)
	})
}

// GroupSeries reads a group's lag history, per topic.
func (s *Service) GroupSeries(ctx context.Context, cluster, group, topic string, q SeriesQuery) ([]store.GroupPoint, int, error) {
	return readSeries(s, cluster, q, func(p store.GroupPoint) int64 { return p.Ts }, func(r store.SeriesRange) ([]store.GroupPoint, error) {
		return s.opts.Store.GroupSeries(ctx, cluster, group, topic, r)
	})
}

// BrokerSeries reads a broker's history.
func (s *Service) BrokerSeries(ctx context.Context, cluster string, broker int32, q SeriesQuery) ([]store.BrokerPoint, int, error) {
	return readSeries(s, cluster, q, func(p store.BrokerPoint) int64 { return p.Ts }, func(r store.SeriesRange) ([]store.BrokerPoint, error) {
		return s.opts.Store.BrokerSeries(ctx, cluster, broker, r)
	})
}

// ClusterSeries reads a cluster's totals history.
func (s *Service) ClusterSeries(ctx context.Context, cluster string, q SeriesQuery) ([]store.ClusterPoint, int, error) {
	return readSeries(s, cluster, q, func(p store.ClusterPoint) int64 { return p.Ts }, func(r store.SeriesRange) ([]store.ClusterPoint, error) {
		return s.opts.Store.ClusterSeries(ctx, cluster, r)
	})
}
