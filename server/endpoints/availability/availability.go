// Package availability serves the availability history: a topic's and a broker's timeline of ISR
// shrinks and expands, leader changes, and offline, under-replicated, under-min-ISR and broker-down
// intervals, with the partitions that flapped.
package availability

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/endpoints/series"
	"github.com/osprey-kafka/osprey/server/service"
)

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/topics/:topic/availability", func(c *gin.Context, in *topicIn) (service.Timeline, error) {
			q, err := in.query()
			if err != nil {
				return service.Timeline{}, err
			}
			q.Topic = in.Topic
			return sendTimeline(c, svc, in.Cluster, q)
		}, api.Doc("availability", "A topic's availability timeline, a page of the newest events (limit, before): ISR changes, leader changes, offline / under-replicated / under-min-ISR intervals with their likely cause, flapping partitions among them"),
			api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/brokers/:id/availability", func(c *gin.Context, in *brokerIn) (service.Timeline, error) {
			q, err := in.query()
			if err != nil {
				return service.Timeline{}, err
			}
			q.Broker = &in.ID
			return sendTimeline(c, svc, in.Cluster, q)
		}, api.Doc("availability", "A broker's availability timeline, a page of the newest events (limit, before): its down intervals and every partition event it was involved in"),
			api.Errors(http.StatusServiceUnavailable)),
	)
}

// sendTimeline writes the timeline as the service encodes it (the JSON encoding/json would write,
// built without reflection); the registry sends nothing more once the body is written.
func sendTimeline(c *gin.Context, svc *service.Service, cluster string, q service.TimelineQuery) (service.Timeline, error) {
	body, err := svc.AvailabilityTimelineJSON(c.Request.Context(), cluster, q)
	if err != nil {
		return service.Timeline{}, err
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
	return service.Timeline{}, nil
}

// Flap is the flapping rule of a timeline: at least FlapChanges ISR changes within FlapMinutes.
type Flap struct {
	FlapChanges int `query:"flapChanges" json:"-" minimum:"1" maximum:"1000" description:"ISR changes that make a partition flapping (default 4)"`
	FlapMinutes int `query:"flapMinutes" json:"-" minimum:"1" maximum:"10080" description:"Within this many minutes (default 10)"`
}

// Page selects a page of a timeline: newest first, Limit events, older than Before.
type Page struct {
	Limit  int    `query:"limit" json:"-" minimum:"1" maximum:"2000" description:"Events per page, newest first (default 100)"`
	Before string `query:"before" json:"-" pattern:"^[0-9]+-[0-9]+$" description:"The next of the previous page: continue with the events older than it"`
}

// TimelineParams are a timeline's window (default the last 24 hours), flapping rule and page.
type TimelineParams struct {
	series.Window
	Flap
	Page
}

func (in TimelineParams) query() (service.TimelineQuery, error) {
	w, err := in.Window.Query()
	if err != nil {
		return service.TimelineQuery{}, err
	}
	if in.From == "" {
		w.From = w.To.Add(-24 * time.Hour)
	}
	return service.TimelineQuery{From: w.From, To: w.To, FlapChanges: in.FlapChanges, FlapMinutes: in.FlapMinutes,
		Limit: in.Limit, Before: in.Before}, nil
}

type topicIn struct {
	params.TopicPath
	TimelineParams
}

type brokerIn struct {
	params.ClusterPath
	ID int32 `path:"id" json:"-" description:"Broker id"`
	TimelineParams
}
