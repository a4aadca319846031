package zkdata

import (
	"bytes"
	"strings"
	"testing"
)

func TestScramCredentialString(t *testing.T) {
	c := ScramCredential{Salt: []byte{0xfb, 0xff}, StoredKey: []byte("stored"), ServerKey: []byte("server!"), Iterations: 4096}
	s := EncodeScramCredential(c)
	// ScramCredentialUtils.credentialToString, field by field.
	want := []string{"salt=+/8=", "stored_key=c3RvcmVk", "server_key=c2VydmVyIQ==", "iterations=4096"}
	if got := strings.Split(s, ","); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("encoded %q, want fields %q", s, want)
	}
	back, err := DecodeScramCredential("iterations=4096,server_key=c2VydmVyIQ==,salt=+/8=,stored_key=c3RvcmVk")
	if err != nil || !bytes.Equal(back.Salt, c.Salt) || !bytes.Equal(back.StoredKey, c.StoredKey) ||
		!bytes.Equal(back.ServerKey, c.ServerKey) || back.Iterations != 4096 {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	for _, bad := range []string{"", "salt=AA==", "salt=AA==,stored_key=AA==,server_key=AA==,iterations=x",
		"salt=AA==,stored_key=AA==,server_key=AA==,iterations=1,extra=1", "salt=!!,stored_key=AA==,server_key=AA==,iterations=1"} {
		if _, err := DecodeScramCredential(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestUserConfigNode: the node a user's credentials live in, byte for byte as
// Kafka's AdminZkClient writes it for kafka-configs.sh --entity-type users.
func TestUserConfigNode(t *testing.T) {
	cred := EncodeScramCredential(ScramCredential{Salt: []byte{1}, StoredKey: []byte{2}, ServerKey: []byte{3}, Iterations: 4096})
	got := string(EncodeConfig(map[string]string{"SCRAM-SHA-256": cred}))
	want := `{"version":1,"config":{"SCRAM-SHA-256":"salt=AQ==,stored_key=Ag==,server_key=Aw==,iterations=4096"}}`
	if got != want {
		t.Fatalf("node\n got %s\nwant %s", got, want)
	}
	if n := string(EncodeConfigChange(ConfigTypeUser, SanitizeEntityName("a b"))); n != `{"version":2,"entity_path":"users/a%20b"}` {
		t.Fatalf("notification %s", n)
	}
}

func TestSanitizeEntityName(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"alice", "alice"},
		{"a.b-c_d", "a.b-c_d"},
		{"user name*+", "user%20name%2A%2B"},
		{"é/=~", "%C3%A9%2F%3D%7E"},
		{"CN=x,O=y", "CN%3Dx%2CO%3Dy"},
	} {
		if got := SanitizeEntityName(tc.in); got != tc.out {
			t.Errorf("sanitize %q = %q, want %q", tc.in, got, tc.out)
		}
		if back, err := DesanitizeEntityName(tc.out); err != nil || back != tc.in {
			t.Errorf("desanitize %q = %q, %v", tc.out, back, err)
		}
	}
	if got, _ := DesanitizeEntityName("a+b"); got != "a b" {
		t.Errorf("'+' is a space for URLDecoder: %q", got)
	}
	if _, err := DesanitizeEntityName("a%2"); err == nil {
		t.Error("truncated escape accepted")
	}
	if UserConfigPath("a b") != "/config/users/a%20b" {
		t.Error(UserConfigPath("a b"))
	}
}
