package service

import (
	"context"
	"errors"
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

// readSeries checks the cluster, resolves the range and reads one series.
func readSeries[P any](s *Service, cluster string, q SeriesQuery, read func(store.SeriesRange) ([]P, error)) ([]P, int, error) {
	if _, err := s.get(cluster); err != nil {
		return nil, 0, err
	}
	r, err := s.seriesRange(q)
	if err != nil {
		return nil, 0, err
	}
	pts, err := read(r)
	return pts, r.Step, err
}

// TopicSeries reads a topic's history.
func (s *Service) TopicSeries(ctx context.Context, cluster, topic string, q SeriesQuery) ([]store.TopicPoint, int, error) {
	return readSeries(s, cluster, q, func(r store.SeriesRange) ([]store.TopicPoint, error) {
		return s.opts.Store.TopicSeries(ctx, cluster, topic, r)
	})
}

// GroupSeries reads a group's lag history, per topic.
func (s *Service) GroupSeries(ctx context.Context, cluster, group, topic string, q SeriesQuery) ([]store.GroupPoint, int, error) {
	return readSeries(s, cluster, q, func(r store.SeriesRange) ([]store.GroupPoint, error) {
		return s.opts.Store.GroupSeries(ctx, cluster, group, topic, r)
	})
}

// BrokerSeries reads a broker's history.
func (s *Service) BrokerSeries(ctx context.Context, cluster string, broker int32, q SeriesQuery) ([]store.BrokerPoint, int, error) {
	return readSeries(s, cluster, q, func(r store.SeriesRange) ([]store.BrokerPoint, error) {
		return s.opts.Store.BrokerSeries(ctx, cluster, broker, r)
	})
}

// ClusterSeries reads a cluster's totals history.
func (s *Service) ClusterSeries(ctx context.Context, cluster string, q SeriesQuery) ([]store.ClusterPoint, int, error) {
	return readSeries(s, cluster, q, func(r store.SeriesRange) ([]store.ClusterPoint, error) {
		return s.opts.Store.ClusterSeries(ctx, cluster, r)
	})
}
