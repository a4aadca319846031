package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SaslAuthenticate: v0-2
//
// Behavior:
// * Carries one message of the exchange SaslHandshake v1 started; the
//   answer carries the server's next message.
// * Failure: SASL_AUTHENTICATION_FAILED with Kafka's message (the cause is
//   logged, without secrets), delayed when the source keeps failing, then
//   the connection closes.
// * Without a handshake first: ILLEGAL_SASL_STATE, and the connection
//   closes.
//
// Version notes:
// * v1+: session_lifetime_ms is connections.max.reauth.ms (0 = no limit);
//   the client re-authenticates before it ends. v2 is flexible.

func init() { regKey(36, 0, 2, handleSaslAuthenticate) }

func handleSaslAuthenticate(_ *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.SASLAuthenticateRequest)
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	a := r.c.auth
	if a == nil || a.ex == nil || a.raw {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		r.replyAndClose(resp)
		return nil, errDeferred
	}
	mech := a.mech.Name()
	out, _, lifetime, err := r.c.saslStep(req.SASLAuthBytes)
	if err != nil {
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := saslFailedMessage(mech)
		resp.ErrorMessage = &msg
		r.replyAndClose(resp)
		return nil, errDeferred
	}
	resp.SASLAuthBytes = out
	if req.Version >= 1 {
		resp.SessionLifetimeMillis = lifetime.Milliseconds()
	}
	return resp, nil
}
