package server

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

// seriesQuery reads from/to (RFC 3339 or Unix seconds; default the last hour) and step (raw, 1m, 5m,
// 1h or auto).
func seriesQuery(c *gin.Context) (service.SeriesQuery, bool) {
	now := time.Now()
	q := service.SeriesQuery{From: now.Add(-time.Hour), To: now, Step: -1}
	parse := func(key string, dst *time.Time) bool {
		v := c.Query(key)
		if v == "" {
			return true
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			*dst = time.Unix(n, 0)
			return true
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(c, http.StatusBadRequest, "bad_request", key+" must be RFC 3339 (2026-01-02T15:04:05Z) or Unix seconds")
			return false
		}
		*dst = t
		return true
	}
	if !parse("from", &q.From) || !parse("to", &q.To) {
		return q, false
	}
	switch c.DefaultQuery("step", "auto") {
	case "auto":
	case "raw", "0":
		q.Step = 0
	case "1m", "60":
		q.Step = 60
	case "5m", "300":
		q.Step = 300
	case "1h", "3600":
		q.Step = 3600
	default:
		writeError(c, http.StatusBadRequest, "bad_request", "step must be raw, 1m, 5m, 1h or auto")
		return q, false
	}
	return q, true
}

type seriesPoint struct {
	Ts     int64              `json:"ts"`
	Values map[string]float64 `json:"values"`
}

// seriesBody is a series answer. from and to (Unix seconds) are the window asked for, which a chart's
// axis spans whatever part of it has points; step is the resolution chosen for it (the newest part may
// come at finer steps, see service.readFilled).
func seriesBody(q service.SeriesQuery, step int, pts []seriesPoint) gin.H {
	if pts == nil {
		pts = []seriesPoint{}
	}
	return gin.H{"step": step, "from": q.From.Unix(), "to": q.To.Unix(), "items": pts, "total": len(pts)}
}

func (s *Server) topicMetrics(c *gin.Context) {
	q, ok := seriesQuery(c)
	if !ok {
		return
	}
	if _, err := s.svc.Topic(c.Param("cluster"), c.Param("topic")); err != nil {
		s.fail(c, err)
		return
	}
	pts, step, err := s.svc.TopicSeries(c.Request.Context(), c.Param("cluster"), c.Param("topic"), q)
	writeSeries(s, c, q, pts, step, err, func(p store.TopicPoint) seriesPoint {
		v := map[string]float64{"endOffset": float64(p.EndOffset), "startOffset": float64(p.StartOffset),
			"msgsPerSec": p.MsgsPerSec, "bytesPerSec": p.BytesPerSec}
		if p.SizeBytes >= 0 { // -1 is "unknown": left out, so the chart shows a gap rather than -1 B
			v["sizeBytes"] = float64(p.SizeBytes)
		}
		return seriesPoint{Ts: p.Ts, Values: v}
	})
}

// groupLag answers one point per time with the group's lag summed over topics (or one topic with ?topic=).
func (s *Server) groupLag(c *gin.Context) {
	q, ok := seriesQuery(c)
	if !ok {
		return
	}
	if _, err := s.svc.Group(c.Param("cluster"), c.Param("group")); err != nil {
		s.fail(c, err)
		return
	}
	pts, step, err := s.svc.GroupSeries(c.Request.Context(), c.Param("cluster"), c.Param("group"), c.Query("topic"), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	byTs := map[int64]*seriesPoint{}
	var order []int64
	for _, p := range pts {
		sp, ok := byTs[p.Ts]
		if !ok {
			sp = &seriesPoint{Ts: p.Ts, Values: map[string]float64{}}
			byTs[p.Ts] = sp
			order = append(order, p.Ts)
		}
		sp.Values["lag"] += float64(p.Lag)
		sp.Values["lagMax"] += float64(p.LagMax)
		sp.Values["lagSeconds"] = max(sp.Values["lagSeconds"], p.LagSeconds)
		sp.Values["committed"] += float64(p.Committed)
	}
	sortInt64s(order)
	out := make([]seriesPoint, 0, len(order))
	for _, ts := range order {
		out = append(out, *byTs[ts])
	}
	c.JSON(http.StatusOK, seriesBody(q, step, out))
}

func (s *Server) brokerMetrics(c *gin.Context) {
	q, ok := seriesQuery(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 32)
	if err != nil {
		writeError(c, http.StatusBadRequest, "bad_request", "broker id must be a number")
		return
	}
	pts, step, err := s.svc.BrokerSeries(c.Request.Context(), c.Param("cluster"), int32(id), q)
	writeSeries(s, c, q, pts, step, err, func(p store.BrokerPoint) seriesPoint {
		v := map[string]float64{"up": p.Up, "leaders": float64(p.Leaders), "replicas": float64(p.Replicas),
			"msgsInPerSec": p.MsgsInPerSec, "bytesInPerSec": p.BytesInPerSec}
		if p.LogDirBytes >= 0 { // -1 is "unknown" (broker down): a gap, not -1 B
			v["logDirBytes"] = float64(p.LogDirBytes)
		}
		return seriesPoint{Ts: p.Ts, Values: v}
	})
}

func (s *Server) clusterMetrics(c *gin.Context) {
	q, ok := seriesQuery(c)
	if !ok {
		return
	}
	pts, step, err := s.svc.ClusterSeries(c.Request.Context(), c.Param("cluster"), q)
	writeSeries(s, c, q, pts, step, err, func(p store.ClusterPoint) seriesPoint {
		return seriesPoint{Ts: p.Ts, Values: map[string]float64{
			"brokers": float64(p.Brokers), "brokersUp": float64(p.BrokersUp), "topics": float64(p.Topics),
			"partitions": float64(p.Partitions), "underReplicated": float64(p.UnderReplicated), "offline": float64(p.Offline),
			"underMinIsr": float64(p.UnderMinISR), "lag": float64(p.TotalLag), "msgsPerSec": p.MsgsPerSec, "bytesPerSec": p.BytesPerSec}}
	})
}

// writeSeries answers a series read: the error mapped, or the points in the API's shape.
func writeSeries[P any](s *Server, c *gin.Context, q service.SeriesQuery, pts []P, step int, err error, point func(P) seriesPoint) {
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]seriesPoint, 0, len(pts))
	for _, p := range pts {
		out = append(out, point(p))
	}
	c.JSON(http.StatusOK, seriesBody(q, step, out))
}

func sortInt64s(s []int64) { slices.Sort(s) }
