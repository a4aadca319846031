package controller

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/sasl"
)

func upsert(t *testing.T, user string, mech int8, password string, iterations int32) kmsg.AlterUserSCRAMCredentialsRequestUpsertion {
	t.Helper()
	u := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
	u.Name, u.Mechanism, u.Iterations, u.Salt = user, mech, iterations, []byte("salt-"+user)
	if name := sasl.ScramMechanismName(mech); name != "" && iterations > 0 {
		sp, err := sasl.SaltedPassword(name, password, u.Salt, int(iterations))
		if err != nil {
			t.Fatal(err)
		}
		u.SaltedPassword = sp
	} else {
		u.SaltedPassword = []byte("x")
	}
	return u
}

func deletion(user string, mech int8) kmsg.AlterUserSCRAMCredentialsRequestDeletion {
	d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
	d.Name, d.Mechanism = user, mech
	return d
}

func scramCodes(resp kmsg.Response) map[string]int16 {
	out := map[string]int16{}
	for _, r := range resp.(*kmsg.AlterUserSCRAMCredentialsResponse).Results {
		out[r.User] = r.ErrorCode
	}
	return out
}

func TestAlterUserScram(t *testing.T) {
	h := newHarness(t, testConfig(), 0)
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	req.Upsertions = append(req.Upsertions,
		upsert(t, "alice", 1, "alice-pw", 4096),
		upsert(t, "alice", 2, "alice-pw", 8192),
		upsert(t, "few", 1, "pw", 4095),
		upsert(t, "many", 1, "pw", 16385),
		upsert(t, "", 1, "pw", 4096),
		upsert(t, "mech", 3, "pw", 4096),
		upsert(t, "twice", 1, "pw", 4096), upsert(t, "twice", 1, "pw2", 4096),
	)
	req.Deletions = append(req.Deletions, deletion("ghost", 1))
	resp, recs := h.handle(req)
	want := map[string]int16{
		"alice": 0,
		"few":   kerr.UnacceptableCredential.Code, "many": kerr.UnacceptableCredential.Code, "": kerr.UnacceptableCredential.Code,
		"mech":  kerr.UnsupportedSaslMechanism.Code,
		"twice": kerr.DuplicateResource.Code,
		"ghost": kerr.ResourceNotFound.Code,
	}
	got := scramCodes(resp)
	if len(got) != len(want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	for u, code := range want {
		if got[u] != code {
			t.Errorf("user %q: code %d, want %d", u, got[u], code)
		}
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want alice's two", len(recs))
	}
	// The stored key is H(HMAC(salted, "Client Key")): the credential a
	// client with the password derives.
	c, ok := h.img.ScramCredential("alice", 2)
	wantCred, _ := sasl.NewCredential(sasl.ScramSHA512, "alice-pw", []byte("salt-alice"), 8192)
	if !ok || c.Iterations != 8192 || !bytes.Equal(c.StoredKey, wantCred.StoredKey) || !bytes.Equal(c.ServerKey, wantCred.ServerKey) {
		t.Fatalf("alice/512 in the image: %+v", c)
	}

	// Delete one mechanism; a later delete of the same fails.
	del := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	del.Deletions = append(del.Deletions, deletion("alice", 1))
	if resp, _ := h.handle(del); scramCodes(resp)["alice"] != 0 {
		t.Fatalf("delete: %v", scramCodes(resp))
	}
	if _, ok := h.img.ScramCredential("alice", 1); ok {
		t.Fatal("deleted credential still in the image")
	}
	if resp, recs := h.handle(del); scramCodes(resp)["alice"] != kerr.ResourceNotFound.Code || len(recs) != 0 {
		t.Fatalf("second delete: %v, %d records", scramCodes(resp), len(recs))
	}
}

func TestAlterUserScramNeedsMetadataVersion(t *testing.T) {
	h := newHarness(t, testConfig(), 10) // 3.5-IV1
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	req.Upsertions = append(req.Upsertions, upsert(t, "alice", 1, "pw", 4096))
	resp, recs := h.handle(req)
	if scramCodes(resp)["alice"] != kerr.UnsupportedVersion.Code || len(recs) != 0 {
		t.Fatalf("at 3.5-IV1: %v, %d records", scramCodes(resp), len(recs))
	}
}
