package sasl

import (
	"errors"
	"testing"
)

func TestPlain(t *testing.T) {
	m := NewPlain(func(u string) (string, bool) {
		if u == "alice" {
			return "alice-secret", true
		}
		return "", false
	})
	for _, tc := range []struct {
		name, msg string
		ok        bool
	}{
		{"good", "\x00alice\x00alice-secret", true},
		{"authzid equal", "alice\x00alice\x00alice-secret", true},
		{"authzid other", "bob\x00alice\x00alice-secret", false},
		{"wrong password", "\x00alice\x00nope", false},
		{"unknown user", "\x00mallory\x00alice-secret", false},
		{"empty password", "\x00alice\x00", false},
		{"two fields", "alice\x00alice-secret", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := m.Start()
			out, done, err := ex.Step([]byte(tc.msg))
			if !done || len(out) != 0 {
				t.Fatalf("done=%v out=%q", done, out)
			}
			if tc.ok {
				if err != nil || ex.User() != "alice" {
					t.Fatalf("err=%v user=%q", err, ex.User())
				}
				return
			}
			if !errors.Is(err, ErrAuthentication) {
				t.Fatalf("err = %v, want ErrAuthentication", err)
			}
			if ex.User() != "" {
				t.Fatalf("user %q set after a failure", ex.User())
			}
		})
	}
}
