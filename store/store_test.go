package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// eachDialect runs the same test against a fresh, migrated SQLite file and a fresh MariaDB database.
func eachDialect(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	for _, dialect := range []string{"sqlite", "mysql"} {
		t.Run(dialect, func(t *testing.T) {
			s := openMigrated(t, dialect)
			fn(t, s)
		})
	}
}

func openOpts(t *testing.T, dialect string) Options {
	t.Helper()
	switch dialect {
	case "sqlite":
		return Options{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "osprey.db")}
	default:
		return Options{Driver: "mysql", DSN: testenv.MySQLDSN(t)}
	}
}

func openMigrated(t *testing.T, dialect string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, openOpts(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMigrateIdempotentAndRefusesNewer(t *testing.T) {
	for _, dialect := range []string{"sqlite", "mysql"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, openOpts(t, dialect))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			applied, err := s.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 {
				t.Fatal("first migrate applied nothing")
			}
			tables, _ := s.Tables(ctx)
			if len(tables) != len(tableList) {
				t.Fatalf("tables after migrate = %v, want %v", tables, tableList)
			}
			again, err := s.Migrate(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second migrate: applied %v, err %v; want nothing", again, err)
			}
			cur, latest, err := s.SchemaVersion(ctx)
			if err != nil || cur != latest {
				t.Fatalf("version %d/%d err %v", cur, latest, err)
			}
			// Pretend a newer osprey migrated this database.
			if err := s.db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", latest+1, true).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.SetSetting(ctx, "marker", "kept"); err != nil {
				t.Fatal(err)
			}
			_, err = s.Migrate(ctx)
			if !errors.Is(err, ErrSchemaTooNew) {
				t.Fatalf("migrate on a newer schema: err = %v, want ErrSchemaTooNew", err)
			}
			if v, ok, _ := s.Setting(ctx, "marker"); !ok || v != "kept" {
				t.Fatal("refused migration touched the data")
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Open(ctx, Options{Driver: "mysql", DSN: "u:secret@tcp(127.0.0.1:1)/x"})
	if err == nil {
		t.Fatal("expected a connection error")
	}
	if got := err.Error(); !strings.Contains(got, "cannot reach MySQL at 127.0.0.1:1") || strings.Contains(got, "secret") {
		t.Fatalf("error %q should name the server and hide the password", got)
	}
	if _, err := Open(ctx, Options{Driver: "oracle"}); err == nil {
		t.Fatal("unknown driver accepted")
	}
}

func TestModels(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()

		// Clusters: upsert by name.
		if err := s.UpsertCluster(ctx, &Cluster{Name: "prod", Source: "config", BootstrapServers: "a:9092"}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpsertCluster(ctx, &Cluster{Name: "prod", Source: "config", BootstrapServers: "b:9092"}); err != nil {
			t.Fatal(err)
		}
		cl, err := s.Clusters(ctx)
		if err != nil || len(cl) != 1 || cl[0].BootstrapServers != "b:9092" {
			t.Fatalf("clusters = %+v, %v", cl, err)
		}
		if err := s.DeleteCluster(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete missing cluster: %v", err)
		}

		// Settings.
		if _, ok, err := s.Setting(ctx, "x"); ok || err != nil {
			t.Fatalf("unset setting: ok=%v err=%v", ok, err)
		}
		_ = s.SetSetting(ctx, "x", "1")
		_ = s.SetSetting(ctx, "x", "2")
		if v, _, _ := s.Setting(ctx, "x"); v != "2" {
			t.Fatalf("setting = %q", v)
		}

		// Users and tokens: unique names.
		u := &User{Username: "ann", PasswordHash: "h", Role: "admin"}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, &User{Username: "ann", PasswordHash: "h", Role: "viewer"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate user: %v", err)
		}
		got, err := s.UserByName(ctx, "ann")
		if err != nil || got.ID != u.ID || got.Role != "admin" {
			t.Fatalf("user = %+v, %v", got, err)
		}
		if _, err := s.UserByName(ctx, "bob"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
		tok := &APIToken{UserID: &u.ID, Name: "ci", TokenHash: "abc", Prefix: "osp_ab", Role: "operator"}
		if err := s.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if got, err := s.APITokenByHash(ctx, "abc"); err != nil || got.ID != tok.ID || *got.UserID != u.ID {
			t.Fatalf("token = %+v, %v", got, err)
		}

		// Sessions expire.
		now := time.Now().UTC()
		_ = s.CreateSession(ctx, &Session{IDHash: "s1", UserID: u.ID, CSRFHash: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		if _, err := s.SessionByHash(ctx, "s1", now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByHash(ctx, "s1", now.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired session found: %v", err)
		}

		// Alert channels and rules: create, update, list, delete.
		ch := &AlertChannel{Name: "hook", Type: "webhook", Config: `{"url":"http://x"}`, Enabled: true}
		if err := s.CreateAlertChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
		ch.Enabled = false
		ch.Config = `{"url":"http://y"}`
		if err := s.UpdateAlertChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.AlertChannel(ctx, ch.ID); got.Enabled || got.Config != `{"url":"http://y"}` {
			t.Fatalf("channel after update = %+v", got)
		}
		if err := s.UpdateAlertChannel(ctx, &AlertChannel{ID: 9999, Name: "z"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update missing channel: %v", err)
		}
		r := &AlertRule{Name: "lag", Kind: "lag_messages", ClusterPattern: "*", GroupPattern: "*", TopicPattern: "*",
			Threshold: 1000, Severity: "warning", ChannelIDs: "[1]", Enabled: true}
		if err := s.CreateAlertRule(ctx, r); err != nil {
			t.Fatal(err)
		}
		rules, _ := s.AlertRules(ctx)
		if len(rules) != 1 || rules[0].Threshold != 1000 {
			t.Fatalf("rules = %+v", rules)
		}
		if err := s.DeleteAlertRule(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAlertRule(ctx, r.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}

		// Alert events: firing ones are found again after a restart.
		ev := &AlertEvent{RuleID: 1, Fingerprint: "f", State: "firing", Severity: "warning", Cluster: "prod",
			Subject: "g", Summary: "lag", Labels: "{}", Samples: "[]", StartedAt: now}
		if err := s.CreateAlertEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if firing, _ := s.FiringAlertEvents(ctx); len(firing) != 1 {
			t.Fatalf("firing = %v", firing)
		}
		ev.State = "resolved"
		ev.ResolvedAt = &now
		if err := s.UpdateAlertEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if firing, _ := s.FiringAlertEvents(ctx); len(firing) != 0 {
			t.Fatalf("still firing = %v", firing)
		}

		// Reassignments and runtime clusters.
		ra := &Reassignment{Cluster: "prod", State: "running", Plan: "{}", Original: "{}", Actor: "token", StartedAt: now}
		if err := s.CreateReassignment(ctx, ra); err != nil {
			t.Fatal(err)
		}
		ra.State = "completed"
		_ = s.UpdateReassignment(ctx, ra)
		if list, _ := s.Reassignments(ctx, "prod", 10); len(list) != 1 || list[0].State != "completed" {
			t.Fatalf("reassignments = %+v", list)
		}
		rc := &RuntimeCluster{Name: "dev", Brokers: 3, MetadataStore: "local", DataDir: "/tmp/x", State: "running"}
		if err := s.CreateRuntimeCluster(ctx, rc); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateRuntimeCluster(ctx, &RuntimeCluster{Name: "dev", MetadataStore: "local", State: "x"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate runtime cluster: %v", err)
		}
	})
}

func TestAudit(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i, action := range []string{"topic.create", "topic.delete", "topic.create"} {
			e := &AuditEntry{Actor: "admin-token", ActorKind: "token", Action: action, Cluster: "prod",
				Target: "t" + string(rune('0'+i)), Result: "ok"}
			if err := s.AddAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		all, total, err := s.Audit(ctx, AuditFilter{})
		if err != nil || total != 3 || all[0].Target != "t2" {
			t.Fatalf("audit = %+v total %d err %v (want newest first)", all, total, err)
		}
		creates, total, _ := s.Audit(ctx, AuditFilter{Action: "topic.create", Limit: 1})
		if total != 2 || len(creates) != 1 {
			t.Fatalf("filtered: %d rows, total %d", len(creates), total)
		}
	})
}
