package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/osprey-kafka/osprey/broker"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
)

// newStorageCmd is `osprey storage`, the counterpart of Apache Kafka's
// kafka-storage.sh for KRaft nodes: random-uuid makes a cluster id, format
// writes meta.properties in each log directory before a node's first start.
func newStorageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "storage",
		Short: "Prepare a KRaft node's log directories (kafka-storage.sh)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "random-uuid",
		Short: "Print a new cluster id (a Kafka Uuid) for storage format -t",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := metadata.RandomUuid(nil)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), u)
			return nil
		},
	}, newStorageFormatCmd())
	return cmd
}

func newStorageFormatCmd() *cobra.Command {
	var (
		configPath, clusterID, initialControllers string
		standalone, noInitialControllers, ignore  bool
	)
	cmd := &cobra.Command{
		Use:   "format -t <cluster-id> -c server.properties",
		Short: "Write meta.properties in every log directory of a KRaft node",
		Long: "Format a KRaft node's log directories (log.dirs and metadata.log.dir of the server.properties\n" +
			"file) as kafka-storage.sh format does: each gets a meta.properties with version=1, the cluster\n" +
			"id, node.id and a new directory.id. A directory formatted for another cluster or node is\n" +
			"refused; one already formatted for this cluster and node is refused unless --ignore-formatted.\n\n" +
			"The bootstrap metadata (bootstrap.checkpoint, and the voter-set snapshot of a dynamic quorum)\n" +
			"is not written.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return errors.New("-c/--config: the node's server.properties is required")
			}
			if clusterID == "" {
				return errors.New("-t/--cluster-id is required: make one with `osprey storage random-uuid` and use it on every node")
			}
			if standalone && initialControllers != "" || noInitialControllers && (standalone || initialControllers != "") {
				return errors.New("use only one of --standalone, --initial-controllers and --no-initial-controllers")
			}
			cfg, err := loadBrokerProperties(configPath)
			if err != nil {
				return err
			}
			if !cfg.KRaft() {
				return fmt.Errorf("%s has no process.roles: it is a ZooKeeper-mode file, and formatting is only for KRaft "+
					"nodes (a ZooKeeper-mode broker writes its meta.properties itself on first start)", configPath)
			}
			opts := metaprops.FormatOptions{
				ClusterID:       clusterID,
				NodeID:          cfg.NodeID,
				Directories:     append(append([]string(nil), cfg.LogDirs...), cfg.MetadataDir()),
				MetadataLogDir:  cfg.MetadataDir(),
				IgnoreFormatted: ignore,
				Out:             cmd.OutOrStdout(),
			}
			if cfg.MetadataDir() == "" {
				return fmt.Errorf("%s: log.dirs is not set; storage format needs the directories to format", configPath)
			}
			if initialControllers != "" || standalone {
				if len(cfg.ControllerQuorumVoters) > 0 {
					return fmt.Errorf("%s sets controller.quorum.voters (a static quorum): --standalone and --initial-controllers "+
						"are for a dynamic quorum; remove controller.quorum.voters and set controller.quorum.bootstrap.servers, "+
						"or drop the flag", configPath)
				}
				if !cfg.HasRole(broker.RoleController) {
					return fmt.Errorf("%s: process.roles has no controller; --standalone and --initial-controllers are for controllers", configPath)
				}
			}
			switch {
			case initialControllers != "":
				if opts.InitialControllers, err = metaprops.ParseVoters(initialControllers); err != nil {
					return err
				}
			case standalone:
				v, err := standaloneVoter(cfg)
				if err != nil {
					return err
				}
				opts.InitialControllers = []metaprops.Voter{v}
			case !noInitialControllers && cfg.HasRole(broker.RoleController) && len(cfg.ControllerQuorumVoters) == 0:
				return errors.New("because controller.quorum.voters is not set on this controller, you must specify one of " +
					"--standalone, --initial-controllers, or --no-initial-controllers")
			}
			return metaprops.Format(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&configPath, "config", "c", "", "the node's server.properties")
	f.StringVarP(&clusterID, "cluster-id", "t", "", "the cluster id (osprey storage random-uuid)")
	f.BoolVarP(&ignore, "ignore-formatted", "g", false, "skip directories already formatted for this cluster and node")
	f.BoolVarP(&standalone, "standalone", "s", false, "dynamic quorum (KIP-853) whose only voter is this controller")
	f.StringVarP(&initialControllers, "initial-controllers", "I", "", "dynamic quorum voters: id@host:port:directory-id,...")
	f.BoolVarP(&noInitialControllers, "no-initial-controllers", "N", false, "dynamic quorum, this controller joins later as an observer")
	return cmd
}

// standaloneVoter is this controller as the only voter, at its first
// controller listener (host localhost when the listener has none), with a
// new directory id, as kafka-storage.sh --standalone does.
func standaloneVoter(cfg broker.Config) (metaprops.Voter, error) {
	if len(cfg.ControllerListeners) == 0 {
		return metaprops.Voter{}, errors.New("--standalone: listeners has no controller listener (one named in controller.listener.names)")
	}
	host, port, err := broker.ListenerHostPort(cfg.ControllerListeners[0])
	if err != nil {
		return metaprops.Voter{}, err
	}
	if host == "" {
		host = "localhost"
	}
	dir, err := metadata.RandomDirectoryID(nil)
	if err != nil {
		return metaprops.Voter{}, err
	}
	return metaprops.Voter{ID: cfg.NodeID, Host: host, Port: port, DirectoryID: dir}, nil
}

// loadBrokerProperties reads a server.properties file into a broker.Config.
func loadBrokerProperties(path string) (broker.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return broker.Config{}, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	props, err := broker.ReadProperties(f)
	if err != nil {
		return broker.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := broker.ConfigFromProperties(props, slog.Default())
	if err != nil {
		return broker.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}
