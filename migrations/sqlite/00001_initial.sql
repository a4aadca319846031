-- Osprey schema v1 for SQLite (the embedded default). Same tables and keys as the MySQL schema.
-- Time series: one table per kind; `step` is the resolution in seconds (0 = raw poll points, 60, 300, 3600
-- rollups). The primary key serves the chart queries (one series over a time range); the (step, ts) key
-- lets retention delete old rows by range without scanning whole tables.

-- +goose Up
CREATE TABLE clusters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(249) NOT NULL,
  source VARCHAR(16) NOT NULL,
  bootstrap_servers TEXT NOT NULL,
  zookeeper VARCHAR(1024) NOT NULL DEFAULT '',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX uq_clusters_name ON clusters (name);

CREATE TABLE topic_metrics (
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
CREATE INDEX ix_topic_metrics_step_ts ON topic_metrics (step, ts);

CREATE TABLE group_metrics (
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
CREATE INDEX ix_group_metrics_step_ts ON group_metrics (step, ts);

CREATE TABLE broker_metrics (
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
CREATE INDEX ix_broker_metrics_step_ts ON broker_metrics (step, ts);

CREATE TABLE cluster_metrics (
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
CREATE INDEX ix_cluster_metrics_step_ts ON cluster_metrics (step, ts);

-- How far each series has been rolled up at each step, so a bucket is aggregated exactly once.
CREATE TABLE rollup_state (
  series VARCHAR(32) NOT NULL,
  step INT NOT NULL,
  done_until BIGINT NOT NULL,
  PRIMARY KEY (series, step)
);

CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username VARCHAR(64) NOT NULL,
  password_hash VARCHAR(100) NOT NULL,
  role VARCHAR(16) NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  last_login_at DATETIME NULL
);
CREATE UNIQUE INDEX uq_users_username ON users (username);

-- API tokens are stored as SHA-256 hashes; the clear token is shown once when created.
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id BIGINT NULL,
  name VARCHAR(100) NOT NULL,
  token_hash CHAR(64) NOT NULL,
  prefix VARCHAR(16) NOT NULL,
  role VARCHAR(16) NOT NULL,
  created_at DATETIME NOT NULL,
  last_used_at DATETIME NULL,
  expires_at DATETIME NULL
);
CREATE UNIQUE INDEX uq_api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX ix_api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
  id_hash CHAR(64) NOT NULL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  csrf_hash CHAR(64) NOT NULL,
  created_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL
);
CREATE INDEX ix_sessions_expires ON sessions (expires_at);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at DATETIME NOT NULL,
  actor VARCHAR(128) NOT NULL,
  actor_kind VARCHAR(16) NOT NULL,
  remote_addr VARCHAR(64) NOT NULL,
  action VARCHAR(64) NOT NULL,
  cluster VARCHAR(249) NOT NULL,
  target VARCHAR(512) NOT NULL,
  params TEXT NOT NULL,
  result VARCHAR(16) NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX ix_audit_log_at ON audit_log (at);

CREATE TABLE alert_channels (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(128) NOT NULL,
  type VARCHAR(16) NOT NULL,
  config TEXT NOT NULL,
  enabled BOOLEAN NOT NULL DEFAULT 1,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX uq_alert_channels_name ON alert_channels (name);

CREATE TABLE alert_rules (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(128) NOT NULL,
  kind VARCHAR(32) NOT NULL,
  cluster_pattern VARCHAR(255) NOT NULL DEFAULT '*',
  group_pattern VARCHAR(255) NOT NULL DEFAULT '*',
  topic_pattern VARCHAR(255) NOT NULL DEFAULT '*',
  threshold DOUBLE NOT NULL DEFAULT 0,
  window_samples INT NOT NULL DEFAULT 10,
  for_seconds INT NOT NULL DEFAULT 0,
  cooldown_seconds INT NOT NULL DEFAULT 0,
  repeat_seconds INT NOT NULL DEFAULT 0,
  severity VARCHAR(16) NOT NULL,
  channel_ids TEXT NOT NULL,
  enabled BOOLEAN NOT NULL DEFAULT 1,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX uq_alert_rules_name ON alert_rules (name);

CREATE TABLE alert_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rule_id BIGINT NOT NULL,
  fingerprint CHAR(64) NOT NULL,
  state VARCHAR(16) NOT NULL,
  severity VARCHAR(16) NOT NULL,
  cluster VARCHAR(249) NOT NULL,
  subject VARCHAR(512) NOT NULL,
  summary TEXT NOT NULL,
  labels TEXT NOT NULL,
  samples TEXT NOT NULL,
  started_at DATETIME NOT NULL,
  resolved_at DATETIME NULL,
  last_notified_at DATETIME NULL,
  notifications INT NOT NULL DEFAULT 0,
  delivery_error TEXT NOT NULL
);
CREATE INDEX ix_alert_events_fingerprint ON alert_events (fingerprint, state);
CREATE INDEX ix_alert_events_started ON alert_events (started_at);

CREATE TABLE reassignments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cluster VARCHAR(249) NOT NULL,
  state VARCHAR(16) NOT NULL,
  plan TEXT NOT NULL,
  original TEXT NOT NULL,
  throttle_bytes BIGINT NOT NULL DEFAULT 0,
  actor VARCHAR(128) NOT NULL,
  started_at DATETIME NOT NULL,
  finished_at DATETIME NULL,
  error TEXT NOT NULL
);
CREATE INDEX ix_reassignments_cluster ON reassignments (cluster, started_at);

CREATE TABLE runtime_clusters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(249) NOT NULL,
  brokers INT NOT NULL,
  metadata_store VARCHAR(16) NOT NULL,
  zookeeper VARCHAR(1024) NOT NULL DEFAULT '',
  data_dir VARCHAR(1024) NOT NULL,
  base_port INT NOT NULL DEFAULT 0,
  state VARCHAR(16) NOT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX uq_runtime_clusters_name ON runtime_clusters (name);

CREATE TABLE settings (
  k VARCHAR(64) NOT NULL PRIMARY KEY,
  v TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE runtime_clusters;
DROP TABLE reassignments;
DROP TABLE alert_events;
DROP TABLE alert_rules;
DROP TABLE alert_channels;
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE rollup_state;
DROP TABLE cluster_metrics;
DROP TABLE broker_metrics;
DROP TABLE group_metrics;
DROP TABLE topic_metrics;
DROP TABLE clusters;
