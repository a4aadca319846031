package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/config"
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

// runConsole starts the parts of the console in dependency order and stops them in reverse when ctx ends.
func runConsole(ctx context.Context, cmd *cobra.Command, cfg config.Config) error {
	log := newLogger(cmd.ErrOrStderr(), cfg.Log)

	// Listen first: a port in use is the most common start-up failure and should be reported before
	// anything is written.
	ln, err := server.Listen(cfg.Listen)
	if err != nil {
		return err
	}
	defer ln.Close()

	st, err := store.Open(ctx, store.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN,
		DataDir: cfg.DataDir, MaxOpenConns: cfg.Database.MaxOpenConns, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}

	// Alerting watches every cluster's snapshots; its notification metrics join /metrics.
	metrics := prometheus.NewRegistry()
	// Notifications also go to browsers over SSE; the server exists only later, hence the pointer.
	var httpSrv atomic.Pointer[server.Server]
	ev, err := alert.New(alert.Options{Store: st, Logger: log, Registerer: metrics, PublicURL: cfg.PublicURL,
		OnNotify: func(n alert.Notification) {
			if s := httpSrv.Load(); s != nil {
				s.Publish("alert", n)
			}
		}})
	if err != nil {
		return err
	}
	svc := service.New(service.Options{
		Store:  st,
		Logger: log,
		Watch: func(_ string, col *collector.Collector) func() {
			return ev.Watch(col)
		},
		GroupStatus: func(cluster, group string) (alert.GroupStatus, bool) {
			return ev.GroupStatus(cluster, group, 0)
		},
		GroupStatuses: ev.GroupStatuses,
		// Reassignment changes go to browsers over SSE, so lists and the wizard follow the server.
		OnReassignment: func(e service.ReassignmentEvent) {
			if s := httpSrv.Load(); s != nil {
				s.Publish("reassignment", e)
			}
		},
		Collector: collector.Config{
			OffsetsInterval: cfg.Collector.OffsetsInterval.D(),
			GroupsInterval:  cfg.Collector.GroupsInterval.D(),
			LogDirsInterval: cfg.Collector.LogDirsInterval.D(),
			StartingGrace:   cfg.Collector.StartingGrace.D(),
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
	for _, cl := range cfg.Clusters {
		if err := svc.AddCluster(ctx, service.ClusterSpec{Name: cl.Name, Source: "config", Admin: adminConfig(cl, cfg.Collector)}); err != nil {
			return err
		}
	}
	// From here on, Stop tears down whatever was started, including supervised clusters.
	defer svc.Stop()
	if cfg.Embedded.Enabled {
		bootstrap, err := svc.StartEmbedded(ctx, cfg.Embedded.Name, cfg.Embedded.Brokers, cfg.Collector.RequestTimeout.D())
		if err != nil {
			return err
		}
		if cfg.Embedded.DemoTraffic {
			demo, err := startDemoTraffic(ctx, bootstrap, log)
			if err != nil {
				log.Warn("demo traffic not started", "err", err)
			} else {
				defer demo.Stop()
			}
		}
	}
	svc.RestoreRuntimeClusters(ctx)
	generated, err := svc.SetupAdminToken(ctx, cfg.AdminToken)
	if err != nil {
		return err
	}
	if generated != "" {
		// Printed once, to the terminal only (never through the logger): its hash is all that is kept.
		fmt.Fprintf(cmd.OutOrStdout(), "\nGenerated admin token (shown once; set adminToken / OSPREY_ADMIN_TOKEN to choose your own):\n\n    %s\n\n", generated)
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	if err := ev.Start(ctx); err != nil {
		return err
	}
	defer ev.Stop() // before the collectors stop (defers run in reverse)

	srv := server.New(server.Options{
		Logger:   log,
		Assets:   web.Assets(),
		Service:  svc,
		ReadOnly: cfg.ReadOnly,
		Alerts:   alert.NewService(ev),
		Metrics:  metrics,
		Version:  version,
		Ready: func(ctx context.Context) error {
			_, _, err := st.SchemaVersion(ctx)
			return err
		},
	})
	httpSrv.Store(srv)
	if !web.Built() {
		log.Warn("this binary has no web interface (built without -tags spa); `make build` embeds it")
	}
	log.Info("console listening", "addr", ln.Addr().String(), "url", consoleURL(ln.Addr().String()),
		"database", cfg.Database.Driver, "clusters", len(svc.Clusters()))
	start := time.Now()
	err = srv.Serve(ctx, ln)
	log.Info("console stopped", "uptime", time.Since(start).Round(time.Second))
	return err
}

func consoleURL(addr string) string {
	if strings.HasPrefix(addr, "[::]:") || strings.HasPrefix(addr, "0.0.0.0:") {
		addr = "localhost" + addr[strings.LastIndex(addr, ":"):]
	}
	return fmt.Sprintf("http://%s/", addr)
}

// adminConfig translates a configured cluster into the admin client's settings.
func adminConfig(cl config.Cluster, col config.Collector) admin.Config {
	return admin.Config{
		Name:      cl.Name,
		Bootstrap: cl.BootstrapServers,
		ZooKeeper: cl.ZooKeeper,
		SASL:      admin.SASLConfig{Mechanism: cl.SASL.Mechanism, Username: cl.SASL.Username, Password: cl.SASL.Password},
		TLS: admin.TLSConfig{Enabled: cl.TLS.Enabled, CAFile: cl.TLS.CAFile, CertFile: cl.TLS.CertFile,
			KeyFile: cl.TLS.KeyFile, InsecureSkipVerify: cl.TLS.InsecureSkipVerify},
		Timeout: col.RequestTimeout.D(),
	}
}
