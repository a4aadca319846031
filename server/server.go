// Package server is the console's HTTP side: the Gin router and handlers, health endpoints, and the
// embedded SPA. Handlers read what the collector published and what the store holds; they never call
// Kafka or the database driver directly, and a page view never makes a Kafka call (docs/API.md lists
// the few reads that must, such as the message browser).
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-kafka/osprey/alert"
	apidecl "github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/service"
)

// Options wires the server to the rest of the console.
type Options struct {
	Logger *slog.Logger
	// Assets is the SPA (web.Assets()); index.html answers every non-API path.
	Assets fs.FS
	// Service is the console's business layer; handlers call nothing else.
	Service *service.Service
	// Ready reports whether the console can serve (database migrated, collectors started); nil means ready.
	Ready func(ctx context.Context) error
	// Version is shown by /healthz.
	Version string
	// ReadOnly refuses every mutation.
	ReadOnly bool
	// Alerts is the alerting service; nil answers 503 on the alert endpoints.
	Alerts *alert.Service
	// Metrics are gathered into /metrics beside the server's own (alerting, embedded brokers).
	Metrics prometheus.Gatherer
	// KafkaExporter configures the kafka_exporter-compatible metrics (kafkaexporter.go).
	KafkaExporter KafkaExporterOptions
	// Burrow configures the Burrow-compatible /v3/kafka read API (burrow.go).
	Burrow BurrowOptions
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges, checked by the config)
	// whose forwarding headers name the client; none by default, so a client cannot pick its own
	// address for the login limiter or the audit log by sending X-Forwarded-For.
	TrustedProxies []string
}

// Server is the HTTP front of the console.
type Server struct {
	opts   Options
	svc    *service.Service
	engine *gin.Engine
	extras *extras
	reg    *apidecl.Registry
}

// New builds the router. It does no I/O.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Service == nil {
		opts.Service = service.New(service.Options{Logger: opts.Logger})
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	if err := e.SetTrustedProxies(opts.TrustedProxies); err != nil {
		// The config validated every entry; an invalid one here trusts none rather than all.
		opts.Logger.Error("ignoring trusted proxies", "err", err)
		_ = e.SetTrustedProxies(nil)
	}
	s := &Server{opts: opts, svc: opts.Service, engine: e}
	s.extras = newExtras(s)
	e.Use(s.recoverer(), s.metricsMiddleware(), s.accessLog(), securityHeaders(), s.identify())

	s.reg = declare(s)
	s.reg.Mount(e, apidecl.Hooks{Guard: s.require, Fail: s.fail})
	s.mountCompat(e)

	e.NoRoute(s.noRoute)
	e.NoMethod(func(c *gin.Context) {
		writeError(c, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})
	return s
}

// Handler is the root http.Handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.engine }

// Listen opens the console's address, turning "address already in use" into advice.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("cannot listen on %s: the port is already in use by another process; stop it or choose another address with --listen, OSPREY_LISTEN or `listen:` in the config file", addr)
		}
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Serve answers on ln until ctx ends, then drains in-flight requests for up to 10 s.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	// Event streams never end by themselves; close them when shutdown starts.
	hs.RegisterOnShutdown(s.closeEvents)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}
