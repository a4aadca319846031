package metaprops

import (
	"bytes"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/sasl"
)

func TestParseAddScram(t *testing.T) {
	salt := []byte("0123456789abcdef")
	salted, err := sasl.SaltedPassword(sasl.ScramSHA512, "alice-secret", salt, 8192)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	recs, err := ParseAddScram([]string{
		"SCRAM-SHA-256=[name=admin,password=admin-secret]",
		` SCRAM-SHA-512=[name=alice,iterations=8192,salt="` + b64(salt) + `",saltedpassword="` + b64(salted) + `"]`,
		"SCRAM-SHA-512=[name=bob,salt=" + b64(salt) + ",password=bob-secret,iterations=5000]",
	})
	if err != nil {
		t.Fatal(err)
	}
	admin := recs[0].(*metadata.UserScramCredentialRecord)
	if admin.Name != "admin" || admin.Mechanism != 1 || admin.Iterations != 4096 || len(admin.Salt) == 0 {
		t.Fatalf("admin: %+v", admin)
	}
	// The record proves the password: a client deriving from the password
	// and the record's salt gets the same stored key.
	want, _ := sasl.NewCredential(sasl.ScramSHA256, "admin-secret", admin.Salt, 4096)
	if !bytes.Equal(admin.StoredKey, want.StoredKey) || !bytes.Equal(admin.ServerKey, want.ServerKey) {
		t.Fatal("admin's keys are not the password's")
	}
	alice := recs[1].(*metadata.UserScramCredentialRecord)
	want, _ = sasl.NewCredential(sasl.ScramSHA512, "alice-secret", salt, 8192)
	if alice.Mechanism != 2 || alice.Iterations != 8192 || !bytes.Equal(alice.Salt, salt) || !bytes.Equal(alice.StoredKey, want.StoredKey) {
		t.Fatalf("alice from the salted password: %+v", alice)
	}
	bob := recs[2].(*metadata.UserScramCredentialRecord)
	want, _ = sasl.NewCredential(sasl.ScramSHA512, "bob-secret", salt, 5000)
	if !bytes.Equal(bob.StoredKey, want.StoredKey) {
		t.Fatal("bob's keys")
	}

	for _, tc := range []struct{ arg, wantErr string }{
		{"SCRAM-SHA-1=[name=a,password=p]", "not supported"},
		{"SCRAM-SHA-256", "no equals sign"},
		{"SCRAM-SHA-256=name=a,password=p", "[ ]"},
		{"SCRAM-SHA-256=[password=p]", "'name'"},
		{"SCRAM-SHA-256=[name=a]", "one of 'password' or 'saltedpassword'"},
		{"SCRAM-SHA-256=[name=a,saltedpassword=c2VjcmV0]", "'salt' with 'saltedpassword'"},
		{"SCRAM-SHA-256=[name=a,password=p,iterations=4095]", "4096 to 16384"},
		{"SCRAM-SHA-256=[name=a,password=p,iterations=16385]", "4096 to 16384"},
		{"SCRAM-SHA-256=[name=a,password=p,iterations=x]", "not a number"},
		{"SCRAM-SHA-256=[name=a,password=p,colour=red]", "unknown settings: colour"},
		{"SCRAM-SHA-256=[name=a,salt=!!,password=p]", "not base64"},
		{"SCRAM-SHA-256=[name=a,salt=c2FsdA==,saltedpassword=not-b64-secret!]", "salted password is not base64"},
	} {
		_, err := ParseAddScram([]string{tc.arg})
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: %v, want %q", tc.arg, err, tc.wantErr)
			continue
		}
		for _, secret := range []string{"password=p", "not-b64-secret", "c2VjcmV0"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error repeats a secret: %v", tc.arg, err)
			}
		}
	}
}

// TestFormatAddScram: the credentials go into bootstrap.checkpoint after the
// feature levels, and are refused below metadata.version 3.5-IV2.
func TestFormatAddScram(t *testing.T) {
	recs, err := ParseAddScram([]string{"SCRAM-SHA-256=[name=admin,password=admin-secret]"})
	if err != nil {
		t.Fatal(err)
	}
	_, ds := dirs(t, "meta")
	if _, err := format(t, FormatOptions{ClusterID: clusterID, NodeID: 1, Directories: ds, MetadataLogDir: ds[0], Scram: recs}); err != nil {
		t.Fatal(err)
	}
	md, err := bootstrap.ReadFile(filepath.Join(ds[0], bootstrap.FileName))
	if err != nil {
		t.Fatal(err)
	}
	last := md.Records[len(md.Records)-1]
	if u, ok := last.(*metadata.UserScramCredentialRecord); !ok || u.Name != "admin" || !bytes.Equal(u.StoredKey, recs[0].(*metadata.UserScramCredentialRecord).StoredKey) {
		t.Fatalf("last bootstrap record %#v", last)
	}
	if _, ok := md.Records[0].(*metadata.FeatureLevelRecord); !ok {
		t.Fatal("metadata.version is not first")
	}

	_, old := dirs(t, "old")
	_, err = format(t, FormatOptions{ClusterID: clusterID, NodeID: 1, Directories: old, MetadataLogDir: old[0], Scram: recs, ReleaseVersion: "3.5-IV1"})
	if err == nil || !strings.Contains(err.Error(), "3.5-IV2") {
		t.Fatalf("3.5-IV1 with --add-scram: %v", err)
	}
}
