-- MySQL widens some TEXT columns in this version; SQLite's TEXT has no such limit, so nothing changes.
-- The version exists in both dialects so their schema versions stay in step.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
