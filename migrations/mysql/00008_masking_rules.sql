-- Masking rules: what the console hides of records before they leave the server (browse, search).
-- A rule applies to the topics its pattern names (a glob, or a regular expression when topic_regex)
-- in one cluster ('' for every cluster); json_path names a field of JSON values, regex a part of keys,
-- values and header values; action is mask, hash or drop. exempt_roles is a comma-separated list of
-- the roles that see clear values.

-- +goose Up
CREATE TABLE masking_rules (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(128) NOT NULL,
  cluster VARCHAR(249) NOT NULL DEFAULT '',
  topic_pattern VARCHAR(512) NOT NULL,
  topic_regex BOOLEAN NOT NULL DEFAULT FALSE,
  json_path VARCHAR(512) NOT NULL DEFAULT '',
  regex VARCHAR(1024) NOT NULL DEFAULT '',
  action VARCHAR(16) NOT NULL,
  exempt_roles VARCHAR(64) NOT NULL DEFAULT '',
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  UNIQUE KEY uq_masking_rules_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE masking_rules;
