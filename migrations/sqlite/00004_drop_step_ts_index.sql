-- The point tables lose their (step, ts) index, as in the MySQL migration of the same version: rollup
-- and expiry read by primary-key ranges per series instead, and each point is one B-tree insert fewer.

-- +goose Up
DROP INDEX ix_topic_metrics_step_ts;
DROP INDEX ix_group_metrics_step_ts;
DROP INDEX ix_broker_metrics_step_ts;
DROP INDEX ix_cluster_metrics_step_ts;

-- +goose Down
CREATE INDEX ix_topic_metrics_step_ts ON topic_metrics (step, ts);
CREATE INDEX ix_group_metrics_step_ts ON group_metrics (step, ts);
CREATE INDEX ix_broker_metrics_step_ts ON broker_metrics (step, ts);
CREATE INDEX ix_cluster_metrics_step_ts ON cluster_metrics (step, ts);
