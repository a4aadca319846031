package service

import (
	"fmt"
	"net/http"
)

// UserError is a failure the caller can fix: it carries the HTTP status, a stable code and a message
// meant for the user. Internal causes stay in Cause and are only logged.
type UserError struct {
	Status  int
	Code    string
	Message string
	Cause   error
}

func (e *UserError) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *UserError) Unwrap() error { return e.Cause }

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
	return notFound("topic_not_found", "no topic named %q in cluster %s", topic, cluster)
}

func groupNotFound(cluster, group string) error {
	return notFound("group_not_found", "no consumer group named %q in cluster %s", group, cluster)
}
