package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

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

// newStorageFormatCmd is `osprey storage format`. It is kept whole past 80
// lines because most of it is the help text, and the flags, their checks and
// the FormatOptions they fill read as one declaration; the quorum flags are
// worked out by formatVoters.
func newStorageFormatCmd() *cobra.Command {
	var (
		configPath, clusterID, initialControllers, releaseVersion string
		features, addScram                                        []string
		standalone, noInitialControllers, ignore                  bool
	)
	cmd := &cobra.Command{
		Use:   "format -t <cluster-id> -c server.properties",
		Short: "Format a KRaft node's log directories: meta.properties and the bootstrap metadata",
		Long: "Format a KRaft node's log directories (log.dirs and metadata.log.dir of the server.properties\n" +
			"file) as kafka-storage.sh format does. Each directory gets:\n" +
			"  bootstrap.checkpoint  the bootstrap metadata the first active controller writes to the\n" +
			"                        metadata log: metadata.version (default 4.0-IV3, Kafka 4.0's) and\n" +
			"                        the features on at that version (group.version, transaction.version;\n" +
			"                        share.version=1, share groups, only with --feature)\n" +
			"  meta.properties       version=1, the cluster id, node.id and a new directory.id\n" +
			"A dynamic quorum (KIP-853: --standalone or --initial-controllers) sets kraft.version 1, and the\n" +
			"metadata directory also gets the voter set as a snapshot,\n" +
			"__cluster_metadata-0/00000000000000000000-0000000000.checkpoint; there a voter's metadata\n" +
			"directory takes its directory.id from --initial-controllers. A static quorum\n" +
			"(controller.quorum.voters) takes neither --standalone nor --initial-controllers; a controller of\n" +
			"a dynamic quorum needs one of the three flags, --no-initial-controllers for one that joins later\n" +
			"(kraft.version and the voter set then come from the metadata log).\n\n" +
			"A directory formatted for another cluster or node is refused; one already formatted for this\n" +
			"cluster and node is refused unless --ignore-formatted, which leaves it as it is.\n\n" +
			"--add-scram (KIP-900) puts SCRAM users into the bootstrap metadata, so a cluster with SASL\n" +
			"SCRAM listeners starts with an admin it can authenticate: SCRAM-SHA-256=[name=admin,password=...]\n" +
			"(or salt=<base64>,saltedpassword=<base64> instead of password; iterations=4096..16384, default\n" +
			"4096). Only the salt and derived keys are written, never the password; metadata.version 3.5-IV2\n" +
			"or later.",
		Example: "  osprey storage format -t $(osprey storage random-uuid) -c server.properties\n" +
			"  osprey storage format -t <id> -c controller.properties --standalone\n" +
			"  osprey storage format -t <id> -c c1.properties \\\n" +
			"      --initial-controllers 1@c1:9093:<dir-id-1>,2@c2:9093:<dir-id-2>,3@c3:9093:<dir-id-3>\n" +
			"  osprey storage format -t <id> -c server.properties --release-version 3.9 --feature group.version=0\n" +
			"  osprey storage format -t <id> -c server.properties --add-scram 'SCRAM-SHA-256=[name=admin,password=admin-secret]'",
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
			levels, err := parseFeatureFlags(features)
			if err != nil {
				return err
			}
			scram, err := metaprops.ParseAddScram(addScram)
			if err != nil {
				return err
			}
			if len(cfg.ControllerListenerNames) == 0 {
				return fmt.Errorf("%s: controller.listener.names is not set; add it (e.g. controller.listener.names=CONTROLLER) "+
					"with a matching entry in listeners on a controller", configPath)
			}
			opts := metaprops.FormatOptions{
				ClusterID:              clusterID,
				NodeID:                 cfg.NodeID,
				Directories:            append(append([]string(nil), cfg.LogDirs...), cfg.MetadataDir()),
				MetadataLogDir:         cfg.MetadataDir(),
				IgnoreFormatted:        ignore,
				ControllerListenerName: cfg.ControllerListenerNames[0],
				ReleaseVersion:         releaseVersion,
				Features:               levels,
				Scram:                  scram,
				Out:                    cmd.OutOrStdout(),
			}
			if cfg.MetadataDir() == "" {
				return fmt.Errorf("%s: log.dirs is not set; storage format needs the directories to format", configPath)
			}
			if opts.InitialControllers, err = formatVoters(cfg, configPath, initialControllers, standalone, noInitialControllers); err != nil {
				return err
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
	f.StringVarP(&releaseVersion, "release-version", "r", "",
		"metadata.version to start at, e.g. 3.9 or 4.0-IV3 (default 4.0-IV3); other features default to its levels")
	f.StringArrayVarP(&features, "feature", "f", nil, "a feature's starting level, name=level (repeatable), e.g. group.version=0")
	f.StringArrayVarP(&addScram, "add-scram", "S", nil,
		"a SCRAM user for the bootstrap metadata (repeatable), e.g. 'SCRAM-SHA-256=[name=admin,password=admin-secret]'")
	return cmd
}

// formatVoters is the voter set storage format writes for a dynamic quorum
// (KIP-853): parsed from --initial-controllers, this controller alone for
// --standalone, or none (a static quorum, or --no-initial-controllers). It
// refuses the flags where kafka-storage.sh refuses them.
func formatVoters(cfg broker.Config, configPath, initialControllers string, standalone, noInitialControllers bool) ([]metaprops.Voter, error) {
	if initialControllers != "" || standalone {
		if len(cfg.ControllerQuorumVoters) > 0 {
			return nil, fmt.Errorf("%s sets controller.quorum.voters (a static quorum): --standalone and --initial-controllers "+
				"are for a dynamic quorum; remove controller.quorum.voters and set controller.quorum.bootstrap.servers, "+
				"or drop the flag", configPath)
		}
		// Kafka lets a broker-only node take --initial-controllers (it
		// gets the voter set too) but not --standalone.
		if standalone && !cfg.HasRole(broker.RoleController) {
			return nil, fmt.Errorf("%s: you can only use --standalone on a controller, and process.roles has none; "+
				"format a broker with --no-initial-controllers or the cluster's --initial-controllers", configPath)
		}
	}
	switch {
	case initialControllers != "":
		return metaprops.ParseVoters(initialControllers)
	case standalone:
		v, err := standaloneVoter(cfg)
		if err != nil {
			return nil, err
		}
		return []metaprops.Voter{v}, nil
	case !noInitialControllers && cfg.HasRole(broker.RoleController) && len(cfg.ControllerQuorumVoters) == 0:
		return nil, errors.New("because controller.quorum.voters is not set on this controller, you must specify one of " +
			"--standalone, --initial-controllers, or --no-initial-controllers")
	}
	return nil, nil
}

// parseFeatureFlags reads the --feature name=level flags.
func parseFeatureFlags(flags []string) (map[string]int16, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string]int16{}
	for _, f := range flags {
		name, level, ok := strings.Cut(f, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("--feature %q: want name=level, e.g. --feature group.version=1", f)
		}
		l, err := strconv.ParseInt(strings.TrimSpace(level), 10, 16)
		if err != nil || l < 0 {
			return nil, fmt.Errorf("--feature %q: the level %q is not a number from 0 to 32767", f, level)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--feature %s was given more than once", name)
		}
		out[name] = int16(l)
	}
	return out, nil
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
