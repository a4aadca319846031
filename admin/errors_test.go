package admin

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// A KafkaError matches kerr's value of its code (and only that one) through wrapping, names the error
// as Kafka does, and keeps the broker's message after kerr's text.
func TestKafkaError(t *testing.T) {
	msg := "Topic 'orders' already exists."
	err := fmt.Errorf("create topics: %w", codeErr(19, kerr.TopicAlreadyExists.Code, &msg))
	if !errors.Is(err, kerr.TopicAlreadyExists) || errors.Is(err, kerr.InvalidConfig) {
		t.Fatalf("errors.Is by kerr name: %v", err)
	}
	ke, ok := errors.AsType[*KafkaError](err)
	if !ok {
		t.Fatalf("%v is not a *KafkaError", err)
	}
	if ke.Op != "CreateTopics" || ke.Name() != "TOPIC_ALREADY_EXISTS" || ke.Retriable() {
		t.Errorf("op %q name %q retriable %v", ke.Op, ke.Name(), ke.Retriable())
	}
	if want := "create topics: TOPIC_ALREADY_EXISTS: " + kerr.TopicAlreadyExists.Description + ": " + msg; err.Error() != want {
		t.Errorf("text %q\nwant %q", err.Error(), want)
	}
	if _, ok := errors.AsType[*kerr.Error](err); ok {
		t.Error("franz-go's error type is in the chain")
	}
	if codeErr(19, 0, &msg) != nil {
		t.Error("code 0 is an error")
	}
	if !errors.Is(codeErr(43, kerr.ElectionNotNeeded.Code, nil), ErrElectionNotNeeded) {
		t.Error("ErrElectionNotNeeded does not match its code")
	}
	// A code kerr does not know reads as UNKNOWN_SERVER_ERROR and keeps its number.
	if u := codeErr(0, 32000, nil).(*KafkaError); u.Name() != "UNKNOWN_SERVER_ERROR" || u.Code != 32000 || !errors.Is(u, kerr.UnknownServerError) {
		t.Errorf("unknown code: %v %d", u, u.Code)
	}
}

func TestDoneOnRetry(t *testing.T) {
	errs := map[string]error{"a": codeErr(19, kerr.TopicAlreadyExists.Code, nil), "b": codeErr(19, kerr.InvalidReplicationFactor.Code, nil), "c": nil}
	got := doneOnRetry(errs, false, kerr.TopicAlreadyExists)
	if got["a"] == nil {
		t.Fatal("first-attempt 'already exists' was cleared")
	}
	got = doneOnRetry(errs, true, kerr.TopicAlreadyExists)
	if got["a"] != nil || got["b"] == nil {
		t.Fatalf("after a retry: %v", got)
	}
}
