package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SaslHandshake: v0-1
//
// Behavior:
// * On a SASL listener: picks the mechanism for the exchange that follows
//   and lists the listener's mechanisms. A mechanism the listener does not
//   offer gets UNSUPPORTED_SASL_MECHANISM and the connection closes.
// * An authenticated connection may hand-shake again with v1 to
//   re-authenticate (KIP-368); the principal may not change.
// * On a listener without SASL, or in the middle of an exchange:
//   ILLEGAL_SASL_STATE, and the connection closes.
//
// Version notes:
// * v0: the exchange continues in bare length-prefixed tokens, not in
//   SaslAuthenticate requests; v1: in SaslAuthenticate.

func init() { regKey(17, 0, 1, handleSaslHandshake) }

func handleSaslHandshake(_ *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.SASLHandshakeRequest)
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	a := r.c.auth
	if a == nil || a.ex != nil || (a.authenticated && req.Version == 0) {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		r.replyAndClose(resp)
		return nil, errDeferred
	}
	bl := r.c.listener
	resp.SupportedMechanisms = slices.Clone(bl.sec.Mechanisms)
	m, ok := bl.mechs[req.Mechanism]
	if !ok {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		r.c.log.Info("SASL handshake with a mechanism the listener does not offer", "listener", bl.name, "mechanism", req.Mechanism)
		r.replyAndClose(resp)
		return nil, errDeferred
	}
	a.mech, a.ex = m, m.Start()
	a.raw = req.Version == 0
	return resp, nil
}
