package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/osprey-kafka/osprey/broker/supervisor"
)

// newClusterCmd is `osprey cluster up|status|down`: a local cluster of
// Osprey brokers run by broker/supervisor. `up` runs in the foreground
// until Ctrl-C (or `down`); a state file in the data directory tells
// `status` and `down` what runs.
func newClusterCmd(_ *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Stand up, inspect and tear down a local Kafka-compatible cluster",
	}
	var dataDir string
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", "./data/cluster", "cluster data directory (logs, configs, state file)")

	cmd.AddCommand(newClusterUpCmd(&dataDir), newClusterStatusCmd(&dataDir), newClusterDownCmd(&dataDir))
	return cmd
}

// newClusterUpCmd is `osprey cluster up`; dataDir is the parent's
// persistent --data-dir flag, read when the command runs.
func newClusterUpCmd(dataDir *string) *cobra.Command {
	var (
		brokers     int
		controllers int
		kraft       bool
		zookeeper   string
		inProcess   bool
		basePort    int
		host        string
		properties  []string
	)
	up := &cobra.Command{
		Use:   "up",
		Short: "Start a local cluster of N brokers and run it until Ctrl-C",
		Long: "Start N brokers. With --kraft the cluster runs in KRaft mode: every broker is also a\n" +
			"controller (process.roles=broker,controller, the quorum's voters), or with --controllers M\n" +
			"the brokers are broker-only and M controller-only nodes (ids 101..100+M) form the quorum;\n" +
			"each node is formatted (`osprey storage format`) before its first start and runs as a child\n" +
			"process (`osprey broker --config <generated properties>`) unless --in-process is given.\n" +
			"Without --kraft the cluster runs in ZooKeeper mode: without --zookeeper the brokers run in\n" +
			"this process on an in-process metadata store (saved in the data directory); with\n" +
			"--zookeeper host:port[/chroot] each broker is a child process unless --in-process is given.\n" +
			"Prints the bootstrap servers and runs until interrupted or `osprey cluster down`, then\n" +
			"stops the nodes gracefully.",
		Example: "  osprey cluster up --kraft --brokers 3\n" +
			"  osprey cluster up --kraft --brokers 3 --controllers 3\n" +
			"  osprey cluster up --zookeeper 127.0.0.1:2181/osprey --brokers 3",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			props := map[string]string{}
			for _, p := range properties {
				k, v, ok := cutKV(p)
				if !ok {
					return fmt.Errorf("--property %q: want key=value", p)
				}
				props[k] = v
			}
			if kraft && zookeeper != "" {
				return errors.New("--kraft and --zookeeper: a KRaft cluster has no ZooKeeper; choose one")
			}
			if controllers != 0 && !kraft {
				return errors.New("--controllers is for KRaft clusters: add --kraft")
			}
			mode := supervisor.InProcess
			if (zookeeper != "" || kraft) && !inProcess {
				mode = supervisor.ChildProcess
			}
			if st, err := supervisor.ReadState(*dataDir); err == nil && st.SupervisorPID != os.Getpid() && supervisor.ProcessAlive(st.SupervisorPID) {
				return fmt.Errorf("a cluster is already running from %s (supervisor pid %d); use `osprey cluster down --data-dir %s`", *dataDir, st.SupervisorPID, *dataDir)
			}
			log := slog.Default()
			c, err := supervisor.New(supervisor.Options{Brokers: brokers, Mode: mode, KRaft: kraft, Controllers: controllers,
				ZooKeeper: zookeeper, DataDir: *dataDir,
				Host: host, BasePort: basePort, Properties: props, Logger: log})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			err = c.Start(startCtx)
			cancel()
			if err != nil {
				c.Close()
				return err
			}
			out := cmd.OutOrStdout()
			kind := "ZooKeeper mode"
			if kraft {
				kind = "KRaft, combined broker,controller nodes"
				if controllers > 0 {
					kind = fmt.Sprintf("KRaft, %d controllers", controllers)
				}
			}
			fmt.Fprintf(out, "cluster up: %d brokers (%s, %s)\n", brokers, kind, mode)
			fmt.Fprintf(out, "bootstrap servers: %s\n", c.BootstrapServers())
			printStatus(out, c.Status())
			<-ctx.Done()
			fmt.Fprintln(out, "stopping the cluster")
			return c.Close()
		},
	}
	up.Flags().IntVar(&brokers, "brokers", 3, "number of brokers")
	up.Flags().BoolVar(&kraft, "kraft", false, "KRaft mode: the nodes' own quorum holds the metadata (no ZooKeeper)")
	up.Flags().IntVar(&controllers, "controllers", 0, "with --kraft: M controller-only nodes (0: every broker is also a controller)")
	up.Flags().StringVar(&zookeeper, "zookeeper", "", "ZooKeeper connect string host:port[/chroot] (default: in-process store)")
	up.Flags().BoolVar(&inProcess, "in-process", false, "run the nodes in this process even with --zookeeper or --kraft")
	up.Flags().IntVar(&basePort, "base-port", 0, "broker i listens on base-port+i-1 (default: free ports, kept across runs)")
	up.Flags().StringVar(&host, "host", "127.0.0.1", "host the brokers listen on")
	up.Flags().StringArrayVar(&properties, "property", nil, "broker property key=value for every broker (repeatable)")
	return up
}

// newClusterStatusCmd is `osprey cluster status`.
func newClusterStatusCmd(dataDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the brokers of a local cluster and their state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := supervisor.ReadState(*dataDir)
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("no cluster in %s (no %s)", *dataDir, supervisor.StateFile)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			running := supervisor.ProcessAlive(st.SupervisorPID)
			fmt.Fprintf(out, "mode: %s  supervisor pid: %d (%s)\n", st.Mode, st.SupervisorPID, map[bool]string{true: "running", false: "not running"}[running])
			if st.KRaft {
				fmt.Fprintf(out, "kraft: cluster id %s\n", st.ClusterID)
			}
			if st.ZooKeeper != "" {
				fmt.Fprintf(out, "zookeeper: %s\n", st.ZooKeeper)
			}
			fmt.Fprintf(out, "bootstrap servers: %s\n", st.Bootstrap)
			for i := range st.Brokers {
				b := &st.Brokers[i]
				// The file says what the supervisor last saw; check the
				// brokers themselves.
				if b.State == supervisor.StateRunning && (!running || !supervisor.Reachable(b.Addr)) {
					b.State = "unreachable"
				}
			}
			printStatus(out, st.Brokers)
			return nil
		},
	}
}

// newClusterDownCmd is `osprey cluster down`.
func newClusterDownCmd(dataDir *string) *cobra.Command {
	var timeout time.Duration
	down := &cobra.Command{
		Use:   "down",
		Short: "Stop a local cluster started with `osprey cluster up`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := supervisor.ReadState(*dataDir)
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("no cluster in %s (no %s)", *dataDir, supervisor.StateFile)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if supervisor.ProcessAlive(st.SupervisorPID) && st.SupervisorPID != os.Getpid() {
				if err := syscall.Kill(st.SupervisorPID, syscall.SIGTERM); err != nil {
					return fmt.Errorf("signalling supervisor %d: %w", st.SupervisorPID, err)
				}
				deadline := time.Now().Add(timeout)
				for supervisor.ProcessAlive(st.SupervisorPID) {
					if time.Now().After(deadline) {
						return fmt.Errorf("supervisor %d still running after %v", st.SupervisorPID, timeout)
					}
					time.Sleep(100 * time.Millisecond)
				}
				fmt.Fprintln(out, "cluster stopped")
				return nil
			}
			// No supervisor: stop leftover child brokers directly.
			n := 0
			for _, b := range st.Brokers {
				if b.PID > 0 && b.PID != st.SupervisorPID && supervisor.ProcessAlive(b.PID) {
					_ = syscall.Kill(b.PID, syscall.SIGTERM)
					n++
				}
			}
			fmt.Fprintf(out, "supervisor not running; sent SIGTERM to %d leftover broker(s)\n", n)
			return nil
		},
	}
	down.Flags().DurationVar(&timeout, "timeout", 90*time.Second, "how long to wait for the cluster to stop")
	return down
}

func printStatus(w interface{ Write([]byte) (int, error) }, brokers []supervisor.BrokerStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLES\tSTATE\tADDRESS\tCONTROLLER LISTENER\tPID\tLOG")
	for _, b := range brokers {
		pid := "-"
		if b.PID > 0 {
			pid = fmt.Sprint(b.PID)
		}
		roles := "broker" // ZooKeeper mode
		if len(b.Roles) > 0 {
			roles = strings.Join(b.Roles, ",")
		}
		ctrl := b.ControllerAddr
		if ctrl == "" {
			ctrl = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, roles, b.State, b.Addr, ctrl, pid, b.LogPath)
	}
	tw.Flush()
}
