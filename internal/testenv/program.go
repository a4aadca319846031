package testenv

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Program is a real program (Prometheus, Burrow) a single test runs, in a directory of its own.
type Program struct {
	// Dir is the program's working directory, for its configuration and data.
	Dir string
	srv *server
}

// StartProgram runs argv (argv[0] looked up in PATH and /usr/sbin) in dir, which the caller prepared
// (its configuration written there), with its output in dir/<name>.log. The program ends with the
// test (SIGTERM, then SIGKILL after 10 s) or with the test process; a failed test shows the log's end.
func StartProgram(t testing.TB, name, dir string, argv ...string) *Program {
	t.Helper()
	bin, err := lookBin([]string{"/usr/sbin", "/usr/local/bin", "/usr/local/sbin"}, argv[0])
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	argv = append([]string{bin}, argv[1:]...)
	s, err := startServer(name, dir, filepath.Join(dir, name+".log"), argv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.terminate(10 * time.Second)
		if t.Failed() {
			t.Logf("%s log (last 40 lines):\n%s", name, s.logTail(40))
		}
	})
	return &Program{Dir: dir, srv: s}
}

// Exited reports whether the program has ended, with its log's last lines.
func (p *Program) Exited() (bool, string) {
	if !p.srv.exited() {
		return false, ""
	}
	return true, p.srv.logTail(20)
}

// WriteFile writes a file into the program's directory (its configuration).
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
