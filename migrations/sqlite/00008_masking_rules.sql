-- Masking rules, as in the MySQL migration of the same version.

-- +goose Up
CREATE TABLE masking_rules (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(128) NOT NULL,
  cluster VARCHAR(249) NOT NULL DEFAULT '',
  topic_pattern VARCHAR(512) NOT NULL,
  topic_regex BOOLEAN NOT NULL DEFAULT 0,
  json_path VARCHAR(512) NOT NULL DEFAULT '',
  regex VARCHAR(1024) NOT NULL DEFAULT '',
  action VARCHAR(16) NOT NULL,
  exempt_roles VARCHAR(64) NOT NULL DEFAULT '',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX uq_masking_rules_name ON masking_rules (name);

-- +goose Down
DROP TABLE masking_rules;
