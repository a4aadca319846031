// Package series serves the stored time series behind the charts: a topic's figures, a group's
// lag, a broker's figures and a cluster's totals.
package series

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/service"
)

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/topics/:topic/metrics", func(c *gin.Context, in *topicIn) (service.Series[service.TopicMetrics], error) {
			q, err := in.Query()
			if err != nil {
				return service.Series[service.TopicMetrics]{}, err
			}
			return svc.TopicSeries(c.Request.Context(), in.Cluster, in.Topic, q)
		}, api.Doc("series", "A topic's time series (rates, size)"), api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/groups/:group/lag", func(c *gin.Context, in *groupIn) (service.Series[service.GroupLag], error) {
			q, err := in.Query()
			if err != nil {
				return service.Series[service.GroupLag]{}, err
			}
			return svc.GroupSeries(c.Request.Context(), in.Cluster, in.Group, in.Topic, q)
		}, api.Doc("series", "A group's lag time series"), api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/brokers/:id/metrics", func(c *gin.Context, in *brokerIn) (service.Series[service.BrokerMetrics], error) {
			q, err := in.Query()
			if err != nil {
				return service.Series[service.BrokerMetrics]{}, err
			}
			return svc.BrokerSeries(c.Request.Context(), in.Cluster, in.ID, q)
		}, api.Doc("series", "A broker's time series")),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/metrics/cluster", func(c *gin.Context, in *clusterIn) (service.Series[service.ClusterMetrics], error) {
			q, err := in.Query()
			if err != nil {
				return service.Series[service.ClusterMetrics]{}, err
			}
			return svc.ClusterSeries(c.Request.Context(), in.Cluster, q)
		}, api.Doc("series", "Cluster-wide time series")),
	)
}

// Window is ?from=&to=&step=. Step is checked here rather than by an enum, so that its numeric
// spellings (0, 60, 300, 3600) are accepted as they always were.
type Window struct {
	From string `query:"from" json:"-" description:"Start, RFC 3339 or Unix seconds (default an hour ago)"`
	To   string `query:"to" json:"-" description:"End, RFC 3339 or Unix seconds (default now)"`
	Step string `query:"step" json:"-" pattern:"^(raw|1m|5m|1h|auto|0|60|300|3600)$" description:"Resolution: raw, 1m, 5m, 1h, or auto (the default) to pick one for the window"`
}

// Query is the service's series query for the window.
func (w Window) Query() (service.SeriesQuery, error) {
	now := time.Now()
	q := service.SeriesQuery{From: now.Add(-time.Hour), To: now, Step: -1}
	for _, t := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", w.From, &q.From}, {"to", w.To, &q.To}} {
		if t.v == "" {
			continue
		}
		if n, err := strconv.ParseInt(t.v, 10, 64); err == nil {
			*t.dst = time.Unix(n, 0)
			continue
		}
		v, err := time.Parse(time.RFC3339, t.v)
		if err != nil {
			return q, api.BadRequest(t.name+" must be RFC 3339 (2026-01-02T15:04:05Z) or Unix seconds", "param", t.name)
		}
		*t.dst = v
	}
	switch w.Step {
	case "", "auto":
	case "raw", "0":
		q.Step = 0
	case "1m", "60":
		q.Step = 60
	case "5m", "300":
		q.Step = 300
	case "1h", "3600":
		q.Step = 3600
	default:
		return q, api.BadRequest("step must be raw, 1m, 5m, 1h or auto", "param", "step")
	}
	return q, nil
}

type topicIn struct {
	params.TopicPath
	Window
}

type groupIn struct {
	params.GroupPath
	Topic string `query:"topic" json:"-" description:"The lag on this topic only; summed over the group's topics when absent"`
	Window
}

type brokerIn struct {
	params.ClusterPath
	ID int32 `path:"id" json:"-" description:"Broker id"`
	Window
}

type clusterIn struct {
	params.ClusterPath
	Window
}
