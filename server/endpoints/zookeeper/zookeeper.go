// Package zookeeper serves a cluster's ZooKeeper ensemble status and a read-only znode browser.
package zookeeper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/service"
)

// Declare adds the area's endpoints.
func Declare(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/zookeeper/status", func(c *gin.Context, in *params.ClusterPath) (service.ZooKeeperStatus, error) {
			return svc.ZooKeeperStatus(in.Cluster)
		}, api.Doc("zookeeper", "ZooKeeper ensemble status (srvr/mntr/ruok)"), api.Errors(http.StatusServiceUnavailable)),

		api.Op(http.MethodGet, "/api/v1/clusters/:cluster/zookeeper/tree", func(c *gin.Context, in *treeIn) (service.ZNodeView, error) {
			return svc.ZNode(c.Request.Context(), in.Cluster, in.Path)
		}, api.Doc("zookeeper", "Browse znodes read-only"), api.Errors(http.StatusBadGateway, http.StatusServiceUnavailable)),
	)
}

type treeIn struct {
	params.ClusterPath
	Path string `query:"path" json:"-" default:"/" description:"Absolute, clean znode path relative to the cluster's chroot (default /)"`
}
