package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "osprey.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	cfg, err := Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":8048" || cfg.Database.Driver != "sqlite" || !cfg.Embedded.Enabled || cfg.Embedded.Brokers != 3 {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	if cfg.Retention.Metrics.D() != 15*24*time.Hour {
		t.Fatalf("metric retention = %v, want 15 days", cfg.Retention.Metrics)
	}
	if cfg.Collector.OffsetsInterval.D() != 15*time.Second || cfg.Collector.GroupsInterval.D() != 30*time.Second {
		t.Fatalf("poll intervals = %v/%v", cfg.Collector.OffsetsInterval, cfg.Collector.GroupsInterval)
	}
}

func TestExampleFileLoads(t *testing.T) {
	cfg, err := Load(LoadOptions{File: "osprey.example.yaml"})
	if err != nil {
		t.Fatalf("the shipped example must load: %v", err)
	}
	if len(cfg.Clusters) == 0 {
		t.Fatal("example declares no cluster")
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "listen: \"127.0.0.1:9000\"\ndatabase:\n  driver: mysql\n  dsn: \"u:p@tcp(db:3306)/osprey\"\nretention:\n  metrics: 30d\n")
	cfg, err := Load(LoadOptions{
		File:  file,
		Env:   []string{"OSPREY_LISTEN=127.0.0.1:9001", "OSPREY_EMBEDDED_BROKERS=5", "OSPREY_TEST_MYSQL_DSN=ignored", "PATH=/bin"},
		Flags: map[string]string{"listen": "127.0.0.1:9002"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9002" {
		t.Errorf("flag should win: listen=%q", cfg.Listen)
	}
	if cfg.Embedded.Brokers != 5 {
		t.Errorf("env should override default: brokers=%d", cfg.Embedded.Brokers)
	}
	if cfg.Database.Driver != "mysql" || cfg.Retention.Metrics.D() != 30*24*time.Hour {
		t.Errorf("file values lost: %+v", cfg.Database)
	}
}

func TestEnvNames(t *testing.T) {
	for path, want := range map[string]string{
		"listen":                "OSPREY_LISTEN",
		"dataDir":               "OSPREY_DATA_DIR",
		"adminToken":            "OSPREY_ADMIN_TOKEN",
		"database.maxOpenConns": "OSPREY_DATABASE_MAX_OPEN_CONNS",
		"embedded.demoTraffic":  "OSPREY_EMBEDDED_DEMO_TRAFFIC",
		"publicURL":             "OSPREY_PUBLIC_URL",
	} {
		if got := envName(path); got != want {
			t.Errorf("envName(%q) = %q, want %q", path, got, want)
		}
		if envPaths()[want] != path {
			t.Errorf("%s does not map back to %s", want, path)
		}
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		env     []string
		wantAll []string
	}{
		{"bad yaml", "listen: [unclosed\n", nil, []string{"not valid YAML", "line"}},
		{"unknown key with suggestion", "listn: \":1\"\n", nil, []string{"line 1", `unknown key "listn"`, `did you mean "listen"`}},
		{"unknown nested key", "database:\n  drvier: mysql\n", nil, []string{"line 2", `"database"`, `did you mean "driver"`}},
		{"unknown key lists known", "zzzzzzzzzzz: 1\n", nil, []string{"known keys:", "clusters"}},
		{"unknown key in cluster", "clusters:\n  - name: a\n    bootstrap: [\"h:1\"]\n", nil, []string{"line 3", `"clusters[0]"`, "bootstrapServers"}},
		{"wrong type", "embedded:\n  brokers: many\n", nil, []string{"line 2", "many"}},
		{"bad duration", "retention:\n  metrics: fortnight\n", nil, []string{"fortnight", "15d"}},
		{"bad dsn", "database:\n  driver: mysql\n  dsn: \"secretpass@@nonsense\"\n", nil, []string{"database.dsn", "not a valid MySQL DSN", "user:password@tcp(host:3306)/database"}},
		{"mysql without dsn", "database:\n  driver: mysql\n", nil, []string{"database.dsn", "is required"}},
		{"bad driver", "database:\n  driver: postgres\n", nil, []string{"database.driver", "use sqlite"}},
		{"bad listen", "listen: \"8048\"\n", nil, []string{"listen:", "host:port"}},
		{"bad trusted proxy", "trustedProxies: [\"10.0.0.0/8\", \"proxy.example\"]\n", nil, []string{"trustedProxies[1]", "CIDR", "proxy.example"}},
		{"bad cluster name", "clusters:\n  - name: \"bad name!\"\n    bootstrapServers: [\"h:9092\"]\n", nil, []string{"clusters[0].name"}},
		{"duplicate cluster", "clusters:\n  - name: local\n    bootstrapServers: [\"h:9092\"]\n", nil, []string{"used twice"}},
		{"no bootstrap", "clusters:\n  - name: a\n", nil, []string{"clusters[0].bootstrapServers", "at least one"}},
		{"bad zookeeper", "clusters:\n  - name: a\n    bootstrapServers: [\"h:9092\"]\n    zookeeper: \"zk:abc/\"\n", nil, []string{"clusters[0].zookeeper"}},
		{"bad sasl", "clusters:\n  - name: a\n    bootstrapServers: [\"h:9092\"]\n    sasl: {mechanism: GSSAPI}\n", nil, []string{"sasl.mechanism", "SCRAM-SHA-512"}},
		{"bad env bool", "", []string{"OSPREY_READ_ONLY=maybe"}, []string{"OSPREY_READ_ONLY", "true or false"}},
		{"bad env int", "", []string{"OSPREY_EMBEDDED_BROKERS=lots"}, []string{"OSPREY_EMBEDDED_BROKERS", "whole number"}},
		{"cluster name too long", "clusters:\n  - name: " + strings.Repeat("c", 65) + "\n    bootstrapServers: [\"h:9092\"]\n", nil, []string{"clusters[0].name", "at most 64"}},
		{"brokers out of range", "embedded:\n  brokers: 20\n", nil, []string{"embedded.brokers", "1 to 9"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := LoadOptions{Env: tc.env}
			if tc.yaml != "" {
				opts.File = writeFile(t, tc.yaml)
			}
			_, err := Load(opts)
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, want := range tc.wantAll {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "secretpass") {
				t.Errorf("error leaks the DSN's secret: %q", err)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(LoadOptions{File: filepath.Join(t.TempDir(), "nope.yaml")})
	if err == nil || !strings.Contains(err.Error(), "reading config file") {
		t.Fatalf("err = %v", err)
	}
}

// TestValidClusterName: Kafka's topic name rules (tested in full in internal/topicname) plus the
// cluster name length bound.
func TestValidClusterName(t *testing.T) {
	for name, ok := range map[string]bool{
		"orders": true, "a.b_c-D9": true, strings.Repeat("x", MaxClusterName): true,
		"": false, ".": false, "..": false, strings.Repeat("x", MaxClusterName+1): false,
		strings.Repeat("x", 250): false, "has space": false, "slash/no": false, "ünï": false,
	} {
		if err := ValidClusterName(name); (err == nil) != ok {
			t.Errorf("ValidClusterName(%.20q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestDurationDays(t *testing.T) {
	d, err := ParseDuration("1.5d")
	if err != nil || d.D() != 36*time.Hour {
		t.Fatalf("1.5d = %v, %v", d, err)
	}
	if Duration(48*time.Hour).String() != "2d" || Duration(90*time.Second).String() != "1m30s" {
		t.Fatal("String forms wrong")
	}
}
