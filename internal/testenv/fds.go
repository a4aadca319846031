package testenv

import (
	"os"
	"testing"
)

// OpenFDs counts this process's open file descriptors (sockets, files, pipes). Osprey's tests run
// on Linux only, so a missing /proc/self/fd is a broken environment, not a reason to skip.
func OpenFDs(t testing.TB) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting open files: %v", err)
	}
	return len(es)
}
