package server

import "github.com/gin-gonic/gin"

// mountCompat mounts what stands in for the tools Osprey replaces: kafka_exporter's metric families
// on their own path (unless merged into /metrics) and Burrow's /v3/kafka read API. They keep those
// tools' own answer shapes (Prometheus text, Burrow's JSON and error envelope), so they are routes of
// their own rather than operations of the typed registry, whose errors and document are Osprey's.
func (s *Server) mountCompat(e *gin.Engine) {
	if kx := s.opts.KafkaExporter; !kx.Disabled && !kx.merged() {
		e.GET(s.ext().kx.opts.Path, s.ext().kx.handler(s))
	}
	s.mountBurrow(e)
}
