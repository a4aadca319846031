package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KafkaError is a Kafka error code answered to a request: for the whole request or for one of its
// items (a topic, partition, group or config resource). It is the only error type admin returns for
// Kafka-level refusals; a call that did not get an answer fails with an ordinary wrapped error (net,
// io, context, ErrClosed, ErrUnsupported).
//
// Compare it with franz-go's kerr values by name, errors.Is(err, kerr.TopicAlreadyExists): Is matches
// by code. The client library's own error value is not in the chain, so callers above admin see this
// type and kerr's names, never a client library's error type.
type KafkaError struct {
	// Op is the Kafka request the code answered, by its protocol name ("CreateTopics"); "Metadata" when
	// the code comes from cluster metadata (a partition without a leader, a topic it does not list).
	Op string
	// Code is Kafka's error code as the broker sent it.
	Code int16
	// Message is the broker's own text for the error (ErrorMessage), "" when it sent none.
	Message string
}

// kind is kerr's error for the code (UNKNOWN_SERVER_ERROR for a code kerr does not know).
func (e *KafkaError) kind() *kerr.Error {
	if k := kerr.TypedErrorForCode(e.Code); k != nil {
		return k
	}
	return kerr.UnknownServerError // code 0 is no error; a KafkaError never carries it
}

// Name is the error's protocol name, e.g. "TOPIC_ALREADY_EXISTS".
func (e *KafkaError) Name() string { return e.kind().Message }

// Description is Kafka's one-sentence description of the error.
func (e *KafkaError) Description() string { return e.kind().Description }

// Retriable says whether Kafka documents the error as retriable.
func (e *KafkaError) Retriable() bool { return e.kind().Retriable }

// Error reads "NAME: description", then the broker's message when it sent one.
func (e *KafkaError) Error() string {
	if e.Message != "" {
		return e.kind().Error() + ": " + e.Message
	}
	return e.kind().Error()
}

// Is matches kerr's error for the same code, and any KafkaError with the same code.
func (e *KafkaError) Is(target error) bool {
	switch t := target.(type) {
	case *kerr.Error:
		return e.kind() == t
	case *KafkaError:
		return e.Code == t.Code
	}
	return false
}

// codeErr is the error for code in an answer to the request with API key key; nil for code 0.
func codeErr(key int16, code int16, msg *string) error {
	if code == 0 {
		return nil
	}
	e := &KafkaError{Op: kmsg.NameForKey(key), Code: code}
	if msg != nil {
		e.Message = *msg
	}
	return e
}

// metadataErr is a Kafka error read from cluster metadata rather than answered to the call itself.
func metadataErr(k *kerr.Error) error { return &KafkaError{Op: "Metadata", Code: k.Code} }

// franzErr converts an error from franz-go's client (kgo) for callers of admin: a Kafka error code
// becomes a KafkaError, an interrupted call keeps its context error, anything else keeps its text
// only, so that no kgo error value travels above admin.
func franzErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ke, ok := errors.AsType[*kerr.Error](err); ok {
		return &KafkaError{Op: op, Code: ke.Code}
	}
	cerr := ctx.Err()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		cerr = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		cerr = context.Canceled
	}
	switch {
	case cerr == nil:
		return errors.New(err.Error())
	case err == cerr:
		return cerr
	}
	return fmt.Errorf("%w (%s)", cerr, err.Error())
}
