package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/service"
)

// listQuery reads search/sort/order and paging parameters.
func listQuery(c *gin.Context) (service.ListQuery, bool) {
	limit, offset, ok := pageParams(c)
	if !ok {
		return service.ListQuery{}, false
	}
	q := service.ListQuery{Search: c.Query("search"), Sort: c.Query("sort"), Limit: limit, Offset: offset}
	switch c.DefaultQuery("order", "asc") {
	case "asc":
	case "desc":
		q.Desc = true
	default:
		writeError(c, http.StatusBadRequest, "bad_request", "order must be asc or desc")
		return q, false
	}
	if v := c.Query("internal"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(c, http.StatusBadRequest, "bad_request", "internal must be true or false")
			return q, false
		}
		q.Internal = b
	}
	return q, true
}

func (s *Server) listGroups(c *gin.Context) {
	q, ok := listQuery(c)
	if !ok {
		return
	}
	rows, total, err := s.svc.Groups(c.Param("cluster"), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(rows, total))
}

func (s *Server) getGroup(c *gin.Context) {
	d, err := s.svc.Group(c.Param("cluster"), c.Param("group"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (s *Server) resetOffsets(c *gin.Context) {
	var req service.ResetOffsetsRequest
	if !bindJSON(c, &req) {
		return
	}
	changes, err := s.svc.ResetOffsets(c.Request.Context(), callerOf(c), c.Param("cluster"), c.Param("group"), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"dryRun": req.DryRun, "items": changes, "total": len(changes)})
}

func (s *Server) deleteGroup(c *gin.Context) {
	if err := s.svc.DeleteGroup(c.Request.Context(), callerOf(c), c.Param("cluster"), c.Param("group")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
