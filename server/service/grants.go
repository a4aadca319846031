package service

import (
	"context"
	"errors"
	"time"

	"github.com/osprey-kafka/osprey/internal/ldapauth"
	"github.com/osprey-kafka/osprey/store"
)

// Grant subject kinds.
const (
	SubjectUser  = "user"
	SubjectGroup = "group"
	SubjectToken = "token"
)

// AllClusters is the cluster of a grant that holds on every cluster and for the console's own
// settings (users, grants, alerts).
const AllClusters = "*"

// RoleGrant is a role given to a user, a directory group or an API token on one cluster or all.
type RoleGrant struct {
	ID          int64     `json:"id"`
	SubjectKind string    `json:"subjectKind" enum:"user,group,token"`
	Subject     string    `json:"subject" description:"A username, a directory group (its DN or cn) or an API token's name"`
	Cluster     string    `json:"cluster" description:"A cluster's name, or * for every cluster"`
	Role        string    `json:"role" enum:"viewer,operator,admin"`
	CreatedAt   time.Time `json:"createdAt"`
}

// RoleGrants lists the grants.
func (s *Service) RoleGrants(ctx context.Context) ([]RoleGrant, error) {
	if s.opts.Store == nil {
		return nil, nil
	}
	gs, err := s.opts.Store.RoleGrants(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RoleGrant, 0, len(gs))
	for _, g := range gs {
		out = append(out, RoleGrant{ID: g.ID, SubjectKind: g.SubjectKind, Subject: g.Subject, Cluster: g.Cluster, Role: g.Role, CreatedAt: g.CreatedAt})
	}
	return out, nil
}

// AddRoleGrant stores a grant (audited); it holds from the next request on.
func (s *Service) AddRoleGrant(ctx context.Context, who Caller, in RoleGrant) (RoleGrant, error) {
	if s.opts.Store == nil {
		return RoleGrant{}, errors.New("no database")
	}
	switch in.SubjectKind {
	case SubjectUser, SubjectGroup, SubjectToken:
	default:
		return RoleGrant{}, badRequest("invalid_subject_kind", "subjectKind %q is not one of user, group, token", in.SubjectKind)
	}
	if in.Subject == "" || len(in.Subject) > 255 {
		return RoleGrant{}, badRequest("invalid_subject", "subject must be 1 to 255 characters")
	}
	if !ValidRole(in.Role) {
		return RoleGrant{}, badRequest("invalid_role", "role %q is not one of viewer, operator, admin", in.Role)
	}
	if in.Cluster != AllClusters {
		if _, err := s.get(in.Cluster); err != nil {
			return RoleGrant{}, notFound("unknown_cluster", "no cluster named %q (use * for every cluster)", in.Cluster)
		}
	}
	g := store.RoleGrant{SubjectKind: in.SubjectKind, Subject: in.Subject, Cluster: in.Cluster, Role: in.Role}
	err := s.Audited(ctx, who, "grant.create", clusterOfGrant(in.Cluster), in.SubjectKind+":"+in.Subject, in, func() error {
		if err := s.opts.Store.CreateRoleGrant(ctx, &g); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return conflict("grant_exists", "%s %q already has a grant on %q; delete it first", in.SubjectKind, in.Subject, in.Cluster)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return RoleGrant{}, err
	}
	return RoleGrant{ID: g.ID, SubjectKind: g.SubjectKind, Subject: g.Subject, Cluster: g.Cluster, Role: g.Role, CreatedAt: g.CreatedAt}, nil
}

// DeleteRoleGrant removes a grant (audited).
func (s *Service) DeleteRoleGrant(ctx context.Context, who Caller, id int64) error {
	if s.opts.Store == nil {
		return errors.New("no database")
	}
	return s.Audited(ctx, who, "grant.delete", "", "", map[string]any{"id": id}, func() error {
		if err := s.opts.Store.DeleteRoleGrant(ctx, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return notFound("grant_not_found", "no grant with id %d", id)
			}
			return err
		}
		return nil
	})
}

func clusterOfGrant(c string) string {
	if c == AllClusters {
		return ""
	}
	return c
}

// RoleOn is the caller's role on a cluster ("" for the console's own settings): the highest of its
// own role and the grants naming it, its groups or its token on that cluster or on every cluster.
// The admin token is admin everywhere. A user's grants do not extend to the user's API tokens;
// a token is granted by its name. Grants are read from the database on each call, so a change holds
// from the next request on, on every console sharing the database.
func (s *Service) RoleOn(ctx context.Context, id Identity, cluster string) string {
	if id.Kind == "admin-token" || id.Kind == "anonymous" || s.opts.Store == nil {
		return id.Role
	}
	gctx, cancel := context.WithTimeout(ctx, authLookupTimeout)
	defer cancel()
	gs, err := s.opts.Store.RoleGrants(gctx)
	if err != nil {
		s.log.Warn("reading role grants failed; using the caller's own role", "err", err)
		return id.Role
	}
	return roleFrom(gs, id, cluster)
}

// roleFrom is RoleOn over grants already read.
func roleFrom(gs []store.RoleGrant, id Identity, cluster string) string {
	if id.Kind == "admin-token" || id.Kind == "anonymous" {
		return id.Role
	}
	best := id.Role
	for _, g := range gs {
		if (g.Cluster == AllClusters || (cluster != "" && g.Cluster == cluster)) && grantNames(g, id) && roleRank[g.Role] > roleRank[best] {
			best = g.Role
		}
	}
	return best
}

// ClusterRoles is the caller's role on every cluster it has one on, for the SPA to show which
// clusters it may change.
func (s *Service) ClusterRoles(ctx context.Context, id Identity) map[string]string {
	out := map[string]string{}
	var gs []store.RoleGrant
	if s.opts.Store != nil {
		var err error
		if gs, err = s.opts.Store.RoleGrants(ctx); err != nil {
			s.log.Warn("reading role grants failed; using the caller's own role", "err", err)
		}
	}
	for _, c := range s.Clusters() {
		if r := roleFrom(gs, id, c.Name); r != "" {
			out[c.Name] = r
		}
	}
	return out
}

// grantNames reports whether a grant's subject is the caller.
func grantNames(g store.RoleGrant, id Identity) bool {
	switch g.SubjectKind {
	case SubjectUser:
		return id.Kind == "session" && g.Subject == id.Name
	case SubjectGroup:
		if id.Kind != "session" {
			return false
		}
		for _, dn := range id.Groups {
			if ldapauth.GroupMatches(g.Subject, dn) {
				return true
			}
		}
	case SubjectToken:
		return id.Kind == "api-token" && id.TokenName != "" && g.Subject == id.TokenName
	}
	return false
}

// hasGrants reports whether a role grant names the user or one of its groups; such a user may sign
// in without a console-wide role.
func (s *Service) hasGrants(ctx context.Context, username string, groups []string) bool {
	id := Identity{Name: username, Kind: "session", Groups: groups}
	gs, err := s.opts.Store.RoleGrants(ctx)
	if err != nil {
		return false
	}
	for _, g := range gs {
		if grantNames(g, id) {
			return true
		}
	}
	return false
}
