package sasl

import (
	"bytes"
	"crypto/subtle"
	"fmt"
)

// PlainUsers answers a PLAIN user's password; ok is false for an unknown
// user. It must not block.
type PlainUsers func(user string) (password string, ok bool)

// NewPlain returns the PLAIN mechanism (RFC 4616) over users.
func NewPlain(users PlainUsers) Mechanism { return plain{users: users} }

type plain struct{ users PlainUsers }

func (plain) Name() string { return "PLAIN" }

func (p plain) Start() Exchange { return &plainExchange{users: p.users} }

type plainExchange struct {
	users PlainUsers
	user  string
}

// Step takes the single client message authzid NUL authcid NUL passwd. The
// authorization identity must be empty or the authentication identity: the
// broker does not let one user act as another.
func (e *plainExchange) Step(in []byte) ([]byte, bool, error) {
	parts := bytes.Split(in, []byte{0})
	if len(parts) != 3 {
		return nil, true, fmt.Errorf("%w: PLAIN message is not authzid NUL authcid NUL password", ErrAuthentication)
	}
	authz, authc, pass := string(parts[0]), string(parts[1]), parts[2]
	if authc == "" || len(pass) == 0 {
		return nil, true, fmt.Errorf("%w: PLAIN user name and password must not be empty", ErrAuthentication)
	}
	if authz != "" && authz != authc {
		return nil, true, fmt.Errorf("%w: PLAIN authorization id differs from the user name; acting as another user is not allowed", ErrAuthentication)
	}
	want, ok := e.users(authc)
	// Compare even for an unknown user so timing does not tell which users exist.
	if !ok {
		want = "\x00unknown user"
	}
	if subtle.ConstantTimeCompare([]byte(want), pass) != 1 || !ok {
		return nil, true, fmt.Errorf("%w: invalid user name or password", ErrAuthentication)
	}
	e.user = authc
	return nil, true, nil
}

func (e *plainExchange) User() string { return e.user }
