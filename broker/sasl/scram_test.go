package sasl

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	kscram "github.com/twmb/franz-go/pkg/sasl/scram"
)

// users is an in-memory CredentialLookup keyed by mechanism and user.
type users map[string]Credential

func (u users) ScramCredential(user, mechanism string) (Credential, bool) {
	c, ok := u[mechanism+"/"+user]
	return c, ok
}

func mustCredential(t *testing.T, mech, password string, salt []byte, iterations int) Credential {
	t.Helper()
	c, err := NewCredential(mech, password, salt, iterations)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newServer(t *testing.T, mech string, u users) *scramMechanism {
	t.Helper()
	m, err := NewScram(mech, u)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*scramMechanism)
}

// TestScramRFC7677 replays the SCRAM-SHA-256 exchange printed in RFC 7677 §3
// byte for byte.
func TestScramRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	u := users{"SCRAM-SHA-256/user": mustCredential(t, ScramSHA256, "pencil", salt, 4096)}
	m := newServer(t, ScramSHA256, u)
	m.nonce = func() string { return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" }
	ex := m.Start()

	out, done, err := ex.Step([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
	if err != nil || done {
		t.Fatalf("client-first: done=%v err=%v", done, err)
	}
	if want := "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"; string(out) != want {
		t.Fatalf("server-first = %q, want %q", out, want)
	}
	out, done, err = ex.Step([]byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	if err != nil || !done {
		t.Fatalf("client-final: done=%v err=%v", done, err)
	}
	if want := "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; string(out) != want {
		t.Fatalf("server-final = %q, want %q", out, want)
	}
	if ex.User() != "user" {
		t.Fatalf("User() = %q", ex.User())
	}
}

// runFranz drives one exchange between franz-go's SCRAM client and the
// server and returns the server's error.
func runFranz(t *testing.T, m Mechanism, auth kscram.Auth) (string, error) {
	t.Helper()
	mech := auth.AsSha256Mechanism()
	if m.Name() == ScramSHA512 {
		mech = auth.AsSha512Mechanism()
	}
	sess, msg, err := mech.Authenticate(context.Background(), "localhost:9092")
	if err != nil {
		t.Fatal(err)
	}
	ex := m.Start()
	for {
		out, done, serr := ex.Step(msg)
		if serr != nil {
			return string(out), serr
		}
		cdone, next, cerr := sess.Challenge(out)
		if cerr != nil {
			t.Fatalf("franz-go client rejected the server's message %q: %v", out, cerr)
		}
		if done {
			if !cdone {
				t.Fatal("server done but client is not")
			}
			return ex.User(), nil
		}
		msg = next
	}
}

func TestScramFranzGoClient(t *testing.T) {
	for _, mech := range ScramMechanisms() {
		t.Run(mech, func(t *testing.T) {
			u := users{
				mech + "/alice":     mustCredential(t, mech, "alice-secret", nil, 8192),
				mech + "/we,ird=na": mustCredential(t, mech, "pw", nil, 4096),
			}
			m := newServer(t, mech, u)
			user, err := runFranz(t, m, kscram.Auth{User: "alice", Pass: "alice-secret"})
			if err != nil || user != "alice" {
				t.Fatalf("good password: user=%q err=%v", user, err)
			}
			// franz-go escapes ',' and '=' in the name (saslname).
			user, err = runFranz(t, m, kscram.Auth{User: "we,ird=na", Pass: "pw"})
			if err != nil || user != "we,ird=na" {
				t.Fatalf("escaped name: user=%q err=%v", user, err)
			}
			out, err := runFranz(t, m, kscram.Auth{User: "alice", Pass: "wrong"})
			if !errors.Is(err, ErrAuthentication) || out != "e=invalid-proof" {
				t.Fatalf("wrong password: out=%q err=%v", out, err)
			}
			if strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), "alice-secret") {
				t.Fatalf("error text carries a secret: %v", err)
			}
			out, err = runFranz(t, m, kscram.Auth{User: "mallory", Pass: "x"})
			if !errors.Is(err, ErrAuthentication) || out != "e=invalid-proof" {
				t.Fatalf("unknown user: out=%q err=%v", out, err)
			}
			out, err = runFranz(t, m, kscram.Auth{User: "alice", Pass: "alice-secret", IsToken: true})
			if !errors.Is(err, ErrAuthentication) || out != "e=extensions-not-supported" {
				t.Fatalf("tokenauth: out=%q err=%v", out, err)
			}
		})
	}
}

// TestScramUnknownUserLooksKnown: an unknown user is challenged like a known
// one (same salt on every attempt, a valid iteration count) and fails only
// at the proof, so a client cannot enumerate users.
func TestScramUnknownUserLooksKnown(t *testing.T) {
	m := newServer(t, ScramSHA512, users{})
	first := func() string {
		out, done, err := m.Start().Step([]byte("n,,n=ghost,r=abc"))
		if err != nil || done {
			t.Fatalf("unknown user refused early: done=%v err=%v", done, err)
		}
		parts := strings.Split(string(out), ",")
		if len(parts) != 3 || parts[2] != "i=4096" {
			t.Fatalf("server-first = %q", out)
		}
		return parts[1]
	}
	if a, b := first(), first(); a != b {
		t.Fatalf("salt changes between attempts: %s vs %s", a, b)
	}
}

func TestScramMalformed(t *testing.T) {
	u := users{"SCRAM-SHA-256/u": mustCredential(t, ScramSHA256, "p", nil, 4096)}
	for _, tc := range []struct{ name, first, code string }{
		{"no gs2 header", "n=u,r=abc", "invalid-encoding"},
		{"channel binding", "p=tls-unique,,n=u,r=abc", "channel-binding-not-supported"},
		{"bad flag", "x,,n=u,r=abc", "invalid-encoding"},
		{"bad escape", "n,,n=a=2Db,r=abc", "invalid-username-encoding"},
		{"empty user", "n,,n=,r=abc", "invalid-username-encoding"},
		{"mandatory ext", "n,,m=x,n=u,r=abc", "extensions-not-supported"},
		{"no nonce", "n,,n=u", "invalid-encoding"},
		{"comma in nonce attr", "n,,n=u,r=", "invalid-encoding"},
		{"authzid differs", "n,a=v,n=u,r=abc", "other-error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, done, err := newServer(t, ScramSHA256, u).Start().Step([]byte(tc.first))
			if !done || !errors.Is(err, ErrAuthentication) || string(out) != "e="+tc.code {
				t.Fatalf("out=%q done=%v err=%v, want e=%s", out, done, err, tc.code)
			}
		})
	}
}

func TestScramClientFinalChecks(t *testing.T) {
	u := users{"SCRAM-SHA-256/u": mustCredential(t, ScramSHA256, "p", nil, 4096)}
	m := newServer(t, ScramSHA256, u)
	m.nonce = func() string { return "SRV" }
	for _, tc := range []struct{ name, final, code string }{
		{"binding mismatch", "c=eSws,r=cliSRV,p=AAAA", "channel-bindings-dont-match"},
		{"nonce mismatch", "c=biws,r=cliXXX,p=AAAA", "other-error"},
		{"nonce cut short", "c=biws,r=cliSR,p=AAAA", "other-error"},
		{"no proof", "c=biws,r=cliSRV", "invalid-encoding"},
		{"short proof", "c=biws,r=cliSRV,p=AAAA", "invalid-proof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := m.Start()
			if _, _, err := ex.Step([]byte("n,,n=u,r=cli")); err != nil {
				t.Fatal(err)
			}
			out, done, err := ex.Step([]byte(tc.final))
			if !done || !errors.Is(err, ErrAuthentication) || string(out) != "e="+tc.code {
				t.Fatalf("out=%q done=%v err=%v, want e=%s", out, done, err, tc.code)
			}
			if _, _, err := ex.Step(nil); !errors.Is(err, ErrAuthentication) {
				t.Fatal("a finished exchange took another step")
			}
		})
	}
}

func TestSaslNameEscaping(t *testing.T) {
	for _, name := range []string{"plain", "a,b", "a=b", "=,=2C"} {
		got, ok := unescapeSaslName(EscapeSaslName(name))
		if !ok || got != name {
			t.Fatalf("round trip %q -> %q (%v)", name, got, ok)
		}
	}
	if _, ok := unescapeSaslName("a=2"); ok {
		t.Fatal("truncated escape accepted")
	}
}

func TestNewScramRejectsUnknownMechanism(t *testing.T) {
	if _, err := NewScram("SCRAM-SHA-1", users{}); err == nil {
		t.Fatal("SCRAM-SHA-1 accepted")
	}
	if _, err := NewCredential("PLAIN", "x", nil, 4096); err == nil {
		t.Fatal("PLAIN credential derived")
	}
}

// TestScramLibrdkafkaNonce: librdkafka's client-final repeats the client
// nonce before the full nonce; Kafka accepts it (the nonce only has to end
// with the server's), so kcat logs in.
func TestScramLibrdkafkaNonce(t *testing.T) {
	salt := []byte("salt-of-the-earth")
	u := users{"SCRAM-SHA-256/kc": mustCredential(t, ScramSHA256, "pw", salt, 4096)}
	m := newServer(t, ScramSHA256, u)
	m.nonce = func() string { return "SRVNONCE" }
	ex := m.Start()
	first, _, err := ex.Step([]byte("n,,n=kc,r=CLI"))
	if err != nil {
		t.Fatal(err)
	}
	withoutProof := "c=biws,r=CLI" + "CLISRVNONCE"
	salted, _ := SaltedPassword(ScramSHA256, "pw", salt, 4096)
	clientKey := hmacSum(sha256.New, salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	sig := hmacSum(sha256.New, stored[:], []byte("n=kc,r=CLI,"+string(first)+","+withoutProof))
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = clientKey[i] ^ sig[i]
	}
	out, done, err := ex.Step([]byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)))
	if err != nil || !done || !strings.HasPrefix(string(out), "v=") {
		t.Fatalf("librdkafka-style final: %q %v %v", out, done, err)
	}
}

// BenchmarkScramExchange is one whole SCRAM-SHA-256 login (4096
// iterations) with franz-go's client: the client's PBKDF2 dominates; the
// server's share is three HMACs and a hash.
func BenchmarkScramExchange(b *testing.B) {
	cred, err := NewCredential(ScramSHA256, "pw", nil, MinIterations)
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewScram(ScramSHA256, users{"SCRAM-SHA-256/u": cred})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := benchLogin(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScramServerSide is the server's work for one login alone.
func BenchmarkScramServerSide(b *testing.B) {
	salt := []byte("benchmark-salt")
	cred, _ := NewCredential(ScramSHA256, "pw", salt, MinIterations)
	m, _ := NewScram(ScramSHA256, users{"SCRAM-SHA-256/u": cred})
	sm := m.(*scramMechanism)
	sm.nonce = func() string { return "SRV" }
	salted, _ := SaltedPassword(ScramSHA256, "pw", salt, MinIterations)
	clientKey := hmacSum(sha256.New, salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	first := "r=CLISRV,s=" + base64.StdEncoding.EncodeToString(salt) + ",i=4096"
	withoutProof := "c=biws,r=CLISRV"
	sig := hmacSum(sha256.New, stored[:], []byte("n=u,r=CLI,"+first+","+withoutProof))
	for i := range sig {
		sig[i] ^= clientKey[i]
	}
	final := []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(sig))
	for b.Loop() {
		ex := m.Start()
		if _, _, err := ex.Step([]byte("n,,n=u,r=CLI")); err != nil {
			b.Fatal(err)
		}
		if _, _, err := ex.Step(final); err != nil {
			b.Fatal(err)
		}
	}
}

func benchLogin(m Mechanism) error {
	sess, msg, err := kscram.Auth{User: "u", Pass: "pw"}.AsSha256Mechanism().Authenticate(context.Background(), "b")
	if err != nil {
		return err
	}
	ex := m.Start()
	for {
		out, done, err := ex.Step(msg)
		if err != nil {
			return err
		}
		_, next, err := sess.Challenge(out)
		if err != nil || done {
			return err
		}
		msg = next
	}
}
