package broker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
)

// A KRaft node starts only on directories formatted for it, and says which
// directory is wrong and what to run.
func TestCheckFormatted(t *testing.T) {
	write := func(t *testing.T, dir string, m metaprops.MetaProperties) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := metaprops.Write(dir, m, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	setup := func(t *testing.T) Config {
		cfg := DefaultConfig()
		cfg.ProcessRoles, cfg.NodeID = []string{RoleBroker}, 2
		d := t.TempDir()
		cfg.LogDirs = []string{filepath.Join(d, "a"), filepath.Join(d, "b")}
		cfg.MetadataLogDir = filepath.Join(d, "meta")
		return cfg
	}
	ok := metaprops.MetaProperties{Version: 1, ClusterID: "AAAAAAAAAAAAAAAAAAAAAA", NodeID: 2}

	t.Run("all formatted", func(t *testing.T) {
		cfg := setup(t)
		for _, d := range cfg.kraftDirs() {
			write(t, d, ok)
		}
		id, err := checkFormatted(cfg)
		if err != nil || id != ok.ClusterID {
			t.Fatalf("checkFormatted = %q, %v", id, err)
		}
	})
	cases := []struct {
		name string
		edit func(cfg Config) // after every dir got ok
		want []string
	}{
		{"metadata dir not formatted", nil, []string{"meta", "not formatted", "osprey storage format -t"}},
		{"version 0", func(cfg Config) {
			write(t, cfg.LogDirs[1], metaprops.MetaProperties{Version: 0, ClusterID: ok.ClusterID, NodeID: 2})
		}, []string{"/b", "version 0", "ZooKeeper"}},
		{"other node", func(cfg Config) {
			m := ok
			m.NodeID = 3
			write(t, cfg.LogDirs[1], m)
		}, []string{"/b", "node.id=3", "node.id=2"}},
		{"other cluster", func(cfg Config) {
			m := ok
			m.ClusterID = "BBBBBBBBBBBBBBBBBBBBBB"
			write(t, cfg.LogDirs[1], m)
		}, []string{"/b", "BBBBBBBBBBBBBBBBBBBBBB", "AAAAAAAAAAAAAAAAAAAAAA", "same -t"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := setup(t)
			for _, d := range cfg.LogDirs {
				write(t, d, ok)
			}
			if c.edit != nil {
				write(t, cfg.MetadataLogDir, ok)
				c.edit(cfg)
			}
			_, err := checkFormatted(cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
