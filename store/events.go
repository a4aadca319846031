package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// PartitionEvent is one availability event (see collector.AvailEvent): an instant (EndedAt =
// StartedAt) or an interval, open while EndedAt is nil. Partition is the broker id for a
// broker_down interval (Topic ""). Brokers is a comma-separated list of the brokers involved.
type PartitionEvent struct {
	ID        int64 `gorm:"primaryKey"`
	Cluster   string
	Kind      string
	Topic     string
	Partition int32 `gorm:"column:partition_id"`
	StartedAt time.Time
	EndedAt   *time.Time
	Brokers   string
	Cause     string
	Detail    string
}

// BrokerIDs parses Brokers.
func (e PartitionEvent) BrokerIDs() []int32 {
	var out []int32
	for _, f := range strings.Split(e.Brokers, ",") {
		if n, err := strconv.ParseInt(f, 10, 32); err == nil {
			out = append(out, int32(n))
		}
	}
	return out
}

// JoinBrokers formats broker ids for PartitionEvent.Brokers.
func JoinBrokers(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// EventClose ends an open event: its end and the brokers involved while it was open.
type EventClose struct {
	ID      int64
	EndedAt time.Time
	Brokers []int32
}

// RecordPartitionEvents inserts new events (setting their IDs) and closes ended ones, in one
// transaction, with the brokers of each in partition_event_brokers. A broker going down at scale
// opens or closes an interval on each of its partitions in one cycle, so rows go in batches and the
// closes are grouped into one UPDATE per distinct broker list.
func (s *Store) RecordPartitionEvents(ctx context.Context, add []*PartitionEvent, closes []EventClose) error {
	if len(add) == 0 && len(closes) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, e := range add {
			e.StartedAt = e.StartedAt.UTC()
			if e.EndedAt != nil {
				end := e.EndedAt.UTC()
				e.EndedAt = &end
			}
		}
		if len(add) > 0 {
			if err := tx.CreateInBatches(add, eventBatch).Error; err != nil {
				return err
			}
		}
		var rows []eventBroker
		for _, e := range add {
			for _, b := range e.BrokerIDs() {
				rows = append(rows, eventBroker{EventID: e.ID, Cluster: e.Cluster, BrokerID: b, StartedAt: e.StartedAt})
			}
		}
		if len(rows) > 0 {
			if err := tx.CreateInBatches(rows, eventBatch).Error; err != nil {
				return err
			}
		}
		return s.closeEvents(tx, closes)
	})
	if err != nil {
		return fmt.Errorf("recording availability events: %w", err)
	}
	return nil
}

// eventBatch is how many rows one INSERT or UPDATE names.
const eventBatch = 500

// eventBroker is a row of partition_event_brokers.
type eventBroker struct {
	EventID   int64
	Cluster   string
	BrokerID  int32
	StartedAt time.Time
}

func (eventBroker) TableName() string { return "partition_event_brokers" }

// closeEvents ends events, one UPDATE per end time and broker list (a cycle's closes share the
// time and mostly the brokers), and adds the brokers that joined an interval while it was open.
func (s *Store) closeEvents(tx *gorm.DB, closes []EventClose) error {
	type key struct {
		end     time.Time
		brokers string
	}
	ids := map[key][]int64{}
	var order []key
	for _, c := range closes {
		k := key{c.EndedAt.UTC(), JoinBrokers(c.Brokers)}
		if ids[k] == nil {
			order = append(order, k)
		}
		ids[k] = append(ids[k], c.ID)
	}
	for _, k := range order {
		all := ids[k]
		for off := 0; off < len(all); off += eventBatch {
			chunk := all[off:min(off+eventBatch, len(all))]
			if err := tx.Model(&PartitionEvent{}).Where("id IN ?", chunk).Updates(map[string]any{"ended_at": k.end, "brokers": k.brokers}).Error; err != nil {
				return err
			}
			// The brokers involved, for the per-broker timeline: those already recorded are kept.
			for _, b := range (PartitionEvent{Brokers: k.brokers}).BrokerIDs() {
				q := fmt.Sprintf(`INSERT %s INTO partition_event_brokers (event_id, cluster, broker_id, started_at)
					SELECT id, cluster, %d, started_at FROM partition_events WHERE id IN ?`, s.ignoreModifier(), b)
				if err := tx.Exec(q, chunk).Error; err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// OpenPartitionEvents lists a cluster's intervals that have not ended.
func (s *Store) OpenPartitionEvents(ctx context.Context, cluster string) ([]PartitionEvent, error) {
	var out []PartitionEvent
	if err := s.db.WithContext(ctx).Where("cluster = ? AND ended_at IS NULL", cluster).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("reading open availability events: %w", err)
	}
	return out, nil
}

// EventFilter selects events that overlap [From, To]: of one topic (Topic != ""), or involving one
// broker (Broker != nil), or of the whole cluster; Kinds narrows them. Limit caps the answer
// (newest first).
type EventFilter struct {
	Cluster  string
	Topic    string
	Broker   *int32
	Kinds    []string
	From, To time.Time
	Limit    int
}

// PartitionEvents lists the events the filter selects, newest first.
func (s *Store) PartitionEvents(ctx context.Context, f EventFilter) ([]PartitionEvent, error) {
	q := s.db.WithContext(ctx).Model(&PartitionEvent{}).Where("partition_events.cluster = ?", f.Cluster)
	if f.Topic != "" {
		q = q.Where("partition_events.topic = ?", f.Topic)
	}
	if f.Broker != nil {
		q = q.Where("partition_events.id IN (SELECT event_id FROM partition_event_brokers WHERE cluster = ? AND broker_id = ? AND started_at <= ?)",
			f.Cluster, *f.Broker, f.To.UTC())
	}
	if len(f.Kinds) > 0 {
		q = q.Where("partition_events.kind IN ?", f.Kinds)
	}
	q = q.Where("partition_events.started_at <= ? AND (partition_events.ended_at IS NULL OR partition_events.ended_at >= ?)", f.To.UTC(), f.From.UTC())
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	var out []PartitionEvent
	if err := q.Order("partition_events.started_at DESC, partition_events.id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("reading availability events: %w", err)
	}
	return out, nil
}

// ExpirePartitionEvents deletes events that ended before cutoff (open ones are kept).
func (s *Store) ExpirePartitionEvents(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := s.deleteRange(ctx, "DELETE FROM partition_event_brokers WHERE event_id IN (SELECT id FROM partition_events WHERE ended_at < ?)", cutoff.UTC())
	if err != nil {
		return n, fmt.Errorf("expiring availability events: %w", err)
	}
	m, err := s.deleteRange(ctx, "DELETE FROM partition_events WHERE ended_at < ?", cutoff.UTC())
	if err != nil {
		return n + m, fmt.Errorf("expiring availability events: %w", err)
	}
	return n + m, nil
}
