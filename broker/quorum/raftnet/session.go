package raftnet

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Session is who is on the other end of an inbound connection, as Config.Accept established it
// (its TLS certificate or SASL exchange).
type Session struct {
	// Principal is "User:<name>"; User:ANONYMOUS when the listener authenticates nobody.
	Principal string
	// Host is the client's IP address, for ACL host matching.
	Host string
}

// AnonymousPrincipal is the principal of a connection nobody authenticated, as Kafka names it.
const AnonymousPrincipal = "User:ANONYMOUS"

type sessionKey struct{}

// SessionFrom is the session of the connection whose request a Config.Handler call answers;
// an anonymous one when ctx carries none.
func SessionFrom(ctx context.Context) Session {
	if s, ok := ctx.Value(sessionKey{}).(Session); ok {
		return s
	}
	return Session{Principal: AnonymousPrincipal}
}

// WithSession returns ctx carrying s, as the server hands it to Config.Handler.
func WithSession(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// RemoteHost is the IP address of c's remote end (the whole address when it is not TCP).
func RemoteHost(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

// refusedResponse answers a quorum request that Config.Authorize refused with
// CLUSTER_AUTHORIZATION_FAILED in its top-level error code, as Kafka's controller answers.
func refusedResponse(req kmsg.Request) kmsg.Response {
	code := kerr.ClusterAuthorizationFailed.Code
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	switch r := resp.(type) {
	case *kmsg.VoteResponse:
		r.ErrorCode = code
	case *kmsg.BeginQuorumEpochResponse:
		r.ErrorCode = code
	case *kmsg.EndQuorumEpochResponse:
		r.ErrorCode = code
	case *kmsg.FetchResponse:
		r.ErrorCode = code
	case *kmsg.FetchSnapshotResponse:
		r.ErrorCode = code
	case *kmsg.DescribeQuorumResponse:
		r.ErrorCode = code
	case *kmsg.AddRaftVoterResponse:
		r.ErrorCode = code
	case *kmsg.RemoveRaftVoterResponse:
		r.ErrorCode = code
	case *kmsg.UpdateRaftVoterResponse:
		r.ErrorCode = code
	}
	return resp
}
