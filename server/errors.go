package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

// errorBody is the one error shape of the API: {"error": {"code": "...", "message": "...", "params": {...}}}.
// Code is stable and machine-readable (the web translates by it, filling the sentence from params);
// Message is a plain English sentence; internal causes are logged, never returned.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Params  map[string]any `json:"params,omitempty"`
}

func writeError(c *gin.Context, status int, code, message string) {
	writeErrorParams(c, status, code, message, nil)
}

func writeErrorParams(c *gin.Context, status int, code, message string, params map[string]any) {
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: code, Message: message, Params: params}})
}

// list is the API's shape for collections.
type list[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func newList[T any](items []T, total int) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items, Total: total}
}

// fail maps a service error to its HTTP status; unexpected errors are logged and reported as 500
// without their internal detail.
func (s *Server) fail(c *gin.Context, err error) {
	var ue *service.UserError
	var ve *alert.ValidationError
	switch {
	case errors.Is(err, service.ErrUnknownCluster):
		if name := c.Param("cluster"); name != "" {
			writeErrorParams(c, http.StatusNotFound, "cluster_not_found", fmt.Sprintf("no cluster named %q", name), map[string]any{"cluster": name})
		} else {
			writeError(c, http.StatusNotFound, "cluster_not_found", err.Error())
		}
	case errors.As(err, &ve):
		writeError(c, http.StatusBadRequest, "invalid", ve.Error())
	case errors.Is(err, store.ErrNotFound):
		writeError(c, http.StatusNotFound, "not_found", "no such item")
	case errors.Is(err, store.ErrConflict):
		writeError(c, http.StatusConflict, "conflict", "an item with that name already exists")
	case errors.As(err, &ue):
		switch {
		case ue.Status >= http.StatusInternalServerError:
			// Kafka or ZooKeeper failed the call: the operator looking at the log should see it too.
			s.opts.Logger.Warn("request failed upstream", "method", c.Request.Method, "path", c.Request.URL.Path,
				"status", ue.Status, "code", ue.Code, "err", ue.Message, "cause", ue.Cause)
		case ue.Cause != nil:
			// The answer says what to fix in a sentence; the full chain (the broker's own message,
			// the parse error) is kept here.
			s.opts.Logger.Info("request refused", "method", c.Request.Method, "path", c.Request.URL.Path,
				"status", ue.Status, "code", ue.Code, "err", ue.Message, "cause", ue.Cause)
		}
		writeErrorParams(c, ue.Status, ue.Code, ue.Message, ue.Params)
	default:
		s.opts.Logger.Error("request failed", "path", c.Request.URL.Path, "err", err)
		writeError(c, http.StatusInternalServerError, "internal", "internal error; the console's log has the details")
	}
}

// maxBody bounds request bodies; no API call needs more.
const maxBody = 1 << 20

// bindJSON decodes the body strictly (unknown fields are refused, so a typo is not silently ignored)
// and answers 400 with the reason when it cannot.
func bindJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			msg = "the request body is empty; send a JSON object"
		case errors.As(err, &syn):
			msg = fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)
		case errors.As(err, &typ):
			msg = fmt.Sprintf("field %q must be %s, not %s", typ.Field, typ.Type, typ.Value)
		case errors.As(err, &tooBig):
			msg = fmt.Sprintf("the request body is larger than %d bytes", maxBody)
		case strings.HasPrefix(msg, "json: unknown field"):
			msg = "unknown field " + strings.TrimPrefix(msg, "json: unknown field ")
		}
		writeError(c, http.StatusBadRequest, "bad_request", msg)
		return false
	}
	if dec.More() {
		writeError(c, http.StatusBadRequest, "bad_request", "the body must hold exactly one JSON object")
		return false
	}
	return true
}
