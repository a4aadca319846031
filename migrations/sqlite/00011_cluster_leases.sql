-- Several consoles on one database: each monitored cluster is polled by the one console holding its
-- lease. holder names the console (its instance id), epoch grows by one at every change of holder
-- (the fencing token), renewals by one at every renewal (so a renewal always changes the row and
-- the affected-row count of the compare-and-set is 1), expires_at is on the database's clock.
-- cluster_snapshots keeps the holder's latest snapshot of each cluster (gzipped JSON) for the other
-- consoles' pages.

-- +goose Up
CREATE TABLE cluster_leases (
  cluster TEXT NOT NULL PRIMARY KEY,
  holder TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  renewals INTEGER NOT NULL DEFAULT 0,
  renewed_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL
);

CREATE TABLE cluster_snapshots (
  cluster TEXT NOT NULL PRIMARY KEY,
  epoch INTEGER NOT NULL,
  taken_at DATETIME NOT NULL,
  body BLOB NOT NULL
);

-- +goose Down
DROP TABLE cluster_snapshots;
DROP TABLE cluster_leases;
