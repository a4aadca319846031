package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	kafka "github.com/segmentio/kafka-go"
)

func TestRetryBroken(t *testing.T) {
	ctx := context.Background()
	for _, first := range []error{io.EOF, io.ErrUnexpectedEOF, fmt.Errorf("write: %w", syscall.ECONNRESET), syscall.EPIPE} {
		calls := 0
		v, retried, err := retryBroken(ctx, func() (int, error) {
			calls++
			if calls == 1 {
				return 0, first
			}
			return 42, nil
		})
		if err != nil || v != 42 || !retried || calls != 2 {
			t.Errorf("after %v: v=%d retried=%v err=%v calls=%d", first, v, retried, err, calls)
		}
	}
	// Other failures are final: no second attempt.
	calls := 0
	_, retried, err := retryBroken(ctx, func() (int, error) { calls++; return 0, errors.New("NOT_CONTROLLER") })
	if err == nil || retried || calls != 1 {
		t.Fatalf("a Kafka error was retried: calls=%d", calls)
	}
	// A cancelled context is not retried either.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	calls = 0
	_, _, _ = retryBroken(cctx, func() (int, error) { calls++; return 0, io.EOF })
	if calls != 1 {
		t.Fatalf("retried after cancel: %d calls", calls)
	}
}

func TestDoneOnRetry(t *testing.T) {
	errs := map[string]error{"a": kafka.TopicAlreadyExists, "b": kafka.InvalidReplicationFactor, "c": nil}
	got := doneOnRetry(errs, false, kafka.TopicAlreadyExists)
	if got["a"] == nil {
		t.Fatal("first-attempt 'already exists' was cleared")
	}
	got = doneOnRetry(errs, true, kafka.TopicAlreadyExists)
	if got["a"] != nil || got["b"] == nil {
		t.Fatalf("after a retry: %v", got)
	}
}
