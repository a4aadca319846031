package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/broker/supervisor"
	"github.com/osprey-kafka/osprey/config"
	"github.com/osprey-kafka/osprey/store"
)

// Runtime clusters are Kafka-compatible clusters the console stands up with its own broker runtime.
// Each is a supervisor.Cluster registered as a monitored cluster (source "runtime"); the embedded
// cluster is one too (source "embedded"), which the API shows but never deletes.

// runtimeCluster is one supervised cluster.
type runtimeCluster struct {
	name     string
	source   string // runtime or embedded
	store    string // local or zookeeper (ZooKeeper mode), or kraft
	zk       string
	sup      *supervisor.Cluster
	recordID int64            // store row; 0 for the embedded cluster
	sec      *runtimeSecurity // the admin credential of a secured cluster; nil when it is not secured
}

// runtimeSet holds the supervised clusters. mu guards clusters; a cluster's supervisor does its own
// locking, so broker actions run without mu.
type runtimeSet struct {
	mu       sync.Mutex
	clusters map[string]*runtimeCluster
}

// RuntimeRequest is the body of POST /runtime/clusters.
type RuntimeRequest struct {
	Name    string `json:"name" required:"true"`
	Brokers int    `json:"brokers" description:"1 to 9; 0 or absent for 3"`
	// MetadataStore is the cluster's kind: "local" (ZooKeeper mode, brokers in this process on an
	// in-process metadata store), "zookeeper" (ZooKeeper mode, brokers as child processes on a ZooKeeper
	// ensemble) or "kraft" (KRaft mode, nodes in this process).
	MetadataStore string `json:"metadataStore" enum:"local,zookeeper,kraft" description:"local (the default), zookeeper or kraft"`
	// ZooKeeper is the connect string, host:port[,host:port][/chroot], for "zookeeper".
	ZooKeeper string `json:"zookeeper" description:"ZooKeeper connect string host:port[,host:port][/chroot], for metadataStore zookeeper"`
	// Controllers (kraft only): 0 makes every broker a controller too; 1 to 5 adds that many
	// controller-only nodes (ids 101, 102, ...).
	Controllers int `json:"controllers,omitempty" description:"kraft only: 0 (every broker is also a controller) or 1 to 5 controller-only nodes"`
	// Secured brokers listen SASL_SSL (TLS with a certificate from a CA made for the cluster, then
	// SCRAM-SHA-256/512) with the ACL authorizer on; the console's generated admin user (SCRAM-SHA-512)
	// and the brokers' own user are the only super users. Any metadataStore.
	Secured bool `json:"secured,omitempty" description:"SASL_SSL listeners with a CA generated for the cluster, SCRAM-SHA-512 admin user the console connects as, ACL authorizer on; any metadataStore"`
}

// RuntimeBroker is one broker of a runtime cluster.
type RuntimeBroker struct {
	ID    int32  `json:"id"`
	State string `json:"state" enum:"starting,running,stopped,killed,failed"`
	// Roles are a KRaft node's process.roles; absent in ZooKeeper mode.
	Roles      []string  `json:"roles,omitempty" description:"KRaft process.roles (broker, controller); absent in ZooKeeper mode"`
	Addr       string    `json:"addr"`
	PID        int       `json:"pid,omitempty"`
	Controller bool      `json:"controller"`
	Since      time.Time `json:"since"`
	Error      string    `json:"error,omitempty"`
}

// RuntimeView is a runtime cluster as the API shows it.
type RuntimeView struct {
	Name          string `json:"name"`
	Source        string `json:"source" enum:"runtime,embedded"`
	MetadataStore string `json:"metadataStore" enum:"local,zookeeper,kraft"`
	ZooKeeper     string `json:"zookeeper,omitempty"`
	Bootstrap     string `json:"bootstrapServers"`
	// SecurityProtocol is the brokers' client listener: PLAINTEXT, or SASL_SSL for a secured cluster.
	SecurityProtocol string `json:"securityProtocol" enum:"PLAINTEXT,SASL_SSL"`
	// SASLMechanism is what a secured cluster's admin user signs in with.
	SASLMechanism string `json:"saslMechanism,omitempty" enum:"SCRAM-SHA-512" description:"secured clusters: the admin user's SASL mechanism"`
	// AdminUser is the super user the console connects as (secured clusters only; its password is never shown).
	AdminUser string `json:"adminUser,omitempty" description:"secured clusters: the super user the console connects as (the password is never shown)"`
	// CACertificate is a secured cluster's CA certificate (PEM): what a client trusts to connect. The
	// CA's key and the brokers' keys never leave the cluster's directory.
	CACertificate string          `json:"caCertificate,omitempty" description:"secured clusters: the PEM certificate of the CA made for the cluster, for clients to trust (public; no key)"`
	Brokers       []RuntimeBroker `json:"brokers"`
}

func (s *Service) runtimeDir(name string) string {
	return filepath.Join(s.opts.DataDir, "runtime", name)
}

// StartEmbedded stands up the console's embedded cluster, brokers in this process registered as a
// monitored cluster: with kraft, combined broker,controller nodes (logs under <dataDir>/embedded-kraft),
// else ZooKeeper mode on the in-process metadata store (logs under <dataDir>/embedded). The two kinds
// keep separate directories: a ZooKeeper-mode broker's log directory is not a KRaft node's.
func (s *Service) StartEmbedded(ctx context.Context, name string, brokers int, kraft bool, callTimeout time.Duration) (bootstrap []string, err error) {
	dir, store := "embedded", "local"
	if kraft {
		dir, store = "embedded-kraft", "kraft"
	}
	sup, err := supervisor.New(supervisor.Options{Brokers: brokers, Mode: supervisor.InProcess, KRaft: kraft,
		DataDir: filepath.Join(s.opts.DataDir, dir), Logger: s.opts.Logger.With("cluster", name),
		Properties: map[string]string{"group.initial.rebalance.delay.ms": "0", "group.share.enable": "true"}})
	if err != nil {
		return nil, fmt.Errorf("embedded cluster: %w", err)
	}
	if err := sup.Start(ctx); err != nil {
		_ = sup.Close()
		return nil, fmt.Errorf("starting the embedded cluster: %w", err)
	}
	rc := &runtimeCluster{name: name, source: "embedded", store: store, sup: sup}
	if err := s.registerRuntime(ctx, rc, callTimeout); err != nil {
		_ = sup.Close()
		return nil, err
	}
	return strings.Split(sup.BootstrapServers(), ","), nil
}

func (s *Service) registerRuntime(ctx context.Context, rc *runtimeCluster, callTimeout time.Duration) error {
	spec := ClusterSpec{Name: rc.name, Source: rc.source, Admin: admin.Config{Name: rc.name,
		Bootstrap: strings.Split(rc.sup.BootstrapServers(), ","), Timeout: callTimeout}, Cleaner: runtimeCleaner{rc.sup},
		Security: runtimeAuthStats{rc.sup}, Shares: runtimeShareStates{rc.sup}}
	if rc.sec != nil {
		spec.Admin.SASL, spec.Admin.TLS = rc.sec.clientConfig()
	}
	if rc.store == "zookeeper" {
		spec.Admin.ZooKeeper = rc.zk
	}
	if err := s.AddCluster(ctx, spec); err != nil {
		return err
	}
	s.runtime.mu.Lock()
	if s.runtime.clusters == nil {
		s.runtime.clusters = map[string]*runtimeCluster{}
	}
	s.runtime.clusters[rc.name] = rc
	s.runtime.mu.Unlock()
	return nil
}

// CreateRuntimeCluster stands up a new cluster and starts monitoring it.
func (s *Service) CreateRuntimeCluster(ctx context.Context, who Caller, req RuntimeRequest) (RuntimeView, error) {
	if err := config.ValidClusterName(req.Name); err != nil {
		return RuntimeView{}, badRequest("invalid_name", "cluster name %v", err)
	}
	if req.Brokers == 0 {
		req.Brokers = 3
	}
	if req.Brokers < 1 || req.Brokers > 9 {
		return RuntimeView{}, badRequest("invalid_brokers", "brokers must be between 1 and 9, got %d", req.Brokers)
	}
	mode := supervisor.InProcess
	if req.Controllers != 0 && req.MetadataStore != "kraft" {
		return RuntimeView{}, badRequest("invalid_controllers", "controllers is only used with metadataStore \"kraft\"")
	}
	switch req.MetadataStore {
	case "", "local", "kraft":
		if req.MetadataStore == "" {
			req.MetadataStore = "local"
		}
		if req.ZooKeeper != "" {
			return RuntimeView{}, badRequest("invalid_zookeeper", "zookeeper is only used with metadataStore \"zookeeper\"")
		}
		if req.Controllers < 0 || req.Controllers > 5 {
			return RuntimeView{}, badRequest("invalid_controllers", "controllers must be between 0 and 5, got %d", req.Controllers)
		}
	case "zookeeper":
		if req.ZooKeeper == "" {
			return RuntimeView{}, badRequest("invalid_zookeeper", "metadataStore \"zookeeper\" needs a zookeeper connect string, host:port[/chroot]")
		}
		if err := config.CheckZooKeeper(req.ZooKeeper); err != nil {
			return RuntimeView{}, badRequest("invalid_zookeeper", "zookeeper %q is not a connect string host:port[,host:port][/chroot]: %v", req.ZooKeeper, err)
		}
		if err := probeZooKeeper(ctx, req.ZooKeeper); err != nil {
			return RuntimeView{}, err
		}
		mode = supervisor.ChildProcess
	default:
		return RuntimeView{}, badRequest("invalid_metadata_store", "metadataStore must be local, zookeeper or kraft, got %q", req.MetadataStore)
	}
	if _, err := s.get(req.Name); err == nil {
		return RuntimeView{}, conflict("cluster_exists", "a cluster named %q already exists", req.Name)
	}
	if s.opts.Store == nil {
		return RuntimeView{}, errors.New("no database to record the cluster in")
	}
	var view RuntimeView
	err := s.Audited(ctx, who, "runtime.create", req.Name, req.Name, req, func() error {
		dir := s.runtimeDir(req.Name)
		rec := &store.RuntimeCluster{Name: req.Name, Brokers: req.Brokers, MetadataStore: req.MetadataStore,
			ZooKeeper: req.ZooKeeper, DataDir: dir, State: "starting"}
		if err := s.opts.Store.CreateRuntimeCluster(ctx, rec); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return conflict("cluster_exists", "a runtime cluster named %q already exists", req.Name)
			}
			return err
		}
		if req.Secured {
			if _, err := newRuntimeSecurity(dir); err != nil {
				_ = s.opts.Store.DeleteRuntimeCluster(context.WithoutCancel(ctx), rec.ID)
				_ = os.RemoveAll(dir)
				return err
			}
		}
		rc, err := s.startRuntime(ctx, rec, mode, req.Controllers)
		if err != nil {
			_ = s.opts.Store.DeleteRuntimeCluster(context.WithoutCancel(ctx), rec.ID)
			_ = os.RemoveAll(dir)
			return &UserError{Status: http.StatusInternalServerError, Code: "start_failed", Message: "the cluster did not start; the console's log has the details", Cause: err}
		}
		view = s.runtimeView(rc)
		return nil
	})
	return view, err
}

// startRuntime starts a recorded cluster; controllers is a KRaft cluster's number of controller-only
// nodes (kept in the supervisor's state file, not in the database).
func (s *Service) startRuntime(ctx context.Context, rec *store.RuntimeCluster, mode supervisor.Mode, controllers int) (*runtimeCluster, error) {
	sec, err := readRuntimeSecurity(rec.DataDir)
	if err != nil {
		return nil, err
	}
	opts := supervisor.Options{Brokers: rec.Brokers, Mode: mode, ZooKeeper: rec.ZooKeeper,
		KRaft: rec.MetadataStore == "kraft", Controllers: controllers,
		DataDir: rec.DataDir, Binary: s.opts.Binary, Logger: s.opts.Logger.With("cluster", rec.Name)}
	if sec != nil {
		if err := sec.supervise(&opts); err != nil {
			return nil, err
		}
	}
	sup, err := supervisor.New(opts)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := sup.Start(sctx); err != nil {
		_ = sup.Close()
		return nil, err
	}
	rc := &runtimeCluster{name: rec.Name, source: "runtime", store: rec.MetadataStore, zk: rec.ZooKeeper, sup: sup, recordID: rec.ID, sec: sec}
	if err := s.registerRuntime(ctx, rc, 0); err != nil {
		_ = sup.Close()
		return nil, err
	}
	rec.State = "running"
	if err := s.opts.Store.UpdateRuntimeCluster(ctx, rec); err != nil {
		s.log.Warn("recording runtime cluster state", "cluster", rec.Name, "err", err)
	}
	return rc, nil
}

// RestoreRuntimeClusters starts again the runtime clusters recorded in the database (the console was
// restarted); one that fails is logged and skipped.
func (s *Service) RestoreRuntimeClusters(ctx context.Context) {
	if s.opts.Store == nil {
		return
	}
	recs, err := s.opts.Store.RuntimeClusters(ctx)
	if err != nil {
		s.log.Warn("reading runtime clusters", "err", err)
		return
	}
	for i := range recs {
		rec := &recs[i]
		mode := supervisor.InProcess
		if rec.MetadataStore == "zookeeper" {
			mode = supervisor.ChildProcess
		}
		controllers := 0
		if st, err := supervisor.ReadState(rec.DataDir); err == nil {
			controllers = st.Controllers
		}
		if _, err := s.startRuntime(ctx, rec, mode, controllers); err != nil {
			s.log.Warn("runtime cluster not restarted", "cluster", rec.Name, "err", err)
		}
	}
}

func (s *Service) runtimeCluster(name string) (*runtimeCluster, error) {
	s.runtime.mu.Lock()
	defer s.runtime.mu.Unlock()
	rc, ok := s.runtime.clusters[name]
	if !ok {
		return nil, notFound("runtime_cluster_not_found", "no runtime cluster named %q", name)
	}
	return rc, nil
}

// RuntimeClusters lists the supervised clusters by name.
func (s *Service) RuntimeClusters() []RuntimeView {
	s.runtime.mu.Lock()
	list := make([]*runtimeCluster, 0, len(s.runtime.clusters))
	for _, rc := range s.runtime.clusters {
		list = append(list, rc)
	}
	s.runtime.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	out := make([]RuntimeView, 0, len(list))
	for _, rc := range list {
		out = append(out, s.runtimeView(rc))
	}
	return out
}

// RuntimeCluster returns one supervised cluster.
func (s *Service) RuntimeCluster(name string) (RuntimeView, error) {
	rc, err := s.runtimeCluster(name)
	if err != nil {
		return RuntimeView{}, err
	}
	return s.runtimeView(rc), nil
}

func (s *Service) runtimeView(rc *runtimeCluster) RuntimeView {
	v := RuntimeView{Name: rc.name, Source: rc.source, MetadataStore: rc.store, ZooKeeper: rc.zk,
		Bootstrap: rc.sup.BootstrapServers(), SecurityProtocol: "PLAINTEXT", Brokers: []RuntimeBroker{}}
	if rc.sec != nil {
		v.SecurityProtocol, v.AdminUser, v.SASLMechanism = runtimeListener, rc.sec.User, runtimeMechanism
		if pem, err := os.ReadFile(rc.sec.pki.caFile()); err == nil {
			v.CACertificate = string(pem)
		}
	}
	controller := int32(-1)
	if snap, err := s.Snapshot(rc.name); err == nil && snap != nil {
		controller = snap.Cluster.Controller
	}
	for _, b := range rc.sup.Status() {
		v.Brokers = append(v.Brokers, RuntimeBroker{ID: b.ID, State: string(b.State), Roles: b.Roles, Addr: b.Addr, PID: b.PID,
			Controller: b.ID == controller && b.State == supervisor.StateRunning, Since: b.Since, Error: b.Error})
	}
	return v
}

// BrokerAction starts, stops (gracefully), kills or restarts one broker of a runtime cluster, then
// re-polls the cluster so the next view shows the effect.
func (s *Service) BrokerAction(ctx context.Context, who Caller, name string, id int32, action string) (RuntimeView, error) {
	rc, err := s.runtimeCluster(name)
	if err != nil {
		return RuntimeView{}, err
	}
	known := false
	for _, b := range rc.sup.Status() {
		known = known || b.ID == id
	}
	if !known {
		return RuntimeView{}, notFound("broker_not_found", "cluster %s has no broker %d", name, id)
	}
	var do func(context.Context) error
	switch action {
	case "start":
		do = func(ctx context.Context) error { return rc.sup.StartBroker(ctx, id) }
	case "stop":
		do = func(ctx context.Context) error { return rc.sup.StopBroker(ctx, id) }
	case "kill":
		do = func(context.Context) error { return rc.sup.KillBroker(id) }
	case "restart":
		do = func(ctx context.Context) error { return rc.sup.RestartBroker(ctx, id) }
	default:
		return RuntimeView{}, badRequest("invalid_action", "action must be start, stop, kill or restart, got %q", action)
	}
	err = s.Audited(ctx, who, "runtime.broker."+action, name, fmt.Sprintf("broker %d", id), nil, func() error {
		actx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := do(actx); err != nil {
			return conflict("broker_action_failed", "%s broker %d: %v", action, id, err)
		}
		return nil
	})
	if err != nil {
		return RuntimeView{}, err
	}
	if c, err := s.get(name); err == nil {
		s.repoll(ctx, c)
	}
	return s.runtimeView(rc), nil
}

// DeleteRuntimeCluster stops a runtime cluster, forgets it and removes its data. The embedded
// cluster cannot be deleted (turn it off with embedded.enabled: false).
func (s *Service) DeleteRuntimeCluster(ctx context.Context, who Caller, name string) error {
	rc, err := s.runtimeCluster(name)
	if err != nil {
		return err
	}
	if rc.source == "embedded" {
		return &UserError{Status: http.StatusForbidden, Code: "embedded_cluster", Message: "the embedded cluster cannot be deleted; set embedded.enabled: false to run without it"}
	}
	return s.Audited(ctx, who, "runtime.delete", name, name, nil, func() error {
		s.runtime.mu.Lock()
		delete(s.runtime.clusters, name)
		s.runtime.mu.Unlock()
		if err := s.RemoveCluster(name); err != nil && !errors.Is(err, ErrUnknownCluster) {
			s.log.Warn("removing runtime cluster from monitoring", "cluster", name, "err", err)
		}
		if err := rc.sup.Close(); err != nil {
			s.log.Warn("stopping runtime cluster", "cluster", name, "err", err)
		}
		if rc.recordID != 0 {
			if err := s.opts.Store.DeleteRuntimeCluster(ctx, rc.recordID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return os.RemoveAll(s.runtimeDir(name))
	})
}

// stopRuntime stops every supervised cluster (console shutdown); they start again with the console.
func (s *Service) stopRuntime() {
	s.runtime.mu.Lock()
	list := make([]*runtimeCluster, 0, len(s.runtime.clusters))
	for _, rc := range s.runtime.clusters {
		list = append(list, rc)
	}
	s.runtime.clusters = nil
	s.runtime.mu.Unlock()
	var wg sync.WaitGroup
	for _, rc := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rc.sup.Close(); err != nil {
				s.log.Warn("stopping runtime cluster", "cluster", rc.name, "err", err)
			}
		}()
	}
	wg.Wait()
}
