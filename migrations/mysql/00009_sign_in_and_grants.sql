-- How people signed in, and roles granted per cluster.
-- users.source is local (a password kept here) or ldap (a directory account: its role and
-- directory_groups, a JSON list of group DNs, are refreshed at every sign-in). audit_log.auth_method
-- is how the actor proved who it is (token, local, ldap) and user_agent the client's User-Agent.
-- role_grants gives a subject (a user name, a directory group DN or cn, or an API token name) a role on
-- one cluster or on every cluster ('*'); a caller's role on a cluster is the highest of its own role
-- and the grants that match it.

-- +goose Up
ALTER TABLE users ADD COLUMN source VARCHAR(16) NOT NULL DEFAULT 'local';
ALTER TABLE users ADD COLUMN directory_groups TEXT NULL;
ALTER TABLE audit_log ADD COLUMN auth_method VARCHAR(16) NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN user_agent VARCHAR(512) NOT NULL DEFAULT '';
CREATE TABLE role_grants (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  subject_kind VARCHAR(16) NOT NULL,
  subject VARCHAR(255) NOT NULL,
  cluster VARCHAR(249) NOT NULL,
  role VARCHAR(16) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX uq_role_grants_subject ON role_grants (subject_kind, subject, cluster);

-- +goose Down
DROP TABLE role_grants;
ALTER TABLE audit_log DROP COLUMN user_agent;
ALTER TABLE audit_log DROP COLUMN auth_method;
ALTER TABLE users DROP COLUMN directory_groups;
ALTER TABLE users DROP COLUMN source;
