package node

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/quorum/raftnet"
	"github.com/osprey-kafka/osprey/broker/sasl"
)

// Security is the CONTROLLER listener's security (its protocol in listener.security.protocol.map),
// both ways: how this node's listener authenticates the nodes and clients that connect and what
// they may do, and how this node connects to the other nodes' listeners (raft traffic, broker
// registration and heartbeats, forwarded requests, voter changes). The zero value is PLAINTEXT
// without authorization.
type Security struct {
	// Protocol is the listener's security protocol as a controller registers it (KIP-919):
	// 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL.
	Protocol int16
	// TLS, when set, is the listener's server-side TLS (SSL, SASL_SSL).
	TLS *tls.Config
	// CertPrincipal maps a verified client certificate to a principal name on an SSL listener
	// (ssl.principal.mapping.rules); an error refuses the connection. Without it, or without a
	// client certificate, the connection is User:ANONYMOUS.
	CertPrincipal func(cert *x509.Certificate) (string, error)
	// Mechanisms, when set, are the SASL mechanisms the listener offers (SASL_PLAINTEXT,
	// SASL_SSL): a connection authenticates before any request but ApiVersions,
	// SaslHandshake and SaslAuthenticate, and its principal is the SASL user.
	Mechanisms map[string]sasl.Mechanism
	// AuthFailed, when set, is told of each failed authentication from host (err never holds
	// a secret) and returns how long to delay its answer, so that guessing is slow
	// (connection.failed.authentication.delay.ms, growing per source). Nil: no delay.
	AuthFailed func(host string, err error) time.Duration
	// Authorizer, when set (authorizer.class.name), decides who may use the listener's APIs:
	// the node keeps its ACLs equal to the committed image's and asks it for the operation on
	// the cluster Kafka's controller checks per API (clusterOperation). Nil: every connection
	// that authenticated may use every API, as in Kafka without an authorizer.
	Authorizer *acl.Authorizer
	// Dial connects to another node's CONTROLLER listener and returns the connection ready for
	// requests (TLS handshake and SASL exchange done), within ctx. Nil: plain TCP.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
}

// handshakeTimeout bounds the TLS handshake and SASL exchange of an inbound connection.
const handshakeTimeout = 10 * time.Second

// maxAuthFrame bounds a request frame read before authentication: a client that has not
// authenticated may not make the node buffer much.
const maxAuthFrame = 1 << 20

// bufferedConn is a connection whose first bytes were read ahead into r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// acceptConn is raftnet's Accept: the TLS handshake, the principal of a client certificate on
// SSL, the SASL exchange on SASL_*.
func (n *Node) acceptConn(ctx context.Context, c net.Conn) (net.Conn, raftnet.Session, error) {
	sec := n.cfg.Security
	sess := raftnet.Session{Principal: raftnet.AnonymousPrincipal, Host: raftnet.RemoteHost(c)}
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) }) //nolint:errcheck // shows up as an I/O error
	defer stop()
	if sec.TLS != nil {
		tc := tls.Server(c, sec.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, sess, fmt.Errorf("TLS handshake: %w", err)
		}
		c = tc
		if certs := tc.ConnectionState().PeerCertificates; len(sec.Mechanisms) == 0 && len(certs) > 0 && sec.CertPrincipal != nil {
			name, err := sec.CertPrincipal(certs[0])
			if err != nil {
				return nil, sess, fmt.Errorf("client certificate %q: %w", certs[0].Subject.String(), err)
			}
			sess.Principal = "User:" + name
		}
	}
	br := bufio.NewReader(c)
	if len(sec.Mechanisms) > 0 {
		user, err := n.saslServe(ctx, c, br, sess.Host)
		if err != nil {
			return nil, sess, err
		}
		sess.Principal = "User:" + user
	}
	if !stop() || c.SetDeadline(time.Time{}) != nil {
		return nil, sess, errors.New("handshake timed out")
	}
	return &bufferedConn{Conn: c, r: br}, sess, nil
}

// saslServe runs the SASL exchange of one connection until it authenticates: ApiVersions is
// answered meanwhile, SaslHandshake picks the mechanism, then the exchange runs in
// SaslAuthenticate requests (handshake v1) or bare length-prefixed tokens (v0). Any other
// request, or a failed exchange, ends the connection; a failure is answered with
// SASL_AUTHENTICATION_FAILED where the protocol has a way to say it.
func (n *Node) saslServe(ctx context.Context, c net.Conn, br *bufio.Reader, host string) (string, error) {
	var mech sasl.Mechanism
	var ex sasl.Exchange
	for {
		frame, err := kafkawire.ReadFrame(br, kafkawire.MinRequestFrame, maxAuthFrame)
		if err != nil {
			return "", fmt.Errorf("reading a request before SASL authentication: %w", err)
		}
		h, body, err := kafkawire.ParseRequestHeader(frame)
		if err != nil {
			return "", err
		}
		var resp kmsg.Response
		switch kmsg.Key(h.Key) {
		case kmsg.ApiVersions:
			resp = n.apiVersions(&h, body)
		case kmsg.SASLHandshake:
			req, err := parseAuthRequest(h, body)
			if err != nil {
				return "", err
			}
			resp, mech = n.saslHandshake(req.(*kmsg.SASLHandshakeRequest))
			if mech != nil && h.Version == 0 {
				if err := writeResponse(c, h, resp); err != nil {
					return "", err
				}
				return n.saslRawTokens(ctx, c, br, mech.Start(), host)
			}
		case kmsg.SASLAuthenticate:
			req, err := parseAuthRequest(h, body)
			if err != nil {
				return "", err
			}
			if mech == nil {
				return "", errors.New("SaslAuthenticate before SaslHandshake")
			}
			if ex == nil {
				ex = mech.Start()
			}
			out, done, err := ex.Step(req.(*kmsg.SASLAuthenticateRequest).SASLAuthBytes)
			ar := kmsg.NewPtrSASLAuthenticateResponse()
			ar.SetVersion(h.Version)
			if err != nil {
				n.authFailed(ctx, host, mech.Name(), err)
				// Kafka's words; the cause stays in the log.
				msg := "Authentication failed during authentication due to invalid credentials with SASL mechanism " + mech.Name()
				ar.ErrorCode, ar.ErrorMessage = kerr.SaslAuthenticationFailed.Code, &msg
				return "", errors.Join(fmt.Errorf("SASL %s: %w", mech.Name(), err), writeResponse(c, h, ar))
			}
			ar.SASLAuthBytes = out
			if err := writeResponse(c, h, ar); err != nil {
				return "", err
			}
			if done {
				return ex.User(), nil
			}
			continue
		default:
			return "", fmt.Errorf("%s request before SASL authentication", kmsg.NameForKey(h.Key))
		}
		if err := writeResponse(c, h, resp); err != nil {
			return "", err
		}
	}
}

// saslHandshake answers SaslHandshake with the mechanisms offered; mech is nil when the one
// asked for is not among them (UNSUPPORTED_SASL_MECHANISM, the client may ask again).
func (n *Node) saslHandshake(req *kmsg.SASLHandshakeRequest) (kmsg.Response, sasl.Mechanism) {
	resp := kmsg.NewPtrSASLHandshakeResponse()
	resp.SetVersion(req.Version)
	for name := range n.cfg.Security.Mechanisms {
		resp.SupportedMechanisms = append(resp.SupportedMechanisms, name)
	}
	slices.Sort(resp.SupportedMechanisms)
	m, ok := n.cfg.Security.Mechanisms[req.Mechanism]
	if !ok {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return resp, nil
	}
	return resp, m
}

// saslRawTokens runs the exchange in bare length-prefixed tokens after a v0 handshake. A
// failure closes the connection without an answer: v0 has no way to carry an error.
func (n *Node) saslRawTokens(ctx context.Context, c net.Conn, br *bufio.Reader, ex sasl.Exchange, host string) (string, error) {
	for {
		token, err := kafkawire.ReadFrame(br, 0, maxAuthFrame)
		if err != nil {
			return "", fmt.Errorf("reading a SASL token: %w", err)
		}
		out, done, err := ex.Step(token)
		if err != nil {
			n.authFailed(ctx, host, "v0", err)
			return "", fmt.Errorf("SASL: %w", err)
		}
		frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(out)), uint32(len(out)))
		if _, err := c.Write(append(frame, out...)); err != nil {
			return "", fmt.Errorf("writing a SASL token: %w", err)
		}
		if done {
			return ex.User(), nil
		}
	}
}

// authFailed logs (without secrets), reports and delays a failed authentication.
func (n *Node) authFailed(ctx context.Context, host, mechanism string, err error) {
	var delay time.Duration
	if f := n.cfg.Security.AuthFailed; f != nil {
		delay = f(host, err)
	}
	n.log.Warn("controller listener: SASL authentication failed", "source", host, "mechanism", mechanism, "delay", delay, "err", err)
	if delay <= 0 {
		return
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func parseAuthRequest(h kafkawire.RequestHeader, body []byte) (kmsg.Request, error) {
	req := kmsg.RequestForKey(h.Key)
	if h.Version < 0 || h.Version > req.MaxVersion() {
		return nil, fmt.Errorf("%s version %d is not served", kmsg.NameForKey(h.Key), h.Version)
	}
	req.SetVersion(h.Version)
	if err := req.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("%s does not parse: %w", kmsg.NameForKey(h.Key), err)
	}
	return req, nil
}

func writeResponse(w io.Writer, h kafkawire.RequestHeader, resp kmsg.Response) error {
	if _, err := w.Write(kafkawire.AppendResponse(nil, h, resp)); err != nil {
		return fmt.Errorf("writing the %s answer: %w", kmsg.NameForKey(h.Key), err)
	}
	return nil
}

// clusterOperation is the operation on the cluster resource Kafka's controller checks for an
// API on its listener: DESCRIBE to read the quorum or the cluster, ALTER for voter changes and
// unregistering a broker, CLUSTER_ACTION for everything nodes send each other (raft traffic,
// registrations, heartbeats, partition changes and the admin requests brokers forward).
func clusterOperation(key int16) acl.Operation {
	switch kmsg.Key(key) {
	case kmsg.DescribeQuorum, kmsg.DescribeCluster:
		return acl.OpDescribe
	case kmsg.AddRaftVoter, kmsg.RemoveRaftVoter, kmsg.UnregisterBroker:
		return acl.OpAlter
	}
	return acl.OpClusterAction
}

// authorized is raftnet's Authorize, and the check the controller APIs make.
func (n *Node) authorized(s raftnet.Session, key int16) bool {
	a := n.cfg.Security.Authorizer
	if a == nil {
		return true
	}
	op := clusterOperation(key)
	ok := a.Authorize(s.Principal, s.Host, op, acl.ResourceCluster, acl.ClusterName).Allowed
	if !ok {
		n.log.Warn("controller listener: request refused, not authorized", "api", kmsg.NameForKey(key),
			"operation", op.String(), "principal", s.Principal, "host", s.Host)
	}
	return ok
}

// syncACLs keeps the authorizer's ACLs equal to img's when d changed them. Called by publish
// before the image is published.
func (n *Node) syncACLs(img image.Image, d *image.Delta) {
	if a := n.cfg.Security.Authorizer; a != nil && d.ACLsChanged() {
		a.Replace(ACLBindings(img))
	}
}

// ACLBindings are the image's ACLs as the authorizer's bindings.
func ACLBindings(im image.Image) []acl.Binding {
	acls := im.ACLs()
	out := make([]acl.Binding, 0, len(acls))
	for _, a := range acls {
		out = append(out, acl.Binding{
			Resource: acl.Resource{Type: acl.ResourceType(a.ResourceType), Name: a.ResourceName, Pattern: acl.PatternType(a.PatternType)},
			Entry: acl.Entry{Principal: a.Principal, Host: a.Host, Operation: acl.Operation(a.Operation),
				Permission: acl.Permission(a.PermissionType)},
		})
	}
	return out
}
