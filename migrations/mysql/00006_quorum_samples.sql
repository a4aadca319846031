-- KRaft quorum history: one row per poll of a KRaft cluster (leader, epoch, high watermark, the
-- largest voter lag), and one per voter and observer of that poll. ts is Unix milliseconds. Lags are
-- behind the leader's log end offset; lag_sec and fetch_age_sec are -1 when the controller did not
-- report them.

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
  PRIMARY KEY (cluster, ts),
  KEY ix_quorum_samples_ts (ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE quorum_replica_samples (
  cluster VARCHAR(249) NOT NULL,
  ts BIGINT NOT NULL,
  replica_id INT NOT NULL,
  voter TINYINT NOT NULL,
  log_end_offset BIGINT NOT NULL,
  lag BIGINT NOT NULL,
  lag_sec DOUBLE NOT NULL,
  fetch_age_sec DOUBLE NOT NULL,
  PRIMARY KEY (cluster, ts, replica_id),
  KEY ix_quorum_replica_samples_ts (ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE quorum_replica_samples;
DROP TABLE quorum_samples;
