package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/internal/lifecycle"
	"github.com/osprey-kafka/osprey/server"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
	"github.com/osprey-kafka/osprey/web"
)

func newServeCmd(g *globalFlags) *cobra.Command {
	var listen, dataDir string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the console: dashboard and API on :8048 (the default command)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := map[string]string{}
			if cmd.Flags().Changed("listen") {
				flags["listen"] = listen
			}
			if cmd.Flags().Changed("data-dir") {
				flags["dataDir"] = dataDir
			}
			cfg, err := loadConfig(g, flags)
			if err != nil {
				return err
			}
			return runConsole(cmd.Context(), cmd, cfg)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "HTTP address, host:port (default \":8048\")")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "directory for the SQLite database and embedded cluster data (default \"./data\")")
	return cmd
}

// stopTimeout bounds each part's stop. It is longer than the bounds the parts keep themselves (the
// HTTP drain's 10 s, the supervised brokers' 60 s), so it only ends a stop that hangs.
const stopTimeout = 2 * time.Minute

// runConsole starts the parts of the console in dependency order, runs until ctx ends or the HTTP
// server fails, and stops them in reverse.
func runConsole(ctx context.Context, cmd *cobra.Command, cfg config.Config) error {
	log := newLogger(cmd.ErrOrStderr(), cfg.Log)
	c := &console{cfg: cfg, log: log, out: cmd.OutOrStdout(), metrics: prometheus.NewRegistry(),
		served: make(chan struct{})}
	g := &lifecycle.Group{Logger: log, StopTimeout: stopTimeout}
	// Listen first: a port in use is the most common start-up failure and should be reported before
	// anything is written.
	g.Add(lifecycle.Funcs("listener", c.listen, c.closeListener),
		lifecycle.Funcs("store", c.openStore, c.closeStore),
		lifecycle.Funcs("service", c.startService, c.stopService))
	if cfg.Embedded.Enabled && cfg.Embedded.DemoTraffic {
		g.Add(&demoTraffic{log: log, seeds: func() []string { return c.embeddedBootstrap }})
	}
	// Alerting reads the collectors' snapshots: it starts after them and stops before them.
	g.Add(lifecycle.Funcs("alerts", c.startAlerts, c.stopAlerts),
		lifecycle.Funcs("http", c.serve, c.stopServing))
	if err := g.Start(ctx); err != nil {
		return err
	}
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-c.served: // the HTTP server failed; its error comes back from its stop
	}
	err := g.Stop(context.WithoutCancel(ctx))
	log.Info("console stopped", "uptime", time.Since(start).Round(time.Second))
	return err
}

// console holds the parts of `osprey serve`; each is built by the start of the first module that
// needs it and is read only after that start.
type console struct {
	cfg     config.Config
	log     *slog.Logger
	out     io.Writer
	metrics *prometheus.Registry // alerting's notification metrics join /metrics

	ln                net.Listener
	st                *store.Store
	ev                *alert.Evaluator
	svc               *service.Service
	embeddedBootstrap []string

	// Notifications and reassignment changes go to browsers over SSE; the server exists only once
	// the "http" module starts, hence the pointer.
	httpSrv   atomic.Pointer[server.Server]
	stopServe context.CancelFunc
	served    chan struct{} // closed when Serve has returned, with serveErr set
	serveErr  error
}

func (c *console) listen(context.Context) error {
	ln, err := server.Listen(c.cfg.Listen)
	c.ln = ln
	return err
}

// closeListener closes the listener when the HTTP server never took it over (a later start failed);
// once served, the server's shutdown has closed it.
func (c *console) closeListener(context.Context) error {
	if err := c.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

func (c *console) openStore(ctx context.Context) error {
	cfg := c.cfg
	st, err := store.Open(ctx, store.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN,
		DataDir: cfg.DataDir, MaxOpenConns: cfg.Database.MaxOpenConns, Logger: c.log})
	if err != nil {
		return err
	}
	if _, err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return err
	}
	c.st = st
	return nil
}

func (c *console) closeStore(context.Context) error { return c.st.Close() }

// startService builds the alert evaluator and the service, registers the configured, embedded and
// saved runtime clusters, and starts the collectors, the retention loop and the supervised clusters
// (the service owns their order). The evaluator is built here because the service hands it each
// cluster's collector as the cluster is added; it starts later, as the "alerts" module.
func (c *console) startService(ctx context.Context) error {
	cfg, log := c.cfg, c.log
	ev, err := alert.New(alert.Options{Store: c.st, Logger: log, Registerer: c.metrics, PublicURL: cfg.PublicURL,
		OnNotify: func(n alert.Notification) {
			if s := c.httpSrv.Load(); s != nil {
				s.Publish("alert", n)
			}
		}})
	if err != nil {
		return err
	}
	c.ev = ev
	dir, err := directoryOf(cfg.Auth.LDAP)
	if err != nil {
		return err
	}
	c.svc = service.New(service.Options{
		Store:      c.st,
		Logger:     log,
		Directory:  dir,
		AllowLocal: cfg.Auth.LDAP.AllowLocal,
		OIDC:       oidcOf(cfg.Auth.OIDC),
		// Defaults (30m idle, 12h absolute) are filled in by the service for zero values.
		SessionIdle:     cfg.Auth.Session.IdleTimeout.D(),
		SessionAbsolute: cfg.Auth.Session.AbsoluteTimeout.D(),
		// With MariaDB several consoles may share the database: clusters are polled under leases, and
		// alerting follows them.
		Instance: instanceName(cfg, c.ln),
		OnLease: func(ctx context.Context, cluster string, held bool) {
			if !held {
				ev.Forget(cluster)
				return
			}
			if err := ev.TakeOver(ctx, cluster); err != nil {
				log.Warn("loading the firing alerts of a cluster taken over", "cluster", cluster, "err", err)
			}
		},
		Watch: func(_ string, col *collector.Collector) func() {
			return ev.Watch(col)
		},
		GroupStatus: func(cluster, group string) (alert.GroupStatus, bool) {
			return ev.GroupStatus(cluster, group, 0)
		},
		GroupStatuses: ev.GroupStatuses,
		// Reassignment changes go to browsers over SSE, so lists and the wizard follow the server.
		OnReassignment: func(e service.ReassignmentEvent) {
			if s := c.httpSrv.Load(); s != nil {
				s.Publish("reassignment", e)
			}
		},
		Search: service.SearchLimits{MaxRecords: cfg.Messages.Search.MaxRecords, MaxBytes: cfg.Messages.Search.MaxBytes,
			MaxDuration: cfg.Messages.Search.MaxDuration.D(), MaxResults: cfg.Messages.Search.MaxResults,
			MaxExportResults: cfg.Messages.Search.MaxExportResults, MaxConcurrent: cfg.Messages.Search.MaxConcurrent},
		Collector: collector.Config{
			OffsetsInterval: cfg.Collector.OffsetsInterval.D(),
			GroupsInterval:  cfg.Collector.GroupsInterval.D(),
			LogDirsInterval: cfg.Collector.LogDirsInterval.D(),
			StartingGrace:   cfg.Collector.StartingGrace.D(),
			CatchUpWindow:   cfg.Collector.CatchUpWindow.D(),
			FlapWindow:      cfg.Collector.FlapWindow.D(),
			StorageWindow:   cfg.Collector.StorageWindow.D(),
			CallTimeout:     cfg.Collector.RequestTimeout.D(),
			Concurrency:     cfg.Collector.Concurrency,
		},
		Retention: store.RetentionPolicy{
			Raw: cfg.Retention.Raw.D(), Minute: cfg.Retention.Minute.D(), FiveMin: cfg.Retention.FiveMin.D(),
			Hour: cfg.Retention.Metrics.D(), Audit: cfg.Retention.Audit.D(),
		},
		RetentionInterval: cfg.Retention.Interval.D(),
		DataDir:           cfg.DataDir,
	})
	if err := c.registerClusters(ctx); err != nil {
		// A failed start leaves nothing running: Stop tears down whatever was registered or
		// started, including supervised clusters.
		c.svc.Stop()
		return err
	}
	return nil
}

func (c *console) registerClusters(ctx context.Context) error {
	cfg, svc := c.cfg, c.svc
	for _, cl := range cfg.Clusters {
		if err := svc.AddCluster(ctx, service.ClusterSpec{Name: cl.Name, Source: "config", Admin: adminConfig(cl, cfg.Collector)}); err != nil {
			return err
		}
	}
	if cfg.Embedded.Enabled {
		bootstrap, err := svc.StartEmbedded(ctx, cfg.Embedded.Name, cfg.Embedded.Brokers,
			cfg.Embedded.Mode == config.EmbeddedKRaft, cfg.Collector.RequestTimeout.D())
		if err != nil {
			return err
		}
		c.embeddedBootstrap = bootstrap
	}
	svc.RestoreRuntimeClusters(ctx)
	svc.RestoreImportedClusters(ctx)
	generated, err := svc.SetupAdminToken(ctx, cfg.AdminToken)
	if err != nil {
		return err
	}
	if generated != "" {
		// Printed once, to the terminal only (never through the logger): its hash is all that is kept.
		fmt.Fprintf(c.out, "\nGenerated admin token (shown once; set adminToken / OSPREY_ADMIN_TOKEN to choose your own):\n\n    %s\n\n", generated)
	}
	return svc.Start(ctx)
}

func (c *console) stopService(context.Context) error {
	c.svc.Stop()
	return nil
}

func (c *console) startAlerts(ctx context.Context) error { return c.ev.Start(ctx) }

func (c *console) stopAlerts(context.Context) error {
	c.ev.Stop()
	return nil
}

// serve answers HTTP on the listener until stopServing.
func (c *console) serve(ctx context.Context) error {
	cfg, log, st := c.cfg, c.log, c.st
	srv := server.New(server.Options{
		Logger:         log,
		Assets:         web.Assets(),
		Service:        c.svc,
		ReadOnly:       cfg.ReadOnly,
		TrustedProxies: cfg.TrustedProxies,
		Alerts:         alert.NewService(c.ev),
		Metrics:        c.metrics,
		Version:        version,
		KafkaExporter: server.KafkaExporterOptions{Disabled: !cfg.Compat.KafkaExporter.Enabled, Path: cfg.Compat.KafkaExporter.Path,
			ClusterLabel: cfg.Compat.KafkaExporter.ClusterLabel, MaxSeries: cfg.Compat.KafkaExporter.MaxSeries},
		Burrow: server.BurrowOptions{Disabled: !cfg.Compat.Burrow.Enabled, Role: cfg.Compat.Burrow.Role, Intervals: cfg.Compat.Burrow.Intervals,
			OffsetRefresh: cfg.Collector.OffsetsInterval.D(), TopicRefresh: cfg.Collector.GroupsInterval.D()},
		Ready: func(ctx context.Context) error {
			_, _, err := st.SchemaVersion(ctx)
			return err
		},
	})
	c.httpSrv.Store(srv)
	if !web.Built() {
		log.Warn("this binary has no web interface (built without -tags spa); `make build` embeds it")
	}
	log.Info("console listening", "addr", c.ln.Addr().String(), "url", consoleURL(c.ln.Addr().String()),
		"database", cfg.Database.Driver, "clusters", len(c.svc.Clusters()))
	ctx, c.stopServe = context.WithCancel(ctx)
	go func() {
		c.serveErr = srv.Serve(ctx, c.ln)
		close(c.served)
	}()
	return nil
}

// stopServing ends Serve, which drains in-flight requests for up to 10 s, and returns its error.
func (c *console) stopServing(ctx context.Context) error {
	c.stopServe()
	select {
	case <-c.served:
		return c.serveErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// instanceName names this console in the cluster leases when several may share the database
// (MySQL/MariaDB): host, port and a random part, so a restarted console is a new holder that takes
// its clusters over once the old leases expire, and two consoles never share a name. With SQLite
// there is one console: no leases ("").
func instanceName(cfg config.Config, ln net.Listener) string {
	if cfg.Database.Driver != "mysql" {
		return ""
	}
	host, _ := os.Hostname()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s:%s-%x", host, port, b)
}

func consoleURL(addr string) string {
	if strings.HasPrefix(addr, "[::]:") || strings.HasPrefix(addr, "0.0.0.0:") {
		addr = "localhost" + addr[strings.LastIndex(addr, ":"):]
	}
	return fmt.Sprintf("http://%s/", addr)
}

// adminConfig translates a configured cluster into the admin client's settings.
func adminConfig(cl config.Cluster, col config.Collector) admin.Config {
	return service.AdminConfig(cl, col.RequestTimeout.D())
}
