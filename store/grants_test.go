package store

import (
	"context"
	"errors"
	"testing"
)

func TestDirectoryUsersAndRoleGrants(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateUser(ctx, &User{Username: "dave", PasswordHash: "x", Role: "admin", Source: UserSourceLocal}); err != nil {
			t.Fatal(err)
		}
		groups := `["cn=ops,dc=x"]`
		u := User{Username: "alice", PasswordHash: "!directory", Role: "viewer", Source: UserSourceLDAP, DirectoryGroups: &groups}
		if err := s.SaveDirectoryUser(ctx, &u); err != nil || u.ID == 0 {
			t.Fatalf("first sign-in: %+v %v", u, err)
		}
		again := User{Username: "alice", Role: "operator", Source: UserSourceLDAP, DirectoryGroups: &groups}
		if err := s.SaveDirectoryUser(ctx, &again); err != nil || again.ID != u.ID || again.Role != "operator" {
			t.Fatalf("second sign-in: %+v %v", again, err)
		}
		if got, _ := s.UserByName(ctx, "alice"); got.Role != "operator" || got.Source != UserSourceLDAP || *got.DirectoryGroups != groups {
			t.Fatalf("stored %+v", got)
		}
		taken := User{Username: "dave", Role: "viewer", Source: UserSourceLDAP}
		if err := s.SaveDirectoryUser(ctx, &taken); !errors.Is(err, ErrConflict) {
			t.Fatalf("directory user over a local account: %v, want ErrConflict", err)
		}
		g := RoleGrant{SubjectKind: "group", Subject: "kafka-ops", Cluster: "staging", Role: "operator"}
		if err := s.CreateRoleGrant(ctx, &g); err != nil {
			t.Fatal(err)
		}
		dup := g
		dup.ID = 0
		if err := s.CreateRoleGrant(ctx, &dup); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate grant: %v", err)
		}
		if gs, err := s.RoleGrants(ctx); err != nil || len(gs) != 1 || gs[0].Cluster != "staging" {
			t.Fatalf("grants %+v %v", gs, err)
		}
		if err := s.DeleteRoleGrant(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
	})
}
