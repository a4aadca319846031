package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// serve runs until its context ends, starting its parts in dependency order and stopping them in
// reverse, and returns no error after a clean stop.
func TestServeStartsInOrderAndStopsInReverse(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := writeConfig(t, "log:\n  level: debug\nembedded:\n  enabled: false\n")
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"serve", "--config", cfg, "--listen", addr, "--data-dir", t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	testenv.WaitFor(t, 30*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("serve returned before being stopped: %v\n%s", err, out.String())
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after a clean stop: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return within 30 s of being stopped")
	}
	var started, stopped []string
	for _, m := range regexp.MustCompile(`msg=(started|stopped) module=(\S+)`).FindAllStringSubmatch(out.String(), -1) {
		if m[1] == "started" {
			started = append(started, m[2])
		} else {
			stopped = append(stopped, m[2])
		}
	}
	want := []string{"listener", "store", "service", "alerts", "http"}
	if !slices.Equal(started, want) {
		t.Errorf("started %q, want %q", started, want)
	}
	slices.Reverse(want)
	if !slices.Equal(stopped, want) {
		t.Errorf("stopped %q, want %q\n%s", stopped, want, out.String())
	}
}
