package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/config/efak"
)

// defaultImportTarget is the file `osprey import` writes when no --config is given.
const defaultImportTarget = "osprey.yaml"

func newImportCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import another tool's configuration (efak)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newImportEFAKCmd(g))
	return cmd
}

func newImportEFAKCmd(g *globalFlags) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "efak <system-config.properties>",
		Short: "Import Kafka-Eagle's system-config.properties into Osprey's configuration file",
		Long: `Reads Kafka-Eagle's (EFAK's) system-config.properties (efak.* and the older kafka.eagle.* keys)
and writes what Osprey can use into the configuration file named by --config (default ./osprey.yaml,
created if missing; its other keys and comments are kept):

  efak.zk.cluster.alias      one cluster per alias, with <alias>.zk.list (chroot kept); the brokers
                             are found through ZooKeeper unless <alias>.efak.bootstrap.servers is set
  <alias>.efak.sasl.*        the cluster's SASL settings (PLAIN, SCRAM-SHA-256/512) when enabled
  <alias>.zk.acl.*           kept in the cluster's settings (Osprey does not use them yet)
  efak.topic.token           the admin token, if none is set and it has at least 16 characters
  efak.driver/url/username/password   the database (a jdbc:mysql: URL becomes a Go DSN; jdbc:sqlite: a path)
  efak.metrics.retain        retention.metrics (days)

Settings the configuration already has win. Every key is reported as imported, kept or ignored (with
why); passwords and tokens are never printed. Then: osprey serve --config <the same file>.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := g.configFile
			if target == "" {
				target = defaultImportTarget
			}
			return importEFAK(cmd.OutOrStdout(), args[0], target, dryRun)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only print what would be imported; write nothing")
	return cmd
}

// importEFAK translates the EFAK file and merges it into the target configuration file.
func importEFAK(out io.Writer, src, target string, dryRun bool) error {
	fh, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("reading the EFAK file: %w", err)
	}
	f, err := efak.Parse(fh)
	fh.Close()
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was imported)", src, err)
	}
	existing, err := os.ReadFile(target)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", target, err)
	}
	opts := config.LoadOptions{Env: os.Environ()}
	if existing != nil {
		opts.File = target
	}
	cur, err := config.Load(opts)
	if err != nil {
		return fmt.Errorf("the configuration the import would join is not valid (nothing was imported): %w", err)
	}
	res, err := efak.Translate(f, efak.ExistingFrom(cur))
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was imported)", src, err)
	}
	printAccount(out, src, target, res, dryRun)
	if dryRun {
		return nil
	}
	doc, err := efak.Merge(existing, res)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	if err := writeCheckedConfig(target, doc); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nWrote %s. Start the console with:\n\n    osprey serve --config %s\n", target, target)
	if cur.Embedded.Enabled {
		fmt.Fprintln(out, "\n(The embedded demo cluster \"local\" still starts too; set embedded.enabled: false to turn it off.)")
	}
	return nil
}

// writeCheckedConfig writes the new configuration next to the target, loads it as `osprey serve` will,
// and only then replaces the target, so a failed import leaves the old file as it was. The file can
// hold passwords: it is readable by its owner only.
func writeCheckedConfig(target string, doc []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(target), ".osprey-import-*.yaml")
	if err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(doc); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the configuration: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	if _, err := config.Load(config.LoadOptions{File: tmp.Name(), Env: os.Environ()}); err != nil {
		return fmt.Errorf("the imported configuration would not start (nothing was written): %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	return nil
}

// printAccount lists every key of the EFAK file by what became of it. Values shown are the account's,
// where secrets are already hidden.
func printAccount(out io.Writer, src, target string, res *efak.Result, dryRun bool) {
	verb := "Imported"
	if dryRun {
		verb = "Would import (dry run, nothing written)"
	}
	groups := []struct {
		status efak.Status
		title  string
	}{
		{efak.Imported, fmt.Sprintf("%s from %s into %s:", verb, src, target)},
		{efak.Stored, "Kept in the settings, not used by Osprey yet:"},
		{efak.Ignored, "Ignored:"},
	}
	for _, gr := range groups {
		var lines []string
		for _, it := range res.Items {
			if it.Status != gr.status {
				continue
			}
			l := fmt.Sprintf("  line %3d  %s", it.Line, it.Key)
			if it.Target != "" {
				l += " → " + it.Target
			}
			if it.Value != "" {
				l += " = " + it.Value
			}
			if it.Reason != "" {
				l += ": " + it.Reason
			}
			lines = append(lines, l)
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(out, "%s\n%s\n\n", gr.title, strings.Join(lines, "\n"))
	}
	names := make([]string, 0, len(res.Clusters))
	for _, c := range res.Clusters {
		names = append(names, c.Name)
	}
	fmt.Fprintf(out, "Clusters: %d (%s); database: %s; metrics retention: %s; admin token: %s\n",
		len(res.Clusters), strings.Join(names, ", "), dbSummary(res.Database), orKept(res.RetentionMetrics.String(), res.RetentionMetrics > 0),
		orKept("from efak.topic.token", res.AdminToken != ""))
}

func dbSummary(d *config.Database) string {
	if d == nil {
		return "unchanged"
	}
	return d.Driver
}

func orKept(s string, set bool) string {
	if !set {
		return "unchanged"
	}
	return s
}
