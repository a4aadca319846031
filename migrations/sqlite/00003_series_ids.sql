-- Time series keyed by a narrow integer, as in the MySQL migration of the same version: metric_series maps
-- each series' names to an id, and the point tables are WITHOUT ROWID tables keyed by (series_id, step, ts),
-- so a point is one B-tree entry instead of a rowid row plus a wide primary-key index entry.

-- +goose Up
CREATE TABLE metric_series (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind VARCHAR(8) NOT NULL,
  cluster VARCHAR(64) NOT NULL,
  group_name VARCHAR(249) NOT NULL DEFAULT '',
  topic VARCHAR(249) NOT NULL DEFAULT '',
  broker_id INT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX uq_metric_series ON metric_series (kind, cluster, group_name, topic, broker_id);

INSERT INTO metric_series (kind, cluster, topic)
  SELECT DISTINCT 'topic', cluster, topic FROM topic_metrics;
INSERT INTO metric_series (kind, cluster, group_name, topic)
  SELECT DISTINCT 'group', cluster, group_name, topic FROM group_metrics;
INSERT INTO metric_series (kind, cluster, broker_id)
  SELECT DISTINCT 'broker', cluster, broker_id FROM broker_metrics;
INSERT INTO metric_series (kind, cluster)
  SELECT DISTINCT 'cluster', cluster FROM cluster_metrics;

CREATE TABLE topic_metrics_v3 (
  series_id INT NOT NULL,
  step INT NOT NULL,
  ts BIGINT NOT NULL,
  start_offset BIGINT NOT NULL,
  end_offset BIGINT NOT NULL,
  size_bytes BIGINT NOT NULL,
  msgs_per_sec DOUBLE NOT NULL,
  bytes_per_sec DOUBLE NOT NULL,
  PRIMARY KEY (series_id, step, ts)
) WITHOUT ROWID;
INSERT INTO topic_metrics_v3 (series_id, step, ts, start_offset, end_offset, size_bytes, msgs_per_sec, bytes_per_sec)
  SELECT s.id, m.step, m.ts, m.start_offset, m.end_offset, m.size_bytes, m.msgs_per_sec, m.bytes_per_sec
  FROM topic_metrics m JOIN metric_series s ON s.kind = 'topic' AND s.cluster = m.cluster AND s.group_name = '' AND s.topic = m.topic AND s.broker_id = 0;
DROP TABLE topic_metrics;
ALTER TABLE topic_metrics_v3 RENAME TO topic_metrics;
CREATE INDEX ix_topic_metrics_step_ts ON topic_metrics (step, ts);

CREATE TABLE group_metrics_v3 (
  series_id INT NOT NULL,
  step INT NOT NULL,
  ts BIGINT NOT NULL,
  committed BIGINT NOT NULL,
  lag BIGINT NOT NULL,
  lag_max BIGINT NOT NULL,
  lag_seconds DOUBLE NOT NULL,
  PRIMARY KEY (series_id, step, ts)
) WITHOUT ROWID;
INSERT INTO group_metrics_v3 (series_id, step, ts, committed, lag, lag_max, lag_seconds)
  SELECT s.id, m.step, m.ts, m.committed, m.lag, m.lag_max, m.lag_seconds
  FROM group_metrics m JOIN metric_series s ON s.kind = 'group' AND s.cluster = m.cluster AND s.group_name = m.group_name AND s.topic = m.topic AND s.broker_id = 0;
DROP TABLE group_metrics;
ALTER TABLE group_metrics_v3 RENAME TO group_metrics;
CREATE INDEX ix_group_metrics_step_ts ON group_metrics (step, ts);

CREATE TABLE broker_metrics_v3 (
  series_id INT NOT NULL,
  step INT NOT NULL,
  ts BIGINT NOT NULL,
  up DOUBLE NOT NULL,
  leaders INT NOT NULL,
  replicas INT NOT NULL,
  log_dir_bytes BIGINT NOT NULL,
  msgs_in_per_sec DOUBLE NOT NULL,
  bytes_in_per_sec DOUBLE NOT NULL,
  PRIMARY KEY (series_id, step, ts)
) WITHOUT ROWID;
INSERT INTO broker_metrics_v3 (series_id, step, ts, up, leaders, replicas, log_dir_bytes, msgs_in_per_sec, bytes_in_per_sec)
  SELECT s.id, m.step, m.ts, m.up, m.leaders, m.replicas, m.log_dir_bytes, m.msgs_in_per_sec, m.bytes_in_per_sec
  FROM broker_metrics m JOIN metric_series s ON s.kind = 'broker' AND s.cluster = m.cluster AND s.group_name = '' AND s.topic = '' AND s.broker_id = m.broker_id;
DROP TABLE broker_metrics;
ALTER TABLE broker_metrics_v3 RENAME TO broker_metrics;
CREATE INDEX ix_broker_metrics_step_ts ON broker_metrics (step, ts);

CREATE TABLE cluster_metrics_v3 (
  series_id INT NOT NULL,
  step INT NOT NULL,
  ts BIGINT NOT NULL,
  brokers INT NOT NULL,
  brokers_up INT NOT NULL,
  topics INT NOT NULL,
  partitions INT NOT NULL,
  under_replicated INT NOT NULL,
  offline INT NOT NULL,
  under_min_isr INT NOT NULL,
  total_lag BIGINT NOT NULL,
  msgs_per_sec DOUBLE NOT NULL,
  bytes_per_sec DOUBLE NOT NULL,
  PRIMARY KEY (series_id, step, ts)
) WITHOUT ROWID;
INSERT INTO cluster_metrics_v3 (series_id, step, ts, brokers, brokers_up, topics, partitions, under_replicated, offline, under_min_isr, total_lag, msgs_per_sec, bytes_per_sec)
  SELECT s.id, m.step, m.ts, m.brokers, m.brokers_up, m.topics, m.partitions, m.under_replicated, m.offline, m.under_min_isr, m.total_lag, m.msgs_per_sec, m.bytes_per_sec
  FROM cluster_metrics m JOIN metric_series s ON s.kind = 'cluster' AND s.cluster = m.cluster AND s.group_name = '' AND s.topic = '' AND s.broker_id = 0;
DROP TABLE cluster_metrics;
ALTER TABLE cluster_metrics_v3 RENAME TO cluster_metrics;
CREATE INDEX ix_cluster_metrics_step_ts ON cluster_metrics (step, ts);

-- +goose Down
CREATE TABLE topic_metrics_v2 (
  cluster VARCHAR(64) NOT NULL,
  topic VARCHAR(249) NOT NULL,
  step INT NOT NULL,
  ts BIGINT NOT NULL,
  start_offset BIGINT NOT NULL,
  end_offset BIGINT NOT NULL,
  size_bytes BIGINT NOT NULL,
  msgs_per_sec DOUBLE NOT NULL,
  bytes_per_sec DOUBLE NOT NULL,
  PRIMARY KEY (cluster, topic, step, ts)
);
INSERT INTO topic_metrics_v2 (cluster, topic, step, ts, start_offset, end_offset, size_bytes, msgs_per_sec, bytes_per_sec)
  SELECT s.cluster, s.topic, m.step, m.ts, m.start_offset, m.end_offset, m.size_bytes, m.msgs_per_sec, m.bytes_per_sec
  FROM topic_metrics m JOIN metric_series s ON s.id = m.series_id;
DROP TABLE topic_metrics;
ALTER TABLE topic_metrics_v2 RENAME TO topic_metrics;
CREATE INDEX ix_topic_metrics_step_ts ON topic_metrics (step, ts);

CREATE TABLE group_metrics_v2 (
  cluster VARCHAR(64) NOT NULL,
  group_name VARCHAR(249) NOT NULL,
  topic VARCHAR(249) NOT NULL,
  step INT NOT NULL,
  ts BIGINT NOT NULL,
  committed BIGINT NOT NULL,
  lag BIGINT NOT NULL,
  lag_max BIGINT NOT NULL,
  lag_seconds DOUBLE NOT NULL,
  PRIMARY KEY (cluster, group_name, topic, step, ts)
);
INSERT INTO group_metrics_v2 (cluster, group_name, topic, step, ts, committed, lag, lag_max, lag_seconds)
  SELECT s.cluster, s.group_name, s.topic, m.step, m.ts, m.committed, m.lag, m.lag_max, m.lag_seconds
  FROM group_metrics m JOIN metric_series s ON s.id = m.series_id;
DROP TABLE group_metrics;
ALTER TABLE group_metrics_v2 RENAME TO group_metrics;
CREATE INDEX ix_group_metrics_step_ts ON group_metrics (step, ts);

CREATE TABLE broker_metrics_v2 (
  cluster VARCHAR(64) NOT NULL,
  broker_id INT NOT NULL,
  step INT NOT NULL,
  ts BIGINT NOT NULL,
  up DOUBLE NOT NULL,
  leaders INT NOT NULL,
  replicas INT NOT NULL,
  log_dir_bytes BIGINT NOT NULL,
  msgs_in_per_sec DOUBLE NOT NULL,
  bytes_in_per_sec DOUBLE NOT NULL,
  PRIMARY KEY (cluster, broker_id, step, ts)
);
INSERT INTO broker_metrics_v2 (cluster, broker_id, step, ts, up, leaders, replicas, log_dir_bytes, msgs_in_per_sec, bytes_in_per_sec)
  SELECT s.cluster, s.broker_id, m.step, m.ts, m.up, m.leaders, m.replicas, m.log_dir_bytes, m.msgs_in_per_sec, m.bytes_in_per_sec
  FROM broker_metrics m JOIN metric_series s ON s.id = m.series_id;
DROP TABLE broker_metrics;
ALTER TABLE broker_metrics_v2 RENAME TO broker_metrics;
CREATE INDEX ix_broker_metrics_step_ts ON broker_metrics (step, ts);

CREATE TABLE cluster_metrics_v2 (
  cluster VARCHAR(64) NOT NULL,
  step INT NOT NULL,
  ts BIGINT NOT NULL,
  brokers INT NOT NULL,
  brokers_up INT NOT NULL,
  topics INT NOT NULL,
  partitions INT NOT NULL,
  under_replicated INT NOT NULL,
  offline INT NOT NULL,
  under_min_isr INT NOT NULL,
  total_lag BIGINT NOT NULL,
  msgs_per_sec DOUBLE NOT NULL,
  bytes_per_sec DOUBLE NOT NULL,
  PRIMARY KEY (cluster, step, ts)
);
INSERT INTO cluster_metrics_v2 (cluster, step, ts, brokers, brokers_up, topics, partitions, under_replicated, offline, under_min_isr, total_lag, msgs_per_sec, bytes_per_sec)
  SELECT s.cluster, m.step, m.ts, m.brokers, m.brokers_up, m.topics, m.partitions, m.under_replicated, m.offline, m.under_min_isr, m.total_lag, m.msgs_per_sec, m.bytes_per_sec
  FROM cluster_metrics m JOIN metric_series s ON s.id = m.series_id;
DROP TABLE cluster_metrics;
ALTER TABLE cluster_metrics_v2 RENAME TO cluster_metrics;
CREATE INDEX ix_cluster_metrics_step_ts ON cluster_metrics (step, ts);

DROP TABLE metric_series;
