package admin

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
)

// maxResponseBytes bounds a response frame so a confused peer cannot make us
// allocate without limit (a 100k-partition Metadata response is ~10 MB).
const maxResponseBytes = 512 << 20

// rawConn is one authenticated connection to one broker. It is used by one
// request at a time (the pool hands it out exclusively).
type rawConn struct {
	nc       net.Conn
	corr     int32
	versions [128]int16 // max version per API key the broker supports; -1 unsupported
	buf      []byte
	lastUsed time.Time
}

// brokerPool holds the idle connections to one address and caps how many
// requests run against it at once.
type brokerPool struct {
	addr string
	sem  chan struct{} // one token per allowed in-flight request

	mu     sync.Mutex // guards idle and closed
	idle   []*rawConn
	closed bool
}

func newBrokerPool(addr string, max int) *brokerPool {
	return &brokerPool{addr: addr, sem: make(chan struct{}, max)}
}

// take returns an idle connection (nil if none), closing the ones idle
// longer than maxIdle; stale is how many it closed.
func (p *brokerPool) take(maxIdle time.Duration) (rc *rawConn, stale int) {
	p.mu.Lock()
	var old []*rawConn
	for len(p.idle) > 0 {
		n := len(p.idle)
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		if time.Since(c.lastUsed) > maxIdle {
			old = append(old, c)
			continue
		}
		rc = c
		break
	}
	p.mu.Unlock()
	for _, c := range old {
		_ = c.nc.Close()
	}
	return rc, len(old)
}

// put returns a healthy connection to the pool; it reports false (and closes
// the connection) when the pool is closed.
func (p *brokerPool) put(c *rawConn) bool {
	p.mu.Lock()
	if !p.closed {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		return true
	}
	p.mu.Unlock()
	_ = c.nc.Close()
	return false
}

// close closes the idle connections and returns how many it closed.
func (p *brokerPool) close() int {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.nc.Close()
	}
	return len(idle)
}

// dial opens and prepares a connection: TLS, ApiVersions, SASL.
func (c *Client) dial(ctx context.Context, addr string) (*rawConn, error) {
	d := net.Dialer{Timeout: c.cfg.DialTimeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	c.stats.dials.Add(1)
	if c.tls != nil {
		tc := c.tls.Clone()
		if tc.ServerName == "" {
			host, _, _ := net.SplitHostPort(addr)
			tc.ServerName = host
		}
		tconn := tls.Client(nc, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("tls handshake with %s: %w", addr, err)
		}
		nc = tconn
	}
	rc := &rawConn{nc: nc, lastUsed: time.Now()}
	for i := range rc.versions {
		rc.versions[i] = -1
	}
	if err := c.handshake(ctx, rc, addr); err != nil {
		_ = nc.Close()
		return nil, err
	}
	return rc, nil
}

func (c *Client) handshake(ctx context.Context, rc *rawConn, addr string) error {
	// ApiVersions v3 first; a broker that does not know v3 answers v0 with
	// UNSUPPORTED_VERSION and its own list (KIP-511), which we accept as is.
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName = "osprey"
	av.ClientSoftwareVersion = "1"
	resp, err := c.roundTrip(ctx, rc, av)
	if err != nil {
		return fmt.Errorf("api versions from %s: %w", addr, err)
	}
	avr := resp.(*kmsg.ApiVersionsResponse)
	if e := codeErr(av.Key(), avr.ErrorCode, nil); e != nil && !errors.Is(e, kerr.UnsupportedVersion) {
		return fmt.Errorf("api versions from %s: %w", addr, e)
	}
	if len(avr.ApiKeys) == 0 {
		av.Version = 0
		if resp, err = c.roundTrip(ctx, rc, av); err != nil {
			return fmt.Errorf("api versions v0 from %s: %w", addr, err)
		}
		avr = resp.(*kmsg.ApiVersionsResponse)
	}
	for _, k := range avr.ApiKeys {
		if k.ApiKey >= 0 && int(k.ApiKey) < len(rc.versions) {
			rc.versions[k.ApiKey] = k.MaxVersion
		}
	}
	if c.sasl != nil {
		if err := c.authenticate(ctx, rc, addr); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) authenticate(ctx context.Context, rc *rawConn, addr string) error {
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Mechanism = c.sasl.Name()
	hs.Version = min(1, max(rc.versions[hs.Key()], 0))
	resp, err := c.roundTrip(ctx, rc, hs)
	if err != nil {
		return fmt.Errorf("sasl handshake with %s: %w", addr, err)
	}
	if e := codeErr(hs.Key(), resp.(*kmsg.SASLHandshakeResponse).ErrorCode, nil); e != nil {
		return fmt.Errorf("sasl handshake with %s (mechanism %s): %w", addr, hs.Mechanism, e)
	}
	sess, out, err := c.sasl.Authenticate(ctx, addr)
	if err != nil {
		return fmt.Errorf("sasl %s start: %w", hs.Mechanism, err)
	}
	for step := 0; step < 10; step++ {
		ar := kmsg.NewPtrSASLAuthenticateRequest()
		ar.SASLAuthBytes = out
		ar.Version = min(rc.versions[ar.Key()], 2)
		if ar.Version < 0 {
			return fmt.Errorf("sasl with %s: broker lacks SaslAuthenticate", addr)
		}
		resp, err := c.roundTrip(ctx, rc, ar)
		if err != nil {
			return fmt.Errorf("sasl authenticate with %s: %w", addr, err)
		}
		r := resp.(*kmsg.SASLAuthenticateResponse)
		if e := codeErr(ar.Key(), r.ErrorCode, nil); e != nil {
			msg := ""
			if r.ErrorMessage != nil {
				msg = ": " + *r.ErrorMessage
			}
			return fmt.Errorf("sasl authentication failed with %s%s: %w", addr, msg, e)
		}
		done, next, err := sess.Challenge(r.SASLAuthBytes)
		if err != nil {
			return fmt.Errorf("sasl %s challenge: %w", hs.Mechanism, err)
		}
		if done {
			return nil
		}
		out = next
	}
	return fmt.Errorf("sasl with %s: too many rounds", addr)
}

// roundTrip writes req (its version already set) and reads its response.
// The caller owns rc exclusively; on error rc must be closed.
func (c *Client) roundTrip(ctx context.Context, rc *rawConn, req kmsg.Request) (kmsg.Response, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = rc.nc.SetDeadline(dl)
	} else {
		_ = rc.nc.SetDeadline(time.Time{})
	}
	// Cancellation without a deadline still unblocks I/O, without a goroutine.
	stop := context.AfterFunc(ctx, func() { _ = rc.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	rc.corr++
	corr := rc.corr
	rc.buf = c.formatter.AppendRequest(rc.buf[:0], req, corr)
	if _, err := rc.nc.Write(rc.buf); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("writing request: %w", err))
	}
	var hdr [8]byte
	if _, err := io.ReadFull(rc.nc, hdr[:]); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("reading response: %w", err))
	}
	size := int32(binary.BigEndian.Uint32(hdr[:4]))
	if size < 4 || size > maxResponseBytes {
		return nil, fmt.Errorf("response size %d out of range", size)
	}
	if got := int32(binary.BigEndian.Uint32(hdr[4:])); got != corr {
		return nil, fmt.Errorf("response correlation id %d, want %d", got, corr)
	}
	body := make([]byte, size-4)
	if _, err := io.ReadFull(rc.nc, body); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("reading response body: %w", err))
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	// Flexible responses carry a tagged-field section in their header, except
	// ApiVersions, whose response header is always v0.
	if req.IsFlexible() && req.Key() != 18 {
		var err error
		if body, err = skipTags(body); err != nil {
			return nil, fmt.Errorf("response header: %w", err)
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decoding %s v%d response: %w", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp, nil
}

func skipTags(b []byte) ([]byte, error) {
	n, l := binary.Uvarint(b)
	if l <= 0 {
		return nil, errors.New("bad tag count")
	}
	b = b[l:]
	for i := uint64(0); i < n; i++ {
		if _, l = binary.Uvarint(b); l <= 0 {
			return nil, errors.New("bad tag")
		}
		b = b[l:]
		sz, l := binary.Uvarint(b)
		if l <= 0 || uint64(len(b)-l) < sz {
			return nil, errors.New("bad tag size")
		}
		b = b[l+int(sz):]
	}
	return b, nil
}

// ctxErr prefers the context's error, which says why I/O was interrupted.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}

// saslMechanism builds the franz-go mechanism for cfg (nil when disabled).
func saslMechanism(cfg SASLConfig) (sasl.Mechanism, error) {
	return buildSASL(cfg)
}
