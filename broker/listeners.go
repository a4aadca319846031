package broker

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/sasl"
)

// tlsHandshakeTimeout bounds a client's TLS handshake.
const tlsHandshakeTimeout = 10 * time.Second

// brokerListener is one bound listener and what its connections need. It
// is built by Start and read-only afterwards.
type brokerListener struct {
	name     string
	sec      ListenerSecurity
	ln       net.Listener
	tls      *tls.Config               // SSL and SASL_SSL
	mechs    map[string]sasl.Mechanism // SASL_PLAINTEXT and SASL_SSL, by name
	advHost  string                    // advertised endpoint
	advPort  int32
	protocol int16 // Kafka's security protocol number
}

// Endpoint is one advertised listener of a broker.
type Endpoint struct {
	Listener string
	Host     string
	Port     int32
	Protocol int16 // 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL
}

// at returns the broker's endpoint on listener; without one (a broker
// registered before it had that listener, or a view that keeps only the
// inter-broker endpoint) the broker's Host and Port stand in.
func (bi BrokerInfo) at(listener string) (string, int32) {
	for _, e := range bi.Endpoints {
		if e.Listener == listener {
			return e.Host, e.Port
		}
	}
	return bi.Host, bi.Port
}

// clientListener is the listener name the request arrived on ("" for
// requests made inside the broker).
func (r *request) clientListener() string {
	if r.c == nil || r.c.listener == nil {
		return ""
	}
	return r.c.listener.name
}

// openListeners binds every data listener, loads its TLS material and
// SASL mechanisms, and works out the advertised endpoints.
func (b *Broker) openListeners(ctx context.Context) error {
	b.authFails.register(b.metrics.reg, b.cfg.BrokerID)
	adv := map[string]listener{}
	for _, s := range b.cfg.AdvertisedListeners {
		l, err := parseListener(s)
		if err != nil {
			return err
		}
		adv[l.name] = l
	}
	for _, s := range b.cfg.Listeners {
		bl, err := b.openListener(ctx, s, adv)
		if err != nil {
			b.closeListeners()
			return err
		}
		b.listeners = append(b.listeners, bl)
	}
	b.ln = b.listeners[0].ln
	ib := b.cfg.interBrokerListener()
	for _, bl := range b.listeners {
		if bl.name == ib {
			b.advHost, b.advPort = bl.advHost, bl.advPort
		}
	}
	sec, err := b.interBrokerClientSecurity()
	if err != nil {
		b.closeListeners()
		return err
	}
	b.interBroker = sec
	return nil
}

func (b *Broker) openListener(ctx context.Context, s string, adv map[string]listener) (*brokerListener, error) {
	ls, err := parseListener(s)
	if err != nil {
		return nil, err
	}
	sec, err := b.cfg.listenerSecurity(ls.name)
	if err != nil {
		return nil, err
	}
	bl := &brokerListener{name: ls.name, sec: sec, protocol: protocolIDs[sec.Protocol]}
	if sec.usesTLS() {
		if bl.tls, err = sec.TLS.serverConfig(); err != nil {
			return nil, fmt.Errorf("listener %s: %w", ls.name, err)
		}
	}
	if sec.usesSASL() {
		if bl.mechs, err = b.saslMechanisms(sec); err != nil {
			return nil, fmt.Errorf("listener %s: %w", ls.name, err)
		}
	}
	var lc net.ListenConfig
	bl.ln, err = lc.Listen(ctx, "tcp", net.JoinHostPort(ls.host, strconv.Itoa(ls.port)))
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", s, err)
	}
	a, ok := adv[ls.name]
	if !ok {
		a = ls
	}
	bl.advHost, bl.advPort = a.host, int32(a.port)
	if bl.advPort == 0 { // listener on port 0: advertise the port we got
		bl.advPort = int32(bl.ln.Addr().(*net.TCPAddr).Port)
	}
	if bl.advHost == "" || bl.advHost == "0.0.0.0" || bl.advHost == "::" {
		bl.advHost = "127.0.0.1"
	}
	return bl, nil
}

func (b *Broker) closeListeners() {
	for _, bl := range b.listeners {
		bl.ln.Close()
	}
}

// endpoints are this broker's advertised endpoints, in listeners order.
func (b *Broker) endpoints() []Endpoint {
	out := make([]Endpoint, len(b.listeners))
	for i, bl := range b.listeners {
		out[i] = Endpoint{Listener: bl.name, Host: bl.advHost, Port: bl.advPort, Protocol: bl.protocol}
	}
	return out
}

// ListenerAddr is the bound address of the listener named name, valid
// after Start ("" if there is none).
func (b *Broker) ListenerAddr(name string) string {
	for _, bl := range b.listeners {
		if bl.name == name {
			return bl.ln.Addr().String()
		}
	}
	return ""
}

// saslMechanisms builds the mechanisms a SASL listener offers. PLAIN's user
// database is the listener's JAAS config; the SCRAM mechanisms read the
// stored credentials through scramLookup.
func (b *Broker) saslMechanisms(sec ListenerSecurity) (map[string]sasl.Mechanism, error) {
	out := map[string]sasl.Mechanism{}
	for _, name := range sec.Mechanisms {
		switch {
		case name == "PLAIN":
			users := sec.JAAS["PLAIN"].PlainUsers()
			out[name] = sasl.NewPlain(func(u string) (string, bool) { p, ok := users[u]; return p, ok })
		case sasl.IsScramMechanism(name):
			m, err := sasl.NewScram(name, scramLookup{b})
			if err != nil {
				return nil, err
			}
			out[name] = m
		default:
			return nil, fmt.Errorf("property sasl.enabled.mechanisms: %s is not supported", name)
		}
	}
	return out, nil
}

// scramLookup finds SCRAM credentials where the metadata mode keeps them:
// the broker or its cluster view answers as a sasl.CredentialLookup.
type scramLookup struct{ b *Broker }

func (l scramLookup) ScramCredential(user, mechanism string) (sasl.Credential, bool) {
	if cl, ok := any(l.b).(sasl.CredentialLookup); ok {
		return cl.ScramCredential(user, mechanism)
	}
	if cl, ok := l.b.view().(sasl.CredentialLookup); ok {
		return cl.ScramCredential(user, mechanism)
	}
	return sasl.Credential{}, false
}

// acceptLoop serves one listener until it closes.
func (b *Broker) acceptLoop(bl *brokerListener) {
	defer b.wg.Done()
	var backoff time.Duration
	for {
		nc, err := bl.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failures (EMFILE...): back off instead of spinning.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			b.log.Warn("accept failed", "listener", bl.name, "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-b.ctx.Done():
				return
			}
		}
		backoff = 0
		hold, ok := b.admitConnection(bl, nc)
		if !ok {
			nc.Close()
			return
		}
		if hold > 0 {
			// Over its address's connection_creation_rate: held unserved,
			// then closed, as Kafka's acceptor delays closing it.
			b.log.Debug("connection over connection_creation_rate; closing it unserved",
				"listener", bl.name, "remote", nc.RemoteAddr().String(), "after", hold)
			time.AfterFunc(hold, func() { nc.Close() })
			continue
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true) //nolint:errcheck // best effort
		}
		if bl.tls != nil {
			nc = tls.Server(nc, bl.tls)
		}
		c := newConn(b, nc)
		c.listener = bl
		if bl.sec.usesSASL() {
			c.auth = &connAuth{}
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			nc.Close()
			return
		}
		b.conns[c] = struct{}{}
		b.metrics.connections.Inc()
		b.wg.Add(1)
		b.mu.Unlock()
		go func() {
			defer b.wg.Done()
			if err := c.startTLS(); err != nil {
				c.log.Info("closing connection: TLS", "listener", bl.name, "err", err)
				c.close()
				return
			}
			c.serve()
		}()
	}
}

// startTLS runs the TLS handshake of a TLS listener's connection and, on an
// SSL listener, takes the principal from the client certificate through
// ssl.principal.mapping.rules (SASL_SSL takes it from SASL instead).
func (c *conn) startTLS() error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.b.ctx, tlsHandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if c.listener.sec.Protocol != protoSSL {
		return nil
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil // no client certificate: User:ANONYMOUS, as in Kafka
	}
	dn := certs[0].Subject.String()
	name, err := mapPrincipal(c.listener.sec.TLS.Rules, dn)
	if err != nil {
		return err
	}
	c.setPrincipal("User:" + name)
	c.log.Debug("TLS client authenticated", "listener", c.listener.name, "principal", "User:"+name)
	return nil
}

// listenerNames lists the data listeners' names, for messages.
func (b *Broker) listenerNames() string {
	names := make([]string, len(b.listeners))
	for i, bl := range b.listeners {
		names[i] = bl.name
	}
	return strings.Join(names, ",")
}

// equal compares two broker infos field by field (Endpoints is a slice).
func (bi BrokerInfo) equal(o BrokerInfo) bool {
	return bi.ID == o.ID && bi.Host == o.Host && bi.Port == o.Port && bi.Rack == o.Rack && slices.Equal(bi.Endpoints, o.Endpoints)
}

// tlsWriters are the buffers writeFrameBuffered writes through.
var tlsWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// writeFrameBuffered writes a frame through a buffer. On a TLS connection
// sendfile cannot be used (the bytes are encrypted in user space), so the
// record data is read from the segment files and written; buffering gathers
// the frame's small pieces and that data into full TLS records instead of
// one record per piece.
func (c *conn) writeFrameBuffered(f *outFrame) error {
	w := tlsWriters.Get().(*bufio.Writer)
	w.Reset(c.nc)
	defer func() {
		w.Reset(nil)
		tlsWriters.Put(w)
	}()
	var n int64
	for _, p := range f.pieces {
		if p.stream == nil {
			m, err := w.Write(p.b)
			n += int64(m)
			if err != nil {
				return err
			}
			continue
		}
		m, err := p.stream.WriteTo(w)
		n += m
		if err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	c.b.metrics.bytesOut.Add(float64(n))
	return nil
}
