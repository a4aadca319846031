package users

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/params"
	"github.com/osprey-kafka/osprey/server/service"
)

// AuditFilter selects audit entries, for the listing and the CSV export alike.
type AuditFilter struct {
	Cluster    string `query:"cluster" json:"-" description:"Only entries about this cluster"`
	Actor      string `query:"actor" json:"-" description:"Only entries by this identity (a username, token:<name> or admin-token)"`
	Action     string `query:"action" json:"-" description:"Only this action, e.g. topic.create or login"`
	Method     string `query:"method" json:"-" enum:"token,local,ldap,oidc" description:"Only entries whose actor signed in this way"`
	RemoteAddr string `query:"remoteAddr" json:"-" description:"Only entries from this source address"`
	Since      string `query:"since" json:"-" description:"Only entries at or after this time, RFC 3339 or Unix seconds"`
	Until      string `query:"until" json:"-" description:"Only entries at or before this time, RFC 3339 or Unix seconds"`
}

// Query is the service's query for the filter.
func (f AuditFilter) Query() (service.AuditQuery, error) {
	q := service.AuditQuery{Cluster: f.Cluster, Actor: f.Actor, Action: f.Action, Method: f.Method, RemoteAddr: f.RemoteAddr}
	for _, t := range []struct {
		name, v string
		dst     *time.Time
	}{{"since", f.Since, &q.Since}, {"until", f.Until, &q.Until}} {
		if t.v == "" {
			continue
		}
		if n, err := strconv.ParseInt(t.v, 10, 64); err == nil {
			*t.dst = time.Unix(n, 0)
			continue
		}
		v, err := time.Parse(time.RFC3339, t.v)
		if err != nil {
			return q, api.BadRequest(t.name+" must be RFC 3339 (2026-01-02T15:04:05Z) or Unix seconds", "param", t.name)
		}
		*t.dst = v
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return q, api.BadRequest("until is before since", "param", "until")
	}
	return q, nil
}

type auditIn struct {
	AuditFilter
	params.Page
}

// maxCSVRows bounds one export; narrow the filter for more.
const maxCSVRows = 100000

// csvPage is how many entries an export reads at a time.
const csvPage = 1000

var csvHeader = []string{"id", "at", "actor", "actorKind", "authMethod", "remoteAddr", "userAgent",
	"action", "cluster", "target", "result", "error", "params"}

func declareAudit(r *api.Registry, svc *service.Service) {
	r.Add(
		api.Op(http.MethodGet, "/api/v1/audit", func(c *gin.Context, in *auditIn) (api.List[service.AuditRow], error) {
			limit, offset, err := in.Resolve()
			if err != nil {
				return api.List[service.AuditRow]{}, err
			}
			q, err := in.Query()
			if err != nil {
				return api.List[service.AuditRow]{}, err
			}
			q.Limit, q.Offset = limit, offset
			rows, total, err := svc.Audit(c.Request.Context(), q)
			return api.NewList(rows, total), err
		}, api.Doc("auth", "Audit log (changes, refused changes and sign-ins), newest first"), api.Needs(service.RoleAdmin, "audit.read")),

		api.Raw[AuditFilter](http.MethodGet, "/api/v1/audit.csv", "text/csv", exportCSV(svc),
			api.Doc("auth", "The audit entries the filter selects as CSV, newest first (at most 100000; secrets are already *** in params)"),
			api.Needs(service.RoleAdmin, "audit.read"), api.Errors(http.StatusBadRequest)),
	)
}

// exportCSV writes the selected entries as CSV, a page at a time.
func exportCSV(svc *service.Service) gin.HandlerFunc {
	return func(c *gin.Context) {
		var f AuditFilter
		for _, p := range []struct {
			name string
			dst  *string
		}{{"cluster", &f.Cluster}, {"actor", &f.Actor}, {"action", &f.Action}, {"method", &f.Method},
			{"remoteAddr", &f.RemoteAddr}, {"since", &f.Since}, {"until", &f.Until}} {
			*p.dst = c.Query(p.name)
		}
		q, err := f.Query()
		if err == nil && f.Method != "" && !validMethod(f.Method) {
			err = api.BadRequest("method must be token, local, ldap or oidc", "param", "method")
		}
		if err != nil {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": gin.H{"code": "bad_request", "message": err.Error()}})
			return
		}
		// The first page is read before the header goes out, so a failing database is a 500, not a
		// truncated file.
		q.Limit = csvPage
		rows, total, err := svc.Audit(c.Request.Context(), q)
		if err != nil {
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": gin.H{"code": "internal", "message": "reading the audit log failed"}})
			return
		}
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="osprey-audit-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
		c.Status(http.StatusOK)
		w := csv.NewWriter(c.Writer)
		_ = w.Write(csvHeader)
		written := 0
		for len(rows) > 0 && written < maxCSVRows && written < total {
			for _, r := range rows {
				_ = w.Write([]string{strconv.FormatInt(r.ID, 10), r.At.UTC().Format(time.RFC3339Nano), cell(r.Actor), r.ActorKind,
					r.AuthMethod, cell(r.RemoteAddr), cell(r.UserAgent), cell(r.Action), cell(r.Cluster), cell(r.Target),
					r.Result, cell(r.Error), cell(r.Params)})
			}
			written += len(rows)
			// Newest first by id: entries written during the export shift offsets, so a page may
			// repeat an entry; the id column tells them apart.
			q.Offset += len(rows)
			if rows, _, err = svc.Audit(c.Request.Context(), q); err != nil {
				break
			}
		}
		w.Flush()
	}
}

func validMethod(m string) bool {
	return m == service.MethodToken || m == service.MethodLocal || m == service.MethodLDAP || m == service.MethodOIDC
}

// cell keeps a spreadsheet from reading a value as a formula (a target or user agent is chosen by
// whoever made the request): one starting with =, +, -, @, tab or CR gets a leading apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
