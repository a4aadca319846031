package broker

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
)

// writeTimeout bounds how long one response may take to reach a slow client.
const writeTimeout = 60 * time.Second

// maxInflight is the number of requests per connection that may await
// their response (Kafka clients default to 5 in flight).
const maxInflight = 128

// conn is one client connection. Its reader goroutine (serve) decodes
// frames and runs handlers in arrival order; handlers may answer at once or
// later. Responses leave in request order: each request gets the next
// sequence number and the writer goroutine writes sequence n only after n-1.
type conn struct {
	b   *Broker
	nc  net.Conn
	log *slog.Logger

	mu        sync.Mutex // guards pending, nextWrite, closed
	pending   map[uint64]*outFrame
	nextWrite uint64
	closed    bool

	wake chan struct{} // capacity 1: a response became ready
	done chan struct{} // closed by close()
	// inflight bounds requests read but not yet answered on the wire, so a
	// client that pipelines without reading cannot grow the queue without
	// limit: the reader stops reading until the writer catches up.
	inflight chan struct{}
	once     sync.Once
	// mutedUntil (unix nanoseconds) is when a client quota throttle ends:
	// the reader takes no request before then (quota_throttle.go).
	mutedUntil atomic.Int64

	// principal is who the connection authenticated as, "User:ANONYMOUS"
	// until SASL or a TLS client certificate says otherwise. Handlers read it
	// for authorization; re-authentication may replace it mid-connection.
	principal atomic.Pointer[string]

	// listener is the listener that accepted the connection; auth is its
	// SASL state (nil on a listener without SASL), owned by the reader
	// goroutine (serve), where the SASL handlers run.
	listener *brokerListener
	auth     *connAuth
}

// anonymous is the principal of an unauthenticated connection, as in Kafka.
const anonymous = "User:ANONYMOUS"

// Principal returns the connection's authenticated principal.
func (c *conn) Principal() string {
	if p := c.principal.Load(); p != nil {
		return *p
	}
	return anonymous
}

// setPrincipal records the principal a SASL exchange or certificate proved.
func (c *conn) setPrincipal(p string) { c.principal.Store(&p) }

// outFrame is one encoded response: bytes pieces and optional streamed
// sections (record data sent from the log files). A nil pieces with skip set
// marks a request that takes no response.
type outFrame struct {
	pieces     []piece
	skip       bool
	closeAfter bool // the connection closes once this frame is written (failed authentication)
}

// piece is either a byte slice or a stream of a known length (e.g. a segment
// file range written with sendfile).
type piece struct {
	b      []byte
	stream streamer
}

// streamer writes exactly Len bytes to w; Close releases it (it may hold an
// open segment file) and is called once the frame is written or dropped.
type streamer interface {
	Len() int64
	WriteTo(w io.Writer) (int64, error)
	Close() error
}

func (f *outFrame) release() {
	for _, p := range f.pieces {
		if p.stream != nil {
			p.stream.Close()
		}
	}
}

func newConn(b *Broker, nc net.Conn) *conn {
	return &conn{
		b:        b,
		nc:       nc,
		log:      b.log.With("remote", nc.RemoteAddr().String()),
		pending:  make(map[uint64]*outFrame),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		inflight: make(chan struct{}, maxInflight),
	}
}

func (c *conn) close() {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		for seq, f := range c.pending {
			f.release()
			delete(c.pending, seq)
		}
		c.mu.Unlock()
		close(c.done)
		c.nc.Close()
		c.b.dropConn(c)
	})
}

// serve runs the reader loop until the connection fails or the broker stops.
func (c *conn) serve() {
	writerDone := make(chan struct{})
	defer func() {
		c.close()
		<-writerDone // the broker's wait group covers the writer too
	}()
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var seq uint64
	for {
		select {
		case c.inflight <- struct{}{}: // released by the writer
		case <-c.done:
			return
		}
		if !c.waitUnmuted() {
			return
		}
		frame, err := kafkawire.ReadFrame(br, kafkawire.MinRequestFrame, c.b.cfg.SocketRequestMaxBytes)
		if err != nil {
			switch {
			case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
			case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF):
				c.log.Debug("client went away", "err", err)
			default:
				c.log.Warn("closing connection: bad frame", "err", err)
			}
			return
		}
		c.b.metrics.bytesIn.Add(float64(len(frame) + 4))
		if c.auth != nil && c.auth.raw {
			// After a v0 SaslHandshake the client sends bare SASL tokens.
			if err := c.saslRawToken(seq, frame); err != nil {
				c.log.Info("closing connection: SASL authentication failed", "listener", c.listener.name, "err", err)
				return
			}
			seq++
			continue
		}
		hdr, body, err := kafkawire.ParseRequestHeader(frame)
		if err != nil {
			c.log.Warn("closing connection: bad request header", "err", err)
			return
		}
		r := &request{c: c, seq: seq, hdr: hdr, start: time.Now()}
		seq++
		if err := c.dispatch(r, body); err != nil {
			c.log.Warn("closing connection", "api", kmsg.NameForKey(hdr.Key), "key", hdr.Key,
				"version", hdr.Version, "client", deref(hdr.ClientID), "err", err)
			return
		}
	}
}

// dispatch decodes and runs one request. A panic in a handler is recovered,
// logged with its stack, and closes only this connection.
func (c *conn) dispatch(r *request, body []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("handler panic", "api", kmsg.NameForKey(r.hdr.Key), "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panic: %v", p)
		}
	}()
	h, ok := handlers[r.hdr.Key]
	if !ok || !h.servedIn(c.b.cfg.KRaft()) {
		return fmt.Errorf("unsupported API key %d", r.hdr.Key)
	}
	if err := c.checkAuthenticated(r.hdr.Key); err != nil {
		return err
	}
	if r.hdr.Version < h.min || r.hdr.Version > h.max {
		if r.hdr.Key == kmsg.ApiVersions.Int16() { // KIP-511: tell the client what we support
			r.reply(apiVersionsUnsupported(r))
			return nil
		}
		return fmt.Errorf("unsupported version %d (supported %d-%d)", r.hdr.Version, h.min, h.max)
	}
	req := kmsg.RequestForKey(r.hdr.Key)
	req.SetVersion(r.hdr.Version)
	if err := req.ReadFrom(body); err != nil {
		if r.hdr.Key == kmsg.ApiVersions.Int16() {
			// Newer ApiVersions bodies may not parse; answer anyway.
			r.reply(apiVersionsUnsupported(r))
			return nil
		}
		return fmt.Errorf("decoding request body: %w", err)
	}
	r.kreq = req
	handled := time.Now()
	resp, err := h.fn(c.b, r)
	c.b.chargeRequestTime(r, time.Since(handled))
	switch {
	case errors.Is(err, errDeferred):
		return nil
	case errors.Is(err, errNoResponse):
		r.skip()
		return nil
	case err != nil:
		return err
	}
	r.reply(resp)
	return nil
}

// enqueue stores the frame for seq and wakes the writer.
func (c *conn) enqueue(seq uint64, f *outFrame) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		f.release()
		return
	}
	c.pending[seq] = f
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// writeLoop is the only goroutine that writes to nc.
func (c *conn) writeLoop() {
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		for {
			c.mu.Lock()
			f, ok := c.pending[c.nextWrite]
			if ok {
				delete(c.pending, c.nextWrite)
				c.nextWrite++
			}
			c.mu.Unlock()
			if !ok {
				break
			}
			<-c.inflight
			if f.skip {
				continue
			}
			err := c.writeFrame(f)
			f.release()
			if err != nil {
				c.log.Debug("write failed, closing connection", "err", err)
				c.close()
				return
			}
			if f.closeAfter {
				c.close()
				return
			}
		}
	}
}

func (c *conn) writeFrame(f *outFrame) error {
	if err := c.nc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	if c.listener != nil && c.listener.tls != nil {
		return c.writeFrameBuffered(f)
	}
	var bufs net.Buffers
	var n int64
	for _, p := range f.pieces {
		if p.stream == nil {
			bufs = append(bufs, p.b)
			n += int64(len(p.b))
			continue
		}
		if len(bufs) > 0 {
			if _, err := bufs.WriteTo(c.nc); err != nil {
				return err
			}
			bufs = nil
		}
		w, err := p.stream.WriteTo(c.nc)
		n += w
		if err != nil {
			return err
		}
	}
	if len(bufs) > 0 {
		if _, err := bufs.WriteTo(c.nc); err != nil {
			return err
		}
	}
	c.b.metrics.bytesOut.Add(float64(n))
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
