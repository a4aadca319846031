-- Storage history: one row per broker log directory per log-dir poll. used_bytes is the sum of the
-- partition logs in the directory; total_bytes and usable_bytes are its file system's (DescribeLogDirs
-- v4, KIP-827), -1 when the broker does not report them. ts is Unix milliseconds.

-- +goose Up
CREATE TABLE log_dir_samples (
  cluster VARCHAR(249) NOT NULL,
  broker_id INT NOT NULL,
  dir VARCHAR(255) NOT NULL,
  ts BIGINT NOT NULL,
  used_bytes BIGINT NOT NULL,
  total_bytes BIGINT NOT NULL,
  usable_bytes BIGINT NOT NULL,
  PRIMARY KEY (cluster, broker_id, dir, ts),
  KEY ix_log_dir_samples_ts (ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE log_dir_samples;
