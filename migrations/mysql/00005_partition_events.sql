-- Availability history: ISR shrinks and expands, leader changes, and the offline, under-replicated,
-- under-min-ISR and broker-down intervals the console saw between successive snapshots. ended_at is
-- NULL while an interval is ongoing; instant events (a shrink, an expand, a leader change) have
-- ended_at = started_at. partition_event_brokers names the brokers involved, for the per-broker
-- timeline.

-- +goose Up
CREATE TABLE partition_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  cluster VARCHAR(249) NOT NULL,
  kind VARCHAR(24) NOT NULL,
  topic VARCHAR(249) NOT NULL,
  partition_id INT NOT NULL,
  started_at DATETIME(3) NOT NULL,
  ended_at DATETIME(3) NULL,
  brokers VARCHAR(1024) NOT NULL,
  cause VARCHAR(32) NOT NULL,
  detail TEXT NOT NULL,
  KEY ix_partition_events_topic (cluster, topic, started_at),
  KEY ix_partition_events_open (cluster, ended_at),
  KEY ix_partition_events_at (cluster, started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE partition_event_brokers (
  event_id BIGINT NOT NULL,
  cluster VARCHAR(249) NOT NULL,
  broker_id INT NOT NULL,
  started_at DATETIME(3) NOT NULL,
  PRIMARY KEY (event_id, broker_id),
  KEY ix_partition_event_brokers (cluster, broker_id, started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE partition_event_brokers;
DROP TABLE partition_events;
