package zkstatus

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary answers to the three parsers: they must never
// panic, and what they accept must be consistent.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		if s, err := ParseSrvr(text); err == nil && !strings.Contains(text, "Mode: ") {
			t.Errorf("ParseSrvr accepted an answer without a mode: %+v", s)
		}
		if m, err := ParseMntr(text); err == nil {
			if m.Values == nil || m.Version != m.Values["zk_version"] {
				t.Errorf("ParseMntr: version %q, values %v", m.Version, m.Values)
			}
		}
		if conns, err := ParseCons(text); err == nil {
			for _, c := range conns {
				if _, _, err := net.SplitHostPort(c.Addr); err != nil {
					t.Errorf("ParseCons: address %q: %v", c.Addr, err)
				}
				if c.Fields == nil {
					t.Errorf("ParseCons: connection without fields: %+v", c)
				}
			}
		}
	})
}
