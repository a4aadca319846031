package topicname

import (
	"strings"
	"testing"
)

// TestValidate is Kafka's Topic.validate as a table.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"orders", true},
		{"a.b_c-D9", true},
		{"...", true}, // only "." and ".." themselves are refused
		{".hidden", true},
		{"__consumer_offsets", true},
		{strings.Repeat("x", MaxLen), true},
		{"", false},
		{".", false},
		{"..", false},
		{strings.Repeat("x", MaxLen+1), false},
		{"has space", false},
		{"slash/no", false},
		{"back\\slash", false},
		{"colon:no", false},
		{"tab\tno", false},
		{"nul\x00no", false},
		{"ünï", false},
		{"emoji😀", false},
	} {
		err := Validate(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%.20q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestValidateMessages(t *testing.T) {
	for name, want := range map[string]string{
		"":                            "must not be empty",
		"..":                          `".." is not allowed`,
		strings.Repeat("x", MaxLen+1): "is 250 characters long; the limit is 249",
		"a b":                         `"a b" has characters other than letters, digits, '.', '_' and '-'`,
	} {
		if err := Validate(name); err == nil || err.Error() != want {
			t.Errorf("Validate(%.20q) = %v, want %q", name, err, want)
		}
	}
}

func TestCollides(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a.b", "a_b", true},
		{"a_b", "a.b", true},
		{"a.b_c", "a_b.c", true},
		{"a.b", "a.b", false}, // the same topic is not a collision
		{"a_b", "a_b", false},
		{"ab", "a_b", false},
		{"a.b", "a-b", false},
		{"orders", "Orders", false},
	} {
		if got := Collides(tc.a, tc.b); got != tc.want {
			t.Errorf("Collides(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	for name, want := range map[string]bool{"a.b": true, "a_b": true, "ab-c": false} {
		if got := HasCollisionChars(name); got != want {
			t.Errorf("HasCollisionChars(%q) = %v, want %v", name, got, want)
		}
	}
}
