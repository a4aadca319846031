-- KRaft quorum history, as in the MySQL migration of the same version.

-- +goose Up
CREATE TABLE quorum_samples (
  cluster VARCHAR(249) NOT NULL,
  ts BIGINT NOT NULL,
  leader_id INT NOT NULL,
  leader_epoch INT NOT NULL,
  high_watermark BIGINT NOT NULL,
  voters INT NOT NULL,
  max_voter_lag BIGINT NOT NULL,
  max_voter_lag_sec DOUBLE NOT NULL,
  PRIMARY KEY (cluster, ts)
) WITHOUT ROWID;
CREATE INDEX ix_quorum_samples_ts ON quorum_samples (ts);

CREATE TABLE quorum_replica_samples (
  cluster VARCHAR(249) NOT NULL,
  ts BIGINT NOT NULL,
  replica_id INT NOT NULL,
  voter TINYINT NOT NULL,
  log_end_offset BIGINT NOT NULL,
  lag BIGINT NOT NULL,
  lag_sec DOUBLE NOT NULL,
  fetch_age_sec DOUBLE NOT NULL,
  PRIMARY KEY (cluster, ts, replica_id)
) WITHOUT ROWID;
CREATE INDEX ix_quorum_replica_samples_ts ON quorum_replica_samples (ts);

-- +goose Down
DROP TABLE quorum_replica_samples;
DROP TABLE quorum_samples;
