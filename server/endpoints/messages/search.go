package messages

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/service"
)

// SearchRequest is the input of a message search: the topic in the path, the filter, the range and
// the limits in the body.
type SearchRequest struct {
	params.TopicPath
	service.SearchRequest
}

// searchEndpoint streams a search as Server-Sent Events, one event per service.SearchEvent named by
// its type (message, progress, done). The reader stops the search by closing the connection.
func searchEndpoint(svc *service.Service) api.Endpoint {
	return api.Streamed[SearchRequest, service.SearchEvent](http.MethodPost, "/api/v1/clusters/:cluster/topics/:topic/messages/search", "text/event-stream",
		func(c *gin.Context, in *SearchRequest) error {
			ctx := c.Request.Context()
			q, err := svc.PrepareSearch(ctx, api.CallerOf(c), in.Cluster, in.Topic, in.SearchRequest)
			if err != nil {
				return err
			}
			hdr := c.Writer.Header()
			hdr.Set("Content-Type", "text/event-stream")
			hdr.Set("Cache-Control", "no-cache")
			hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
			c.Status(http.StatusOK)
			_ = q.Run(ctx, func(ev service.SearchEvent) error { return writeEvent(c, ev) })
			return nil
		},
		api.Doc("messages", "Search a topic's messages with a CEL filter: a stream of message, progress and done events (masked as the caller must see them); closing the connection stops the search"),
		api.Errors(http.StatusTooManyRequests, http.StatusBadGateway))
}

func writeEvent(c *gin.Context, ev service.SearchEvent) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Type, err)
	}
	if _, err := fmt.Fprintf(c.Writer, "event: %s\ndata: %s\n\n", ev.Type, data); err != nil {
		return err
	}
	c.Writer.Flush()
	return c.Request.Context().Err()
}

// RedriveRequest is the input of a redrive: the source topic in the path, the selection and the
// target in the body.
type RedriveRequest struct {
	params.TopicPath
	service.RedriveRequest
}

// exportEndpoint streams the records a search selects as JSON lines: one service.SearchEvent per
// line, a "message" event per record (masked, payloads whole) and a last "done" event saying why the
// export ended.
func exportEndpoint(svc *service.Service) api.Endpoint {
	return api.Streamed[SearchRequest, service.SearchEvent](http.MethodPost, "/api/v1/clusters/:cluster/topics/:topic/messages/export", "application/x-ndjson",
		func(c *gin.Context, in *SearchRequest) error {
			ctx := c.Request.Context()
			q, err := svc.PrepareExport(ctx, api.CallerOf(c), in.Cluster, in.Topic, in.SearchRequest)
			if err != nil {
				return err
			}
			c.Header("Content-Type", "application/x-ndjson")
			c.Header("Content-Disposition", fmt.Sprintf("attachment; filename=%q", in.Topic+".jsonl"))
			c.Status(http.StatusOK)
			enc := json.NewEncoder(c.Writer)
			_ = q.Run(ctx, func(ev service.SearchEvent) error {
				if ev.Type == "progress" {
					return ctx.Err()
				}
				if err := enc.Encode(ev); err != nil {
					return err
				}
				return ctx.Err()
			})
			return nil
		},
		api.Doc("messages", "Export the records a search selects as JSON lines (masked; a last line with type done says why it ended)"),
		api.Errors(http.StatusTooManyRequests, http.StatusBadGateway))
}
