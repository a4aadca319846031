package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// internalParam reads ?internal=true|false: whether topic totals include internal topics (false
// when absent, the rule the topics list follows too).
func internalParam(c *gin.Context) (bool, bool) {
	v := c.Query("internal")
	if v == "" {
		return false, true
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		writeError(c, http.StatusBadRequest, "bad_request", "internal must be true or false")
		return false, false
	}
	return b, true
}

func (s *Server) listClusters(c *gin.Context) {
	internal, ok := internalParam(c)
	if !ok {
		return
	}
	items := s.svc.ClusterSummaries(internal)
	c.JSON(http.StatusOK, newList(items, len(items)))
}

func (s *Server) getCluster(c *gin.Context) {
	internal, ok := internalParam(c)
	if !ok {
		return
	}
	sum, err := s.svc.ClusterSummary(c.Param("cluster"), internal)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sum)
}
