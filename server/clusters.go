package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// ClusterSummary is a cluster row of the API. Figures are pointers: null until the collector has
// polled the cluster, so the UI can tell "unknown" from zero.
type ClusterSummary struct {
	Name             string     `json:"name"`
	BootstrapServers []string   `json:"bootstrapServers"`
	ZooKeeper        string     `json:"zookeeper"`
	Embedded         bool       `json:"embedded"`
	Brokers          *int       `json:"brokers"`
	Topics           *int       `json:"topics"`
	Partitions       *int       `json:"partitions"`
	UnderReplicated  *int       `json:"underReplicated"`
	Offline          *int       `json:"offline"`
	Controller       *int32     `json:"controller"`
	LastPoll         *time.Time `json:"lastPoll"`
}

// Catalog lists the clusters the console knows, with their latest figures. Implementations answer from
// memory: they must not call Kafka or block on I/O.
type Catalog interface {
	Clusters() []ClusterSummary
}

// StaticCatalog is a fixed list, for configurations without a collector and for tests.
type StaticCatalog []ClusterSummary

// Clusters returns the list.
func (s StaticCatalog) Clusters() []ClusterSummary { return s }

func (s *Server) listClusters(c *gin.Context) {
	var items []ClusterSummary
	if s.opts.Catalog != nil {
		items = s.opts.Catalog.Clusters()
	}
	c.JSON(http.StatusOK, newList(items, len(items)))
}

func (s *Server) getCluster(c *gin.Context) {
	name := c.Param("cluster")
	if s.opts.Catalog != nil {
		for _, cl := range s.opts.Catalog.Clusters() {
			if cl.Name == name {
				c.JSON(http.StatusOK, cl)
				return
			}
		}
	}
	writeError(c, http.StatusNotFound, "cluster_not_found", "no cluster named "+quote(name))
}
