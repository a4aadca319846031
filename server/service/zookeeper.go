package service

import (
	"context"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/admin"
)

// ZooKeeperStatus is the ensemble as the last poll saw it.
type ZooKeeperStatus struct {
	Connected bool              `json:"connected"`
	ReadAt    time.Time         `json:"readAt"`
	Error     string            `json:"error,omitempty"`
	Items     []ZooKeeperServer `json:"items"`
	Total     int               `json:"total"`
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
	return ZooKeeperStatus{Connected: zk.Connected, ReadAt: zk.ReadAt, Error: zk.Error, Items: items, Total: len(items)}, nil
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
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	data, st, err := zk.Get(ctx, p)
	if admin.IsNoNode(err) {
		return ZNodeView{}, notFound("znode_not_found", "no znode at %s", p)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return ZNodeView{}, &UserError{Status: http.StatusGatewayTimeout, Code: "zookeeper_timeout", Message: "ZooKeeper did not answer in time", Cause: err}
		}
		return ZNodeView{}, &UserError{Status: http.StatusBadGateway, Code: "zookeeper_error", Message: "reading " + p + " failed", Cause: err}
	}
	kids, err := zk.Children(ctx, p)
	if err != nil {
		return ZNodeView{}, &UserError{Status: http.StatusBadGateway, Code: "zookeeper_error", Message: "listing " + p + " failed", Cause: err}
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
