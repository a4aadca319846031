-- Availability history, as in the MySQL migration of the same version.

-- +goose Up
CREATE TABLE partition_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cluster VARCHAR(249) NOT NULL,
  kind VARCHAR(24) NOT NULL,
  topic VARCHAR(249) NOT NULL,
  partition_id INT NOT NULL,
  started_at DATETIME NOT NULL,
  ended_at DATETIME NULL,
  brokers VARCHAR(1024) NOT NULL,
  cause VARCHAR(32) NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX ix_partition_events_topic ON partition_events (cluster, topic, started_at);
CREATE INDEX ix_partition_events_open ON partition_events (cluster, ended_at);
CREATE INDEX ix_partition_events_at ON partition_events (cluster, started_at);

CREATE TABLE partition_event_brokers (
  event_id BIGINT NOT NULL,
  cluster VARCHAR(249) NOT NULL,
  broker_id INT NOT NULL,
  started_at DATETIME NOT NULL,
  PRIMARY KEY (event_id, broker_id)
) WITHOUT ROWID;
CREATE INDEX ix_partition_event_brokers ON partition_event_brokers (cluster, broker_id, started_at);

-- +goose Down
DROP TABLE partition_event_brokers;
DROP TABLE partition_events;
