-- A topic's intervals still open at a time: the topic timeline reads those that started before its
-- window and had not ended by its start (open, or ended inside it) by this index rather than by
-- walking the topic's whole history before the window.

-- +goose Up
CREATE INDEX ix_partition_events_topic_open ON partition_events (cluster, topic, ended_at);

-- +goose Down
DROP INDEX ix_partition_events_topic_open;
