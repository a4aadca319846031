-- Osprey schema v1 for MySQL 8 / MariaDB 10.6+.
-- Time series: one table per kind; `step` is the resolution in seconds (0 = raw poll points, 60, 300, 3600
-- rollups). The primary key serves the chart queries (one series over a time range); the (step, ts) key
-- lets retention delete old rows by range without scanning whole tables.

-- +goose Up
CREATE TABLE clusters (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(249) NOT NULL,
  source VARCHAR(16) NOT NULL,
  bootstrap_servers TEXT NOT NULL,
  zookeeper VARCHAR(1024) NOT NULL DEFAULT '',
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_clusters_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

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
  PRIMARY KEY (cluster, topic, step, ts),
  KEY ix_topic_metrics_step_ts (step, ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

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
  PRIMARY KEY (cluster, group_name, topic, step, ts),
  KEY ix_group_metrics_step_ts (step, ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

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
  PRIMARY KEY (cluster, broker_id, step, ts),
  KEY ix_broker_metrics_step_ts (step, ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

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
  PRIMARY KEY (cluster, step, ts),
  KEY ix_cluster_metrics_step_ts (step, ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- How far each series has been rolled up at each step, so a bucket is aggregated exactly once.
CREATE TABLE rollup_state (
  series VARCHAR(32) NOT NULL,
  step INT NOT NULL,
  done_until BIGINT NOT NULL,
  PRIMARY KEY (series, step)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE users (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(64) NOT NULL,
  password_hash VARCHAR(100) NOT NULL,
  role VARCHAR(16) NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  last_login_at DATETIME(3) NULL,
  UNIQUE KEY uq_users_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- API tokens are stored as SHA-256 hashes; the clear token is shown once when created.
CREATE TABLE api_tokens (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NULL,
  name VARCHAR(100) NOT NULL,
  token_hash CHAR(64) NOT NULL,
  prefix VARCHAR(16) NOT NULL,
  role VARCHAR(16) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  last_used_at DATETIME(3) NULL,
  expires_at DATETIME(3) NULL,
  UNIQUE KEY uq_api_tokens_hash (token_hash),
  KEY ix_api_tokens_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sessions (
  id_hash CHAR(64) NOT NULL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  csrf_hash CHAR(64) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  KEY ix_sessions_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE audit_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at DATETIME(3) NOT NULL,
  actor VARCHAR(128) NOT NULL,
  actor_kind VARCHAR(16) NOT NULL,
  remote_addr VARCHAR(64) NOT NULL,
  action VARCHAR(64) NOT NULL,
  cluster VARCHAR(249) NOT NULL,
  target VARCHAR(512) NOT NULL,
  params TEXT NOT NULL,
  result VARCHAR(16) NOT NULL,
  error TEXT NOT NULL,
  KEY ix_audit_log_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE alert_channels (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(128) NOT NULL,
  type VARCHAR(16) NOT NULL,
  config TEXT NOT NULL,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_alert_channels_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE alert_rules (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
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
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_alert_rules_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE alert_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  rule_id BIGINT NOT NULL,
  fingerprint CHAR(64) NOT NULL,
  state VARCHAR(16) NOT NULL,
  severity VARCHAR(16) NOT NULL,
  cluster VARCHAR(249) NOT NULL,
  subject VARCHAR(512) NOT NULL,
  summary TEXT NOT NULL,
  labels TEXT NOT NULL,
  samples TEXT NOT NULL,
  started_at DATETIME(3) NOT NULL,
  resolved_at DATETIME(3) NULL,
  last_notified_at DATETIME(3) NULL,
  notifications INT NOT NULL DEFAULT 0,
  delivery_error TEXT NOT NULL,
  KEY ix_alert_events_fingerprint (fingerprint, state),
  KEY ix_alert_events_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE reassignments (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  cluster VARCHAR(249) NOT NULL,
  state VARCHAR(16) NOT NULL,
  plan TEXT NOT NULL,
  original TEXT NOT NULL,
  throttle_bytes BIGINT NOT NULL DEFAULT 0,
  actor VARCHAR(128) NOT NULL,
  started_at DATETIME(3) NOT NULL,
  finished_at DATETIME(3) NULL,
  error TEXT NOT NULL,
  KEY ix_reassignments_cluster (cluster, started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE runtime_clusters (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(249) NOT NULL,
  brokers INT NOT NULL,
  metadata_store VARCHAR(16) NOT NULL,
  zookeeper VARCHAR(1024) NOT NULL DEFAULT '',
  data_dir VARCHAR(1024) NOT NULL,
  base_port INT NOT NULL DEFAULT 0,
  state VARCHAR(16) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_runtime_clusters_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE settings (
  k VARCHAR(64) NOT NULL PRIMARY KEY,
  v TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

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
