package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/config/efak"
)

// settingImportedClusters holds, as JSON, the clusters imported from EFAK through the console, so
// that the next start registers them again. It can hold SASL passwords, as alert channels' settings do.
const settingImportedClusters = "imported_clusters"

// SourceImported marks clusters imported from EFAK's configuration through the console.
const SourceImported = "imported"

// EFAKImport is the outcome of an EFAK import (or of its dry run).
type EFAKImport struct {
	DryRun   bool              `json:"dryRun"`
	Clusters []EFAKCluster     `json:"clusters"`
	Items    []efak.ImportItem `json:"items"`
}

// EFAKCluster is one cluster an import adds, as the preview shows it (no secrets).
type EFAKCluster struct {
	Name             string   `json:"name"`
	ZooKeeper        string   `json:"zookeeper"`
	BootstrapServers []string `json:"bootstrapServers"`
	SASLMechanism    string   `json:"saslMechanism" description:"Empty when the cluster uses no SASL"`
	TLS              bool     `json:"tls"`
	ZooKeeperACL     bool     `json:"zookeeperAcl" description:"ZooKeeper ACL settings were kept (not used yet)"`
}

// ImportEFAK reads Kafka-Eagle's system-config.properties and, unless dryRun, adds its clusters to the
// running console (kept in the database, registered again at the next start). The database, the
// metrics retention and the admin token are only reported here: they belong to the configuration file
// the console started with (`osprey import efak`). A file that cannot be read is refused with its line.
func (s *Service) ImportEFAK(ctx context.Context, who Caller, content string, dryRun bool) (EFAKImport, error) {
	f, err := efak.Parse(strings.NewReader(content))
	if err != nil {
		return EFAKImport{}, efakError(err)
	}
	res, err := efak.Translate(f, efak.Existing{Clusters: s.clusterNames()})
	if err != nil {
		return EFAKImport{}, efakError(err)
	}
	out := EFAKImport{DryRun: dryRun, Items: res.Items, Clusters: []EFAKCluster{}}
	for i, it := range out.Items {
		if it.Status == efak.Imported && (strings.HasPrefix(it.Target, "database") || it.Target == "retention.metrics" || it.Target == "adminToken") {
			out.Items[i].Status = efak.Ignored
			out.Items[i] = out.Items[i].Because("console_only")
		}
	}
	names := make([]string, 0, len(res.Clusters))
	for _, c := range res.Clusters {
		names = append(names, c.Name)
		out.Clusters = append(out.Clusters, EFAKCluster{Name: c.Name, ZooKeeper: c.ZooKeeper, BootstrapServers: append([]string{}, c.BootstrapServers...),
			SASLMechanism: c.SASL.Mechanism, TLS: c.TLS.Enabled, ZooKeeperACL: c.ZooKeeperACL.Enabled})
	}
	if dryRun || len(res.Clusters) == 0 {
		return out, nil
	}
	if s.opts.Store == nil {
		return out, &UserError{Status: http.StatusServiceUnavailable, Code: "no_database", Message: "this console has no database to keep imported clusters in"}
	}
	params := map[string]any{"clusters": names, "keys": len(res.Items)}
	err = s.Audited(ctx, who, "cluster.import.efak", "", strings.Join(names, ","), params, func() error {
		return s.addImported(ctx, res.Clusters)
	})
	return out, err
}

func efakError(err error) error {
	var pe *efak.ParseError
	if errors.As(err, &pe) {
		return (&UserError{Status: http.StatusBadRequest, Code: "efak_unreadable",
			Message: fmt.Sprintf("the file cannot be imported: %s", pe.Error())}).with("line", pe.Line, "reason", pe.Msg)
	}
	return &UserError{Status: http.StatusBadRequest, Code: "efak_unreadable", Message: "the file cannot be imported: " + err.Error()}
}

// addImported registers the clusters and records them, one by one, so that a failure leaves the
// clusters added before it both running and recorded.
func (s *Service) addImported(ctx context.Context, cls []config.Cluster) error {
	for _, c := range cls {
		if err := s.AddCluster(ctx, ClusterSpec{Name: c.Name, Source: SourceImported, Admin: AdminConfig(c, s.opts.Collector.CallTimeout)}); err != nil {
			return fmt.Errorf("adding cluster %s: %w", c.Name, err)
		}
		saved, err := s.importedClusters(ctx)
		if err != nil {
			return err
		}
		saved = append(saved, c)
		b, err := json.Marshal(saved)
		if err != nil {
			return fmt.Errorf("recording imported clusters: %w", err)
		}
		if err := s.opts.Store.SetSetting(ctx, settingImportedClusters, string(b)); err != nil {
			return fmt.Errorf("recording imported clusters: %w", err)
		}
	}
	return nil
}

func (s *Service) importedClusters(ctx context.Context) ([]config.Cluster, error) {
	v, ok, err := s.opts.Store.Setting(ctx, settingImportedClusters)
	if err != nil || !ok {
		return nil, err
	}
	var cls []config.Cluster
	if err := json.Unmarshal([]byte(v), &cls); err != nil {
		return nil, fmt.Errorf("reading imported clusters: %w", err)
	}
	return cls, nil
}

// RestoreImportedClusters registers the clusters imported through the console before. A name the
// configuration now uses as well is left to the configuration (with a warning).
func (s *Service) RestoreImportedClusters(ctx context.Context) {
	if s.opts.Store == nil {
		return
	}
	cls, err := s.importedClusters(ctx)
	if err != nil {
		s.log.Warn("imported clusters not restored", "err", err)
		return
	}
	known := map[string]bool{}
	for _, n := range s.clusterNames() {
		known[n] = true
	}
	for _, c := range cls {
		if known[c.Name] {
			s.log.Warn("an imported cluster has the name of a configured one; the configured one is used", "cluster", c.Name)
			continue
		}
		if err := s.AddCluster(ctx, ClusterSpec{Name: c.Name, Source: SourceImported, Admin: AdminConfig(c, s.opts.Collector.CallTimeout)}); err != nil {
			s.log.Warn("imported cluster not restored", "cluster", c.Name, "err", err)
		}
	}
}

func (s *Service) clusterNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.clusters))
	for n := range s.clusters {
		names = append(names, n)
	}
	return names
}

// AdminConfig translates a configured cluster into the admin client's settings.
func AdminConfig(cl config.Cluster, timeout time.Duration) admin.Config {
	return admin.Config{
		Name:      cl.Name,
		Bootstrap: cl.BootstrapServers,
		ZooKeeper: cl.ZooKeeper,
		SASL:      admin.SASLConfig{Mechanism: cl.SASL.Mechanism, Username: cl.SASL.Username, Password: cl.SASL.Password},
		TLS: admin.TLSConfig{Enabled: cl.TLS.Enabled, CAFile: cl.TLS.CAFile, CertFile: cl.TLS.CertFile,
			KeyFile: cl.TLS.KeyFile, InsecureSkipVerify: cl.TLS.InsecureSkipVerify},
		Timeout: timeout,
	}
}
