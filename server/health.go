package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/osprey-kafka/osprey/server/endpoints/health"
)

// healthOptions wire the health area (/healthz, /readyz, /metrics, /api/openapi.json) to the Server.
func (s *Server) healthOptions() health.Options {
	return health.Options{Version: s.opts.Version, Ready: s.opts.Ready, Document: s.OpenAPI, Metrics: s.metricsHandler(),
		Database: s.svc.DatabaseStatus}
}

// metricsHandler answers /metrics from the Server's own registry and the console's other metrics
// (alerting, embedded brokers).
func (s *Server) metricsHandler() http.Handler {
	x := s.ext()
	var g prometheus.Gatherer = x.reg
	if s.opts.Metrics != nil {
		g = prometheus.Gatherers{x.reg, s.opts.Metrics}
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: slogPrinter{s}})
}

type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.opts.Logger.Warn("metrics", "err", v) }
