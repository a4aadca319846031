package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func (s *Server) listClusters(c *gin.Context) {
	items := s.svc.Clusters()
	c.JSON(http.StatusOK, newList(items, len(items)))
}

func (s *Server) getCluster(c *gin.Context) {
	sum, err := s.svc.Cluster(c.Param("cluster"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sum)
}
