package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/service"
)

func (s *Server) browseMessages(c *gin.Context) {
	q := service.BrowseQuery{Mode: c.Query("mode")}
	num := func(key string, bits int) (*int64, bool) {
		v := c.Query(key)
		if v == "" {
			return nil, true
		}
		n, err := strconv.ParseInt(v, 10, bits)
		if err != nil {
			writeError(c, http.StatusBadRequest, "bad_request", key+" must be a whole number")
			return nil, false
		}
		return &n, true
	}
	p, ok := num("partition", 32)
	if !ok {
		return
	}
	if p != nil {
		pp := int32(*p)
		q.Partition = &pp
	}
	if q.Offset, ok = num("offset", 64); !ok {
		return
	}
	if q.Timestamp, ok = num("timestamp", 64); !ok {
		return
	}
	if q.Tail, ok = num("tail", 64); !ok {
		return
	}
	limit, ok := num("limit", 32)
	if !ok {
		return
	}
	if limit != nil {
		q.Limit = int(*limit)
		if q.Limit < 1 {
			writeError(c, http.StatusBadRequest, "bad_request", "limit must be at least 1")
			return
		}
	}
	msgs, err := s.svc.BrowseMessages(c.Request.Context(), c.Param("cluster"), c.Param("topic"), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(msgs, len(msgs)))
}

func (s *Server) produceMessage(c *gin.Context) {
	var req service.ProduceRequest
	if !bindJSON(c, &req) {
		return
	}
	res, err := s.svc.ProduceMessage(c.Request.Context(), callerOf(c), c.Param("cluster"), c.Param("topic"), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, res)
}

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
