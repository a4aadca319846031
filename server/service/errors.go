package service

import (
	"fmt"
	"net/http"
)

// UserError is a failure the caller can fix or should know about: it carries the HTTP status, a stable
// machine code (the web maps it to a translated sentence), the parameters that sentence needs, and a
// plain English message. Internal causes stay in Cause: they are logged, never returned.
type UserError struct {
	Status  int
	Code    string
	Message string
	// Params fill the translated sentence for Code (names of topics, config keys, Kafka error names…).
	Params map[string]any
	Cause  error
}

func (e *UserError) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *UserError) Unwrap() error { return e.Cause }

// with adds parameters for the translated sentence and returns e.
func (e *UserError) with(kv ...any) *UserError {
	if e.Params == nil {
		e.Params = make(map[string]any, len(kv)/2)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Params[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return e
}

func badRequest(code, format string, a ...any) error {
	return &UserError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, a...)}
}

func notFound(code, format string, a ...any) error {
	return &UserError{Status: http.StatusNotFound, Code: code, Message: fmt.Sprintf(format, a...)}
}

func conflict(code, format string, a ...any) error {
	return &UserError{Status: http.StatusConflict, Code: code, Message: fmt.Sprintf(format, a...)}
}

func topicNotFound(cluster, topic string) error {
	return (&UserError{Status: http.StatusNotFound, Code: "topic_not_found",
		Message: fmt.Sprintf("no topic named %q in cluster %s", topic, cluster)}).with("topic", topic, "cluster", cluster)
}

func groupNotFound(cluster, group string) error {
	return (&UserError{Status: http.StatusNotFound, Code: "group_not_found",
		Message: fmt.Sprintf("no consumer group named %q in cluster %s", group, cluster)}).with("group", group, "cluster", cluster)
}
