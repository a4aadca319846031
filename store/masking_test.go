package store

import (
	"context"
	"errors"
	"testing"
)

func TestMaskingRules(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := &MaskingRule{Name: "emails", TopicPattern: "orders.*", JSONPath: "$.user.email", Action: "mask", ExemptRoles: "admin,operator"}
		if err := s.CreateMaskingRule(ctx, r); err != nil || r.ID == 0 {
			t.Fatalf("create = %v (id %d)", err, r.ID)
		}
		if err := s.CreateMaskingRule(ctx, &MaskingRule{Name: "emails", TopicPattern: "x", Regex: "y", Action: "drop"}); !errors.Is(err, ErrConflict) {
			t.Errorf("same name = %v, want ErrConflict", err)
		}
		r.Action, r.TopicRegex = "hash", true
		if err := s.SaveMaskingRule(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.MaskingRules(ctx)
		if err != nil || len(got) != 1 || got[0].Action != "hash" || !got[0].TopicRegex || got[0].JSONPath != "$.user.email" || got[0].ExemptRoles != "admin,operator" {
			t.Fatalf("rules = %+v, %v", got, err)
		}
		if err := s.DeleteMaskingRule(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteMaskingRule(ctx, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete twice = %v, want ErrNotFound", err)
		}
	})
}
