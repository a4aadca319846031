package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// SCRAM mechanism names as Kafka spells them.
const (
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// Iteration bounds Kafka enforces on stored SCRAM credentials
// (ScramMechanism.minIterations / UNACCEPTABLE_CREDENTIAL above 16384).
const (
	MinIterations = 4096
	MaxIterations = 16384
)

// ScramMechanisms lists the SCRAM mechanisms the broker knows, in Kafka's
// order.
func ScramMechanisms() []string { return []string{ScramSHA256, ScramSHA512} }

// Credential is what a broker keeps for one user and one SCRAM mechanism:
// never the password, only what verifying a proof needs (RFC 5802 §3).
type Credential struct {
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
	Iterations int
}

// CredentialLookup finds a user's stored credential. Implementations answer
// from memory: it is called once per authentication and must not block on
// the metadata store.
type CredentialLookup interface {
	ScramCredential(user, mechanism string) (Credential, bool)
}

// scramHash returns the hash of a SCRAM mechanism, or nil if the name is not
// a SCRAM mechanism.
func scramHash(mechanism string) func() hash.Hash {
	switch mechanism {
	case ScramSHA256:
		return sha256.New
	case ScramSHA512:
		return sha512.New
	}
	return nil
}

// IsScramMechanism reports whether name is SCRAM-SHA-256 or SCRAM-SHA-512.
func IsScramMechanism(name string) bool { return scramHash(name) != nil }

// ValidIterations reports whether n is an iteration count Kafka accepts for a
// stored credential.
func ValidIterations(n int) bool { return n >= MinIterations && n <= MaxIterations }

// SaltedPassword computes Hi(password, salt, iterations) (PBKDF2 with the
// mechanism's HMAC), the value a client sends in AlterUserScramCredentials.
// Kafka applies no SASLprep to the password; neither does this.
func SaltedPassword(mechanism, password string, salt []byte, iterations int) ([]byte, error) {
	h := scramHash(mechanism)
	if h == nil {
		return nil, fmt.Errorf("unsupported SCRAM mechanism %q", mechanism)
	}
	if iterations < 1 {
		return nil, fmt.Errorf("SCRAM iterations must be positive, got %d", iterations)
	}
	return pbkdf2.Key(h, password, salt, iterations, h().Size())
}

// CredentialFromSaltedPassword derives the stored and server keys from a
// salted password: StoredKey = H(HMAC(salted, "Client Key")), ServerKey =
// HMAC(salted, "Server Key").
func CredentialFromSaltedPassword(mechanism string, salt, salted []byte, iterations int) (Credential, error) {
	h := scramHash(mechanism)
	if h == nil {
		return Credential{}, fmt.Errorf("unsupported SCRAM mechanism %q", mechanism)
	}
	clientKey := hmacSum(h, salted, []byte("Client Key"))
	stored := h()
	stored.Write(clientKey)
	return Credential{
		Salt:       bytes.Clone(salt),
		StoredKey:  stored.Sum(nil),
		ServerKey:  hmacSum(h, salted, []byte("Server Key")),
		Iterations: iterations,
	}, nil
}

// NewCredential derives a credential from a password. A nil salt draws a
// fresh random one of the mechanism's hash size, as Kafka's ScramFormatter does.
func NewCredential(mechanism, password string, salt []byte, iterations int) (Credential, error) {
	h := scramHash(mechanism)
	if h == nil {
		return Credential{}, fmt.Errorf("unsupported SCRAM mechanism %q", mechanism)
	}
	if salt == nil {
		salt = make([]byte, h().Size())
		if _, err := rand.Read(salt); err != nil {
			return Credential{}, fmt.Errorf("drawing a SCRAM salt: %w", err)
		}
	}
	salted, err := SaltedPassword(mechanism, password, salt, iterations)
	if err != nil {
		return Credential{}, err
	}
	return CredentialFromSaltedPassword(mechanism, salt, salted, iterations)
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// scramMechanism starts server-side SCRAM exchanges for one hash.
type scramMechanism struct {
	name   string
	hash   func() hash.Hash
	lookup CredentialLookup
	// fakeKey keys the salt and keys invented for unknown users, so the same
	// unknown name always gets the same salt and cannot be told apart from a
	// real user by asking twice.
	fakeKey []byte
	// nonce makes the server's nonce part; tests replace it to replay a
	// published exchange.
	nonce func() string
}

// NewScram returns the server side of SCRAM-SHA-256 or SCRAM-SHA-512
// (RFC 5802, RFC 7677) with credentials from lookup.
func NewScram(mechanism string, lookup CredentialLookup) (Mechanism, error) {
	h := scramHash(mechanism)
	if h == nil {
		return nil, fmt.Errorf("unsupported SCRAM mechanism %q", mechanism)
	}
	if lookup == nil {
		return nil, errors.New("SCRAM mechanism needs a credential lookup")
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("drawing a SCRAM key: %w", err)
	}
	return &scramMechanism{name: mechanism, hash: h, lookup: lookup, fakeKey: key, nonce: randomNonce}, nil
}

func (m *scramMechanism) Name() string { return m.name }

func (m *scramMechanism) Start() Exchange { return &scramExchange{m: m} }

// randomNonce is 24 random bytes in base64: printable and free of commas, as
// RFC 5802 requires of a nonce.
func randomNonce() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// fakeCredential is what an unknown user is challenged with: a salt and keys
// derived from the user name, so the exchange runs to the end and fails at
// the proof like a wrong password does.
func (m *scramMechanism) fakeCredential(user string) Credential {
	salt := hmacSum(m.hash, m.fakeKey, []byte("salt\x00"+user))
	return Credential{
		Salt:       salt,
		StoredKey:  hmacSum(m.hash, m.fakeKey, []byte("stored\x00"+user)),
		ServerKey:  hmacSum(m.hash, m.fakeKey, []byte("server\x00"+user)),
		Iterations: MinIterations,
	}
}

type scramState int

const (
	awaitClientFirst scramState = iota
	awaitClientFinal
	scramDone
)

// scramExchange is one server-side SCRAM conversation. It is used by one
// connection goroutine at a time and holds no lock.
type scramExchange struct {
	m     *scramMechanism
	state scramState

	user      string
	known     bool
	cred      Credential
	gs2Header string // as the client sent it, for the c= check
	firstBare string // client-first-message-bare
	srvFirst  string
	nonce     string // client nonce + server nonce
}

func (e *scramExchange) User() string { return e.user }

// Step implements Exchange.
func (e *scramExchange) Step(in []byte) ([]byte, bool, error) {
	switch e.state {
	case awaitClientFirst:
		out, err := e.clientFirst(string(in))
		if err != nil {
			e.state = scramDone
			return scramError(err)
		}
		e.state = awaitClientFinal
		return out, false, nil
	case awaitClientFinal:
		e.state = scramDone
		out, err := e.clientFinal(string(in))
		if err != nil {
			return scramError(err)
		}
		return out, true, nil
	}
	return nil, true, fmt.Errorf("%w: SCRAM exchange already finished", ErrAuthentication)
}

// scramFailure is a failed step: code is RFC 5802's server-error value sent
// back as e=, reason the text for the client and the log. Neither ever holds
// a secret.
type scramFailure struct {
	code   string
	reason string
}

func (f *scramFailure) Error() string { return f.reason }
func (f *scramFailure) Unwrap() error { return ErrAuthentication }

func fail(code, format string, args ...any) error {
	return &scramFailure{code: code, reason: fmt.Sprintf(format, args...)}
}

func scramError(err error) ([]byte, bool, error) {
	var f *scramFailure
	if errors.As(err, &f) {
		return []byte("e=" + f.code), true, fmt.Errorf("%w: %s", ErrAuthentication, f.reason)
	}
	return []byte("e=other-error"), true, fmt.Errorf("%w: %v", ErrAuthentication, err)
}

// clientFirst parses "gs2-header client-first-message-bare" and answers
// with "r=<nonce>,s=<salt>,i=<iterations>".
func (e *scramExchange) clientFirst(msg string) ([]byte, error) {
	header, bare, err := splitGS2(msg)
	if err != nil {
		return nil, err
	}
	attrs, err := parseAttrs(bare)
	if err != nil {
		return nil, err
	}
	if len(attrs) > 0 && attrs[0].key == "m" {
		return nil, fail("extensions-not-supported", "mandatory SCRAM extension is not supported")
	}
	if len(attrs) < 2 || attrs[0].key != "n" || attrs[1].key != "r" {
		return nil, fail("invalid-encoding", "client-first message must start with n= and r=")
	}
	user, ok := unescapeSaslName(attrs[0].val)
	if !ok || user == "" {
		return nil, fail("invalid-username-encoding", "invalid SCRAM user name encoding")
	}
	if authzid := header.authzid; authzid != "" && authzid != user {
		return nil, fail("other-error", "authorization id differs from the user name")
	}
	if !validNonce(attrs[1].val) {
		return nil, fail("invalid-encoding", "invalid client nonce")
	}
	for _, a := range attrs[2:] {
		// Kafka's only extension is tokenauth=true (delegation tokens), which
		// this broker does not issue.
		if a.key == "tokenauth" {
			return nil, fail("extensions-not-supported", "delegation token authentication is not supported")
		}
	}
	e.user = user
	e.gs2Header = header.raw
	e.firstBare = bare
	e.cred, e.known = e.m.lookup.ScramCredential(user, e.m.name)
	if !e.known || !ValidIterations(e.cred.Iterations) {
		e.known = false
		e.cred = e.m.fakeCredential(user)
	}
	e.nonce = attrs[1].val + e.m.nonce()
	e.srvFirst = "r=" + e.nonce + ",s=" + base64.StdEncoding.EncodeToString(e.cred.Salt) +
		",i=" + strconv.Itoa(e.cred.Iterations)
	return []byte(e.srvFirst), nil
}

// clientFinal checks "c=<binding>,r=<nonce>,p=<proof>" and answers with the
// server signature.
func (e *scramExchange) clientFinal(msg string) ([]byte, error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return nil, fail("invalid-encoding", "client-final message has no proof")
	}
	withoutProof, proofB64 := msg[:i], msg[i+3:]
	attrs, err := parseAttrs(withoutProof)
	if err != nil {
		return nil, err
	}
	if len(attrs) < 2 || attrs[0].key != "c" || attrs[1].key != "r" {
		return nil, fail("invalid-encoding", "client-final message must start with c= and r=")
	}
	binding, err := base64.StdEncoding.DecodeString(attrs[0].val)
	if err != nil || string(binding) != e.gs2Header {
		return nil, fail("channel-bindings-dont-match", "channel binding does not match the client-first header")
	}
	// Kafka's ScramSaslServer only checks that the nonce ends with the
	// server-first one, and librdkafka (kcat) relies on it: it sends the
	// client nonce again in front of the full nonce. The proof covers the
	// message as sent, so the extra prefix weakens nothing.
	if !strings.HasSuffix(attrs[1].val, e.nonce) {
		return nil, fail("other-error", "nonce does not match the server's")
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != len(e.cred.StoredKey) {
		return nil, fail("invalid-proof", "invalid client proof")
	}
	authMsg := []byte(e.firstBare + "," + e.srvFirst + "," + withoutProof)
	clientSig := hmacSum(e.m.hash, e.cred.StoredKey, authMsg)
	clientKey := make([]byte, len(proof))
	for j := range proof {
		clientKey[j] = proof[j] ^ clientSig[j]
	}
	h := e.m.hash()
	h.Write(clientKey)
	// Compare even for an unknown user, so both fail after the same work.
	match := hmac.Equal(h.Sum(nil), e.cred.StoredKey)
	if !match || !e.known {
		return nil, fail("invalid-proof", "invalid credentials for SCRAM user")
	}
	sig := hmacSum(e.m.hash, e.cred.ServerKey, authMsg)
	return []byte("v=" + base64.StdEncoding.EncodeToString(sig)), nil
}

type gs2Header struct {
	raw     string // "n,," or "n,a=user," as sent
	authzid string
}

// splitGS2 separates the GS2 header from the bare client-first message.
// Kafka offers no channel binding, so the flag must be n or y.
func splitGS2(msg string) (gs2Header, string, error) {
	first := strings.IndexByte(msg, ',')
	if first < 0 {
		return gs2Header{}, "", fail("invalid-encoding", "client-first message has no GS2 header")
	}
	second := strings.IndexByte(msg[first+1:], ',')
	if second < 0 {
		return gs2Header{}, "", fail("invalid-encoding", "client-first message has no GS2 header")
	}
	second += first + 1
	flag, authz := msg[:first], msg[first+1:second]
	switch {
	case flag == "n" || flag == "y":
	case strings.HasPrefix(flag, "p="):
		return gs2Header{}, "", fail("channel-binding-not-supported", "channel binding is not supported")
	default:
		return gs2Header{}, "", fail("invalid-encoding", "invalid GS2 channel binding flag")
	}
	h := gs2Header{raw: msg[:second+1]}
	if authz != "" {
		if !strings.HasPrefix(authz, "a=") {
			return gs2Header{}, "", fail("invalid-encoding", "invalid GS2 authorization id")
		}
		name, ok := unescapeSaslName(authz[2:])
		if !ok {
			return gs2Header{}, "", fail("invalid-username-encoding", "invalid authorization id encoding")
		}
		h.authzid = name
	}
	return h, msg[second+1:], nil
}

type attr struct {
	key string
	val string
}

// parseAttrs splits "k=v,k=v" into attributes. RFC 5802's keys are one
// letter; Kafka's extensions (tokenauth=true) are words, so any run of
// letters is accepted as a key.
func parseAttrs(s string) ([]attr, error) {
	var out []attr
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" || strings.IndexFunc(k, notAlpha) >= 0 {
			return nil, fail("invalid-encoding", "malformed SCRAM attribute")
		}
		out = append(out, attr{key: k, val: v})
	}
	return out, nil
}

func notAlpha(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }

// validNonce reports whether n is printable ASCII without commas (RFC 5802
// "printable").
func validNonce(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

// unescapeSaslName decodes RFC 5802's saslname: "=2C" is ',' and "=3D" is
// '='; any other '=' is invalid, as is a raw ','.
func unescapeSaslName(s string) (string, bool) {
	if !strings.ContainsAny(s, "=,") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',':
			return "", false
		case '=':
			switch {
			case strings.HasPrefix(s[i:], "=2C"):
				b.WriteByte(',')
			case strings.HasPrefix(s[i:], "=3D"):
				b.WriteByte('=')
			default:
				return "", false
			}
			i += 2
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), true
}

// EscapeSaslName encodes a user name as RFC 5802's saslname.
func EscapeSaslName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}
