package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

func (s *Server) listUsers(c *gin.Context) {
	us, err := s.svc.Users(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(us, len(us)))
}

type createUserRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

func (s *Server) createUser(c *gin.Context) {
	var req createUserRequest
	if !bindJSON(c, &req) {
		return
	}
	var u service.UserView
	err := s.svc.Audited(c.Request.Context(), callerOf(c), "user.create", "", req.Username, req, func() error {
		var err error
		u, err = s.svc.CreateUser(c.Request.Context(), req.Username, req.Password, req.Role)
		return err
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, u)
}

type createTokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// TTL is a duration such as "720h"; empty means the token does not expire.
	TTL string `json:"ttl"`
}

// createToken issues an API token to the caller: users get tokens of their own (never above their
// role); the admin token can issue service tokens.
func (s *Server) createToken(c *gin.Context) {
	var req createTokenRequest
	if !bindJSON(c, &req) {
		return
	}
	id := identityOf(c)
	if req.Role == "" {
		req.Role = id.Role
	}
	if !service.ValidRole(req.Role) {
		writeError(c, http.StatusBadRequest, "invalid_role", "role must be viewer, operator or admin")
		return
	}
	if !service.RoleAtLeast(id.Role, req.Role) {
		writeError(c, http.StatusForbidden, "forbidden", "a token cannot have more rights than its creator ("+id.Role+")")
		return
	}
	var ttl time.Duration
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d <= 0 {
			writeError(c, http.StatusBadRequest, "bad_request", "ttl must be a positive duration such as 720h")
			return
		}
		ttl = d
	}
	var tok service.NewAPIToken
	err := s.svc.Audited(c.Request.Context(), callerOf(c), "token.create", "", req.Name, gin.H{"name": req.Name, "role": req.Role, "ttl": req.TTL}, func() error {
		var err error
		tok, err = s.svc.CreateAPIToken(c.Request.Context(), id.UserID, req.Name, req.Role, ttl)
		return err
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, tok)
}

// auditRow is an audit entry in the API's camelCase shape.
type auditRow struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	ActorKind  string    `json:"actorKind"`
	RemoteAddr string    `json:"remoteAddr"`
	Action     string    `json:"action"`
	Cluster    string    `json:"cluster"`
	Target     string    `json:"target"`
	Params     string    `json:"params"`
	Result     string    `json:"result"`
	Error      string    `json:"error"`
}

func (s *Server) listAudit(c *gin.Context) {
	limit, offset, ok := pageParams(c)
	if !ok {
		return
	}
	f := store.AuditFilter{Cluster: c.Query("cluster"), Actor: c.Query("actor"), Action: c.Query("action"), Limit: limit, Offset: offset}
	entries, total, err := s.svc.Audit(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	rows := make([]auditRow, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, auditRow{ID: e.ID, At: e.At, Actor: e.Actor, ActorKind: e.ActorKind, RemoteAddr: e.RemoteAddr,
			Action: e.Action, Cluster: e.Cluster, Target: e.Target, Params: e.Params, Result: e.Result, Error: e.Error})
	}
	c.JSON(http.StatusOK, newList(rows, int(total)))
}

// pageParams reads limit/offset (or page/pageSize) with bounds; answers 400 on bad values.
func pageParams(c *gin.Context) (limit, offset int, ok bool) {
	limit, offset = 50, 0
	num := func(key string, min, max int, dst *int) bool {
		v := c.Query(key)
		if v == "" {
			return true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			writeError(c, http.StatusBadRequest, "bad_request", key+" must be a whole number from "+strconv.Itoa(min)+" to "+strconv.Itoa(max))
			return false
		}
		*dst = n
		return true
	}
	page, size := 0, 0
	if !num("limit", 1, 1000, &limit) || !num("offset", 0, 1<<30, &offset) || !num("page", 1, 1<<20, &page) || !num("pageSize", 1, 1000, &size) {
		return 0, 0, false
	}
	if size > 0 {
		limit = size
	}
	if page > 0 {
		offset = (page - 1) * limit
	}
	return limit, offset, true
}
