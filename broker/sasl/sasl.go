// Package sasl is the server side of the SASL mechanisms the broker offers
// (PLAIN and SCRAM-SHA-256/512). Each authentication is a small state
// machine fed the client's messages; the connection code frames them
// (SaslHandshake v0 raw frames or SaslAuthenticate) and keeps the result.
package sasl

import "errors"

// Exchange is one authentication in progress on one connection.
type Exchange interface {
	// Step takes the client's next message and returns the server's answer.
	// done reports that the exchange is over; it succeeded when err is nil.
	Step(in []byte) (out []byte, done bool, err error)
	// User is the authenticated user name, valid once Step returned done
	// without an error.
	User() string
}

// Mechanism starts exchanges for one SASL mechanism name.
type Mechanism interface {
	Name() string // as in sasl.enabled.mechanisms, e.g. "SCRAM-SHA-256"
	Start() Exchange
}

// ErrAuthentication marks a failed authentication (unknown user, wrong
// password, malformed message). Errors wrapping it may be shown to the
// client, so their text never carries a secret.
var ErrAuthentication = errors.New("authentication failed")
