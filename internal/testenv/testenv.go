package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// installHint ends every error about missing servers.
const installHint = "install the servers with deploy/scripts/install-deps.sh " +
	"(and start shared ones with deploy/scripts/services.sh start, then source .cache/services/env.sh)"

// envHint ends errors about a server named by the environment that does not answer.
func envHint(name string) string {
	return "start it with deploy/scripts/services.sh start (then source .cache/services/env.sh), " +
		"or unset " + name + " to let the tests start their own"
}

// Main runs the tests of a package and then stops the servers this test
// process started. Use it as the package's TestMain.
func Main(m *testing.M, after ...func()) {
	code := m.Run()
	// os.Exit skips the caller's defers, so package-level clean-ups run here.
	for _, f := range after {
		f()
	}
	if err := global.stopAll(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: stopping services: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another
// process can take it before the caller binds it; callers that can listen on
// port 0 themselves should do that instead.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatalf("testenv.FreePort: %v", err)
	}
	return p
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listening on 127.0.0.1:0: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitFor calls cond until it returns nil, starting with short pauses that
// grow to 250ms. When timeout passes first it fails the test with cond's last
// error.
func WaitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	if err := poll(timeout, cond); err != nil {
		t.Fatalf("testenv.WaitFor: %v", err)
	}
}

// Until adapts a yes/no condition to WaitFor; while ok returns false its
// error says what is still awaited.
func Until(what string, ok func() bool) func() error {
	return func() error {
		if ok() {
			return nil
		}
		return errors.New("still waiting for " + what)
	}
}

// poll is WaitFor's loop, returning the failure instead of reporting it.
func poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	pause := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := cond()
		if err == nil {
			return nil
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return fmt.Errorf("condition not met within %v (%d attempts), last error: %w", timeout, attempt, err)
		}
		// The last attempt happens at the deadline, not a pause before it.
		time.Sleep(min(pause, remaining))
		pause = min(pause*2, 250*time.Millisecond)
	}
}

// uniqueName turns the test's name into a short identifier made of [a-z0-9_]
// with a random suffix, usable as a database name or a znode name.
func uniqueName(t testing.TB, maxLen int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	base := strings.Trim(b.String(), "_")
	suffix := randomHex(4)
	if limit := maxLen - len(suffix) - 1; len(base) > limit {
		base = base[:limit]
	}
	if base == "" {
		return suffix
	}
	return base + "_" + suffix
}

func randomHex(n int) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on Linux
	}
	return hex.EncodeToString(buf)
}
