-- Reassignment plans and audit parameters can pass TEXT's 64 KiB on large clusters; alert samples
-- and channel configs get the same room.

-- +goose Up
ALTER TABLE reassignments MODIFY plan MEDIUMTEXT NOT NULL, MODIFY original MEDIUMTEXT NOT NULL;
ALTER TABLE audit_log MODIFY params MEDIUMTEXT NOT NULL;
ALTER TABLE alert_events MODIFY samples MEDIUMTEXT NOT NULL;

-- +goose Down
ALTER TABLE alert_events MODIFY samples TEXT NOT NULL;
ALTER TABLE audit_log MODIFY params TEXT NOT NULL;
ALTER TABLE reassignments MODIFY plan TEXT NOT NULL, MODIFY original TEXT NOT NULL;
