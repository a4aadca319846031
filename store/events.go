package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
			e.StartedAt = EventTime(e.StartedAt)
			if e.EndedAt != nil {
				end := EventTime(*e.EndedAt)
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

// EventTime is t as partition_events keeps it: UTC, to the millisecond (MariaDB's DATETIME(3); SQLite
// is cut to the same), so an event held in memory after it is written equals the row read back.
func EventTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

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
		k := key{EventTime(c.EndedAt), JoinBrokers(c.Brokers)}
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
// (newest first); Before continues an answer that Limit cut: only events older than it.
type EventFilter struct {
	Cluster  string
	Topic    string
	Broker   *int32
	Kinds    []string
	From, To time.Time
	Limit    int
	Before   *EventCursor
}

// EventCursor is a position in the newest-first order of events: (start, id), the order the
// timeline reads in. The events before it are those that started earlier, or at the same time with
// a smaller id.
type EventCursor struct {
	StartedAt time.Time
	ID        int64
}

// CursorOf is the position of e, to continue after it.
func CursorOf(e PartitionEvent) EventCursor { return EventCursor{StartedAt: e.StartedAt, ID: e.ID} }

// PartitionEvents lists the events the filter selects, newest first. It reads in two bounded
// parts rather than one scan of everything that started before To: the events that started inside
// the window (an index range, newest first, up to Limit), then, if room is left, the intervals that
// started before the window and were still open at From (few: instants end where they start).
// Every event of the second part started before every event of the first, so the order holds.
func (s *Store) PartitionEvents(ctx context.Context, f EventFilter) ([]PartitionEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	from, to := f.From.UTC(), f.To.UTC()
	var out []PartitionEvent
	q := s.db.WithContext(ctx).Model(&PartitionEvent{})
	if f.Broker != nil {
		// Walk the broker's links by start time; the join fetches each event by its key.
		q = q.Select("partition_events.*").
			Joins("JOIN partition_event_brokers b ON b.event_id = partition_events.id").
			Where("b.cluster = ? AND b.broker_id = ? AND b.started_at >= ? AND b.started_at <= ?", f.Cluster, *f.Broker, from, to).
			Order("b.started_at DESC, b.event_id DESC")
	} else {
		q = q.Where("partition_events.cluster = ? AND partition_events.started_at >= ? AND partition_events.started_at <= ?", f.Cluster, from, to).
			Order("partition_events.started_at DESC, partition_events.id DESC")
	}
	if c := f.Before; c != nil {
		if f.Broker != nil {
			q = q.Where("(b.started_at < ? OR (b.started_at = ? AND b.event_id < ?))", c.StartedAt.UTC(), c.StartedAt.UTC(), c.ID)
		} else {
			q = q.Where("(partition_events.started_at < ? OR (partition_events.started_at = ? AND partition_events.id < ?))", c.StartedAt.UTC(), c.StartedAt.UTC(), c.ID)
		}
	}
	if f.Before == nil || !f.Before.StartedAt.Before(from) {
		if err := s.eventScope(q, f).Limit(limit).Find(&out).Error; err != nil {
			return nil, fmt.Errorf("reading availability events: %w", err)
		}
		if len(out) >= limit {
			return out, nil
		}
	}
	older, err := s.eventsOpenAt(ctx, f, from, limit-len(out))
	if err != nil {
		return nil, err
	}
	return append(out, older...), nil
}

// eventsOpenAt reads the events that started before from and had not ended by then: the open
// ones, then those that ended at or after from. It names the (cluster, ended_at) index, or for a
// topic (cluster, topic, ended_at), since both SQLite and MariaDB otherwise walk (cluster,
// started_at) or (cluster, topic, started_at) back through the whole history before from (for most
// topics, whose window holds nothing, that walk was the whole cost); sorting the few rows here is
// cheaper.
func (s *Store) eventsOpenAt(ctx context.Context, f EventFilter, from time.Time, limit int) ([]PartitionEvent, error) {
	index := "ix_partition_events_open"
	if f.Topic != "" {
		index = "ix_partition_events_topic_open"
	}
	table := "partition_events INDEXED BY " + index
	if s.dialect == "mysql" {
		table = "partition_events FORCE INDEX (" + index + ")"
	}
	var out []PartitionEvent
	for _, ended := range []string{"partition_events.ended_at IS NULL", "partition_events.ended_at >= ?"} {
		q := s.db.WithContext(ctx).Table(table).Where("partition_events.cluster = ?", f.Cluster)
		if strings.Contains(ended, "?") {
			q = q.Where(ended, from)
		} else {
			q = q.Where(ended)
		}
		q = q.Where("partition_events.started_at < ?", from)
		if c := f.Before; c != nil {
			q = q.Where("(partition_events.started_at < ? OR (partition_events.started_at = ? AND partition_events.id < ?))", c.StartedAt.UTC(), c.StartedAt.UTC(), c.ID)
		}
		if f.Broker != nil {
			q = q.Where("EXISTS (SELECT 1 FROM partition_event_brokers b WHERE b.event_id = partition_events.id AND b.broker_id = ?)", *f.Broker)
		}
		var part []PartitionEvent
		if err := s.eventScope(q, f).Find(&part).Error; err != nil {
			return nil, fmt.Errorf("reading availability events open at %s: %w", from.Format(time.RFC3339), err)
		}
		out = append(out, part...)
	}
	slices.SortFunc(out, func(a, b PartitionEvent) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// eventScope adds the topic and kind filters of f.
func (s *Store) eventScope(q *gorm.DB, f EventFilter) *gorm.DB {
	if f.Topic != "" {
		q = q.Where("partition_events.topic = ?", f.Topic)
	}
	if len(f.Kinds) > 0 {
		q = q.Where("partition_events.kind IN ?", f.Kinds)
	}
	return q
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

// PartitionEventsAfter lists up to limit of a cluster's events with an id above afterID, in id order:
// loading the history in id-ordered batches, and picking up the rows another console wrote.
func (s *Store) PartitionEventsAfter(ctx context.Context, cluster string, afterID int64, limit int) ([]PartitionEvent, error) {
	var out []PartitionEvent
	if err := s.db.WithContext(ctx).Where("cluster = ? AND id > ?", cluster, afterID).Order("id").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("reading availability events after id %d: %w", afterID, err)
	}
	return out, nil
}

// EventLink is a row of partition_event_brokers: a broker involved in an event, the link the
// per-broker timeline follows.
type EventLink struct {
	EventID  int64
	BrokerID int32
}

// PartitionEventLinks lists a cluster's event-broker links of the events with ids in (afterID, toID].
func (s *Store) PartitionEventLinks(ctx context.Context, cluster string, afterID, toID int64) ([]EventLink, error) {
	var out []EventLink
	err := s.db.WithContext(ctx).Table("partition_event_brokers").Select("event_id, broker_id").
		Where("event_id > ? AND event_id <= ? AND cluster = ?", afterID, toID, cluster).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("reading availability event brokers: %w", err)
	}
	return out, nil
}

// EndedPartitionEvents returns those of the events ids (open when last seen) that have ended since:
// their id, end and brokers, the columns closing an event sets.
func (s *Store) EndedPartitionEvents(ctx context.Context, ids []int64) ([]PartitionEvent, error) {
	var out []PartitionEvent
	for off := 0; off < len(ids); off += eventBatch {
		var part []PartitionEvent
		err := s.db.WithContext(ctx).Select("id, ended_at, brokers").
			Where("id IN ? AND ended_at IS NOT NULL", ids[off:min(off+eventBatch, len(ids))]).Find(&part).Error
		if err != nil {
			return nil, fmt.Errorf("reading ended availability events: %w", err)
		}
		out = append(out, part...)
	}
	return out, nil
}
