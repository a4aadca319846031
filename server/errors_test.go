package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// logBuffer collects a logger's output; handlers log from the request goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rawCall is call without decoding, so a test can look at the exact bytes a page receives.
func (e *apiEnv) rawCall(method, path string, body any) (int, string) {
	e.t.Helper()
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// A bad topic config value is answered with a sentence about that key and a stable code with
// params, not the Go error chain; the chain goes to the console's log.
func TestConfigErrorIsASentence(t *testing.T) {
	var logs logBuffer
	e := newAPIEnv(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	if code, body := e.call("POST", "/api/v1/clusters/fake/topics", testToken,
		map[string]any{"name": "ui.journey", "partitions": 1, "replicationFactor": 1}); code != 201 {
		t.Fatalf("create = %d %v", code, body)
	}

	code, raw := e.rawCall("PATCH", "/api/v1/clusters/fake/topics/ui.journey/configs", map[string]any{"set": map[string]string{"retention.ms": "a week"}})
	if code != 400 {
		t.Fatalf("alter retention.ms=a week = %d %s", code, raw)
	}
	for _, chain := range []string{"strconv", "alter configs of", "ParseInt", "invalid syntax"} {
		if strings.Contains(raw, chain) {
			t.Errorf("answer carries the error chain (%q): %s", chain, raw)
		}
	}
	var body struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Params  map[string]any `json:"params"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Code != "invalid_config" || body.Error.Message != "retention.ms must be a whole number of milliseconds (-1 means no limit)" {
		t.Errorf("error = %+v", body.Error)
	}
	if body.Error.Params["key"] != "retention.ms" || body.Error.Params["rule"] != "ms_or_unlimited" || body.Error.Params["value"] != "a week" {
		t.Errorf("params = %v", body.Error.Params)
	}
	if !strings.Contains(logs.String(), "strconv.ParseInt") {
		t.Errorf("the cause is not in the log:\n%s", logs.String())
	}

	// Other keys with per-key sentences.
	for _, c := range []struct{ key, value, want string }{
		{"segment.bytes", "10", "segment.bytes must be a whole number of bytes, at least 14"},
		{"cleanup.policy", "compact,forever", "cleanup.policy must be delete, compact or both (compact,delete)"},
		{"min.insync.replicas", "0", "min.insync.replicas must be a whole number, at least 1"},
		{"min.cleanable.dirty.ratio", "2", "min.cleanable.dirty.ratio must be a number between 0 and 1"},
	} {
		code, raw := e.rawCall("PATCH", "/api/v1/clusters/fake/topics/ui.journey/configs", map[string]any{"set": map[string]string{c.key: c.value}})
		if code != 400 || !strings.Contains(raw, `"message":"`+c.want+`"`) {
			t.Errorf("%s=%s = %d %s, want %q", c.key, c.value, code, raw, c.want)
		}
	}
	// Valid values still reach Kafka.
	if code, raw := e.rawCall("PATCH", "/api/v1/clusters/fake/topics/ui.journey/configs", map[string]any{"set": map[string]string{"retention.ms": "-1", "cleanup.policy": "compact,delete"}}); code != 200 {
		t.Errorf("valid configs = %d %s", code, raw)
	}
}
