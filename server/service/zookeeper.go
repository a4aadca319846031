package service

import (
	"context"
	"errors"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/admin/zkstatus"
)

// ZooKeeperStatus is the ensemble as the last poll saw it.
type ZooKeeperStatus struct {
	Connected bool      `json:"connected"`
	ReadAt    time.Time `json:"readAt" description:"when the znode figures were last read: while ZooKeeper cannot be reached, the last read that reached it"`
	// UnreachableSince is set while the console cannot reach ZooKeeper.
	UnreachableSince *time.Time        `json:"unreachableSince,omitempty" description:"set while the console cannot reach ZooKeeper: the first read that failed"`
	Error            string            `json:"error,omitempty"`
	Items            []ZooKeeperServer `json:"items"`
	Total            int               `json:"total"`
}

// ZooKeeperServer is one ensemble server as its four-letter-word answers (srvr, mntr, ruok) showed it.
type ZooKeeperServer struct {
	Address      string  `json:"address"`
	OK           bool    `json:"ok"`
	Mode         string  `json:"mode,omitempty" description:"leader, follower, observer or standalone"`
	Version      string  `json:"version,omitempty"`
	AvgLatencyMs float64 `json:"avgLatencyMs"`
	MaxLatencyMs int64   `json:"maxLatencyMs"`
	Connections  int64   `json:"connections"`
	Outstanding  int64   `json:"outstanding"`
	NodeCount    int64   `json:"nodeCount"`
	Zxid         int64   `json:"zxid"`
	Error        string  `json:"error,omitempty"`
}

var errNoZooKeeper = &UserError{Status: http.StatusNotFound, Code: "no_zookeeper",
	Message: "this cluster has no ZooKeeper configured (set zookeeper: in its cluster entry)"}

// ZooKeeperStatus reports each ensemble server's state from the latest snapshot.
func (s *Service) ZooKeeperStatus(cluster string) (ZooKeeperStatus, error) {
	c, err := s.get(cluster)
	if err != nil {
		return ZooKeeperStatus{}, err
	}
	if c.spec.Admin.ZooKeeper == "" {
		return ZooKeeperStatus{}, errNoZooKeeper
	}
	snap, err := s.snapshot(cluster)
	if err != nil {
		return ZooKeeperStatus{}, err
	}
	zk := snap.Cluster.ZooKeeper
	if zk == nil {
		return ZooKeeperStatus{Items: []ZooKeeperServer{}}, nil
	}
	items := make([]ZooKeeperServer, 0, len(zk.Ensemble))
	for _, z := range zk.Ensemble {
		items = append(items, ZooKeeperServer(z))
	}
	return ZooKeeperStatus{Connected: zk.Connected, ReadAt: zk.ReadAt, UnreachableSince: zk.UnreachableSince, Error: zk.Error,
		Items: items, Total: len(items)}, nil
}

// ZNodeView is one znode for the read-only tree browser.
type ZNodeView struct {
	Path     string    `json:"path"`
	Data     Payload   `json:"data"`
	Stat     ZNodeStat `json:"stat"`
	Children []string  `json:"children"`
}

// ZNodeStat is a znode's metadata.
type ZNodeStat struct {
	Version        int32     `json:"version"`
	NumChildren    int32     `json:"numChildren"`
	DataLength     int32     `json:"dataLength"`
	EphemeralOwner int64     `json:"ephemeralOwner"`
	Ctime          time.Time `json:"ctime"`
	Mtime          time.Time `json:"mtime"`
}

// maxChildren bounds a listing: a /consumers or /brokers/topics node can have many thousands.
const maxChildren = 5000

// ZNode reads one znode (relative to the cluster's chroot) and its children. Read-only, over the
// collector's long-lived ZooKeeper session.
func (s *Service) ZNode(ctx context.Context, cluster, p string) (ZNodeView, error) {
	c, err := s.get(cluster)
	if err != nil {
		return ZNodeView{}, err
	}
	if c.spec.Admin.ZooKeeper == "" {
		return ZNodeView{}, errNoZooKeeper
	}
	if p == "" {
		p = "/"
	}
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.ContainsRune(p, 0) {
		return ZNodeView{}, badRequest("invalid_path", "path must be absolute and clean, like /brokers/ids")
	}
	zk, err := c.client.ZooKeeper()
	if err != nil {
		return ZNodeView{}, &UserError{Status: http.StatusBadGateway, Code: "zookeeper_error", Message: "cannot reach ZooKeeper", Cause: err}
	}
	// While the session has no connection and the last poll found ZooKeeper unreachable, answer at
	// once rather than wait out the deadline.
	if since := s.zkUnreachableSince(cluster); since != nil && !zk.Connected() {
		return ZNodeView{}, zkUnavailable(since, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, zkRequestTimeout)
	defer cancel()
	data, st, err := zk.Get(ctx, p)
	if admin.IsNoNode(err) {
		return ZNodeView{}, notFound("znode_not_found", "no znode at %s", p)
	}
	if err != nil {
		return ZNodeView{}, s.zkFailed(cluster, "reading "+p, err)
	}
	kids, err := zk.Children(ctx, p)
	if err != nil {
		return ZNodeView{}, s.zkFailed(cluster, "listing "+p, err)
	}
	if len(kids) > maxChildren {
		kids = kids[:maxChildren]
	}
	if kids == nil {
		kids = []string{}
	}
	return ZNodeView{Path: p, Data: payloadOf(data), Children: kids, Stat: ZNodeStat{Version: st.Version, NumChildren: st.NumChildren,
		DataLength: st.DataLength, EphemeralOwner: st.EphemeralOwner, Ctime: st.Created, Mtime: st.Modified}}, nil
}

// zkRequestTimeout bounds a request's ZooKeeper reads.
const zkRequestTimeout = 5 * time.Second

// zkFailed maps a failed ZooKeeper read: 503 zookeeper_unavailable when ZooKeeper did not answer,
// else 502 zookeeper_error.
func (s *Service) zkFailed(cluster, what string, err error) error {
	if !admin.IsZKUnavailable(err) {
		return &UserError{Status: http.StatusBadGateway, Code: "zookeeper_error", Message: what + " failed", Cause: err}
	}
	return zkUnavailable(s.zkUnreachableSince(cluster), err)
}

// zkUnavailable is the 503 for a ZooKeeper that does not answer, saying since when the collector
// has not reached it when it knows.
func zkUnavailable(since *time.Time, cause error) error {
	msg := "ZooKeeper does not answer"
	if since != nil {
		msg += " (unreachable since " + since.UTC().Format(time.RFC3339) + ")"
	}
	return &UserError{Status: http.StatusServiceUnavailable, Code: "zookeeper_unavailable", Message: msg, Cause: cause}
}

// zkUnreachableSince is when the cluster's latest snapshot says ZooKeeper became unreachable, nil
// when it does not say so.
func (s *Service) zkUnreachableSince(cluster string) *time.Time {
	snap, err := s.Snapshot(cluster)
	if err != nil || snap == nil || snap.Cluster.ZooKeeper == nil {
		return nil
	}
	return snap.Cluster.ZooKeeper.UnreachableSince
}

// zkProbeTimeout bounds probeZooKeeper: a serving server answers srvr at once.
const zkProbeTimeout = 3 * time.Second

// probeZooKeeper asks every server of a connect string for srvr and fails with 503
// zookeeper_unavailable unless one of them serves, so that a runtime cluster is not started on an
// ensemble that does not answer (its brokers would wait to register until the start times out).
func probeZooKeeper(ctx context.Context, connect string) error {
	servers, _, err := admin.ParseZKConnect(connect)
	if err != nil {
		return badRequest("invalid_zookeeper", "zookeeper %q is not a connect string: %v", connect, err)
	}
	ctx, cancel := context.WithTimeout(ctx, zkProbeTimeout)
	defer cancel()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, addr := range servers {
		wg.Go(func() { _, errs[i] = zkstatus.Srvr(ctx, addr) })
	}
	wg.Wait()
	if slices.Contains(errs, nil) {
		return nil
	}
	return &UserError{Status: http.StatusServiceUnavailable, Code: "zookeeper_unavailable",
		Message: "no server of ZooKeeper " + connect + " answers", Cause: errors.Join(errs...)}
}
