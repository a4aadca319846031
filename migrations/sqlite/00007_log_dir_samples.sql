-- Storage history, as in the MySQL migration of the same version.

-- +goose Up
CREATE TABLE log_dir_samples (
  cluster VARCHAR(249) NOT NULL,
  broker_id INT NOT NULL,
  dir VARCHAR(255) NOT NULL,
  ts BIGINT NOT NULL,
  used_bytes BIGINT NOT NULL,
  total_bytes BIGINT NOT NULL,
  usable_bytes BIGINT NOT NULL,
  PRIMARY KEY (cluster, broker_id, dir, ts)
) WITHOUT ROWID;
CREATE INDEX ix_log_dir_samples_ts ON log_dir_samples (ts);

-- +goose Down
DROP TABLE log_dir_samples;
