package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func (s *Server) zookeeperStatus(c *gin.Context) {
	st, err := s.svc.ZooKeeperStatus(c.Param("cluster"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (s *Server) zookeeperTree(c *gin.Context) {
	n, err := s.svc.ZNode(c.Request.Context(), c.Param("cluster"), c.DefaultQuery("path", "/"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, n)
}
