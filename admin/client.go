package admin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("admin client closed")

// ErrUnsupported is returned when no reachable broker supports a request.
var ErrUnsupported = errors.New("request not supported by broker")

// Client is the access to one cluster. It is safe for concurrent use.
type Client struct {
	cfg       Config
	log       *slog.Logger
	tls       *tls.Config
	sasl      sasl.Mechanism
	formatter *kmsg.RequestFormatter

	stats stats

	mu      sync.Mutex // guards pools, brokers, lastGood, closed, zk
	pools   map[string]*brokerPool
	brokers map[int32]string // broker id → host:port, from the last Metadata
	// lastGood is the address that last answered an any-broker request; tried first.
	lastGood string
	closed   bool
	zk       *ZK
}

// New builds a client; it does no network I/O (connections open on first use).
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cluster %q config: %w", cfg.Name, err)
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.Default()
	}
	tc, err := cfg.TLS.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", cfg.Name, err)
	}
	mech, err := saslMechanism(cfg.SASL)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", cfg.Name, err)
	}
	c := &Client{
		cfg:       cfg,
		log:       logger.With("cluster", cfg.Name),
		tls:       tc,
		sasl:      mech,
		formatter: kmsg.NewRequestFormatter(kmsg.FormatterClientID(cfg.ClientID)),
		pools:     make(map[string]*brokerPool),
		brokers:   make(map[int32]string),
	}
	c.log.Debug("admin client created", "bootstrap", strings.Join(cfg.Bootstrap, ","), "sasl", cfg.SASL.String(), "tls", cfg.TLS.Enabled)
	return c, nil
}

// Name is the cluster's configured name.
func (c *Client) Name() string { return c.cfg.Name }

// Config returns the client's configuration (with defaults applied).
func (c *Client) Config() Config { return c.cfg }

// Close closes every connection (the broker pools and ZooKeeper).
// In-flight calls fail; their connections are closed when they return.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	pools := c.pools
	c.pools = map[string]*brokerPool{}
	zk := c.zk
	c.zk = nil
	c.mu.Unlock()
	for _, p := range pools {
		c.stats.open.Add(-int64(p.close()))
	}
	if zk != nil {
		zk.close()
	}
	return nil
}

// callCtx applies the per-call timeout unless ctx already ends sooner.
func (c *Client) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= c.cfg.Timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

func (c *Client) pool(addr string) (*brokerPool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	p := c.pools[addr]
	if p == nil {
		p = newBrokerPool(addr, c.cfg.MaxConnsPerBroker)
		c.pools[addr] = p
	}
	return p, nil
}

// requestAddr sends req to the broker at addr. maxVersion < 0 means the
// highest version both sides support; minVersion is the lowest acceptable.
func (c *Client) requestAddr(ctx context.Context, addr string, req kmsg.Request, minVersion, maxVersion int16) (kmsg.Response, error) {
	resp, _, err := c.requestAddrRetried(ctx, addr, req, minVersion, maxVersion)
	return resp, err
}

// requestAddrRetried is requestAddr that also says whether the request went
// out twice (the first time on a connection that broke): the broker may have
// acted on the first one, so "already exists" can mean "done".
func (c *Client) requestAddrRetried(ctx context.Context, addr string, req kmsg.Request, minVersion, maxVersion int16) (resp kmsg.Response, retried bool, err error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	p, err := c.pool(addr)
	if err != nil {
		return nil, false, err
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("waiting for a connection to %s: %w", addr, ctx.Err())
	}
	defer func() { <-p.sem }()

	key := req.Key()
	// A pooled connection may have been closed by the broker since its last
	// use (connections.max.idle.ms); such a failure is retried once on a
	// fresh connection instead of being reported as the broker being down.
	for attempt := 0; ; attempt++ {
		rc, stale := p.take(maxIdle)
		c.stats.open.Add(-int64(stale))
		reused := rc != nil
		if rc == nil {
			if rc, err = c.dial(ctx, addr); err != nil {
				c.stats.errors.Add(1)
				return nil, attempt > 0, err
			}
			c.stats.open.Add(1)
		}
		v := rc.versions[key]
		if v > req.MaxVersion() {
			v = req.MaxVersion()
		}
		if maxVersion >= 0 && v > maxVersion {
			v = maxVersion
		}
		if v < minVersion || v < 0 {
			c.release(p, rc)
			return nil, attempt > 0, fmt.Errorf("%s v%d+ at %s: %w", kmsg.NameForKey(key), minVersion, addr, ErrUnsupported)
		}
		req.SetVersion(v)
		c.stats.count(key)
		resp, err = c.roundTrip(ctx, rc, req)
		if err != nil {
			_ = rc.nc.Close()
			c.stats.open.Add(-1)
			if reused && attempt == 0 && ctx.Err() == nil {
				c.stats.retries.Add(1)
				continue
			}
			c.stats.errors.Add(1)
			return nil, attempt > 0, fmt.Errorf("%s to %s: %w", kmsg.NameForKey(key), addr, err)
		}
		c.release(p, rc)
		return resp, attempt > 0, nil
	}
}

// maxIdle is how long a pooled connection may sit unused before it is closed
// rather than reused: below Kafka's default connections.max.idle.ms (10 min).
const maxIdle = 5 * time.Minute

// release returns rc to p, or closes it if p was closed meanwhile.
func (c *Client) release(p *brokerPool, rc *rawConn) {
	rc.lastUsed = time.Now()
	if !p.put(rc) {
		c.stats.open.Add(-1)
	}
}

// requestBroker sends req to broker id (address from the last Metadata).
func (c *Client) requestBroker(ctx context.Context, id int32, req kmsg.Request, minVersion, maxVersion int16) (kmsg.Response, error) {
	resp, _, err := c.requestBrokerRetried(ctx, id, req, minVersion, maxVersion)
	return resp, err
}

// requestBrokerRetried is requestBroker that also says whether the request went out twice (see
// requestAddrRetried).
func (c *Client) requestBrokerRetried(ctx context.Context, id int32, req kmsg.Request, minVersion, maxVersion int16) (kmsg.Response, bool, error) {
	addr, err := c.brokerAddr(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return c.requestAddrRetried(ctx, addr, req, minVersion, maxVersion)
}

// brokerAddr is broker id's address from the last Metadata, asking again if it is not known.
func (c *Client) brokerAddr(ctx context.Context, id int32) (string, error) {
	c.mu.Lock()
	addr, ok := c.brokers[id]
	c.mu.Unlock()
	if ok {
		return addr, nil
	}
	if _, err := c.Metadata(ctx, []string{}); err != nil {
		return "", err
	}
	c.mu.Lock()
	addr, ok = c.brokers[id]
	c.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("broker %d: not in cluster metadata", id)
	}
	return addr, nil
}

// requestAny sends req to any reachable broker: the last good one first, then
// known brokers, then the bootstrap list.
func (c *Client) requestAny(ctx context.Context, req kmsg.Request, minVersion, maxVersion int16) (kmsg.Response, error) {
	c.mu.Lock()
	seen := map[string]bool{}
	var addrs []string
	add := func(a string) {
		if a != "" && !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	add(c.lastGood)
	for _, b := range c.cfg.Bootstrap {
		add(b)
	}
	for _, a := range c.brokers {
		add(a)
	}
	c.mu.Unlock()
	var errs []error
	try := func(addrs []string) (kmsg.Response, bool) {
		for _, a := range addrs {
			resp, err := c.requestAddr(ctx, a, req, minVersion, maxVersion)
			if err == nil {
				c.mu.Lock()
				c.lastGood = a
				c.mu.Unlock()
				return resp, true
			}
			errs = append(errs, err)
			if ctx.Err() != nil || errors.Is(err, ErrClosed) || errors.Is(err, ErrUnsupported) {
				return nil, true
			}
		}
		return nil, false
	}
	if resp, done := try(addrs); done && resp != nil {
		return resp, nil
	} else if !done && len(c.cfg.Bootstrap) == 0 && c.cfg.ZooKeeper != "" {
		// No bootstrap servers: the brokers registered in ZooKeeper are the seeds, read again whenever
		// every known address has failed (brokers may have moved since the last Metadata).
		found, err := c.zkSeeds(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		var fresh []string
		for _, a := range found {
			if !seen[a] {
				seen[a] = true
				fresh = append(fresh, a)
			}
		}
		if resp, _ := try(fresh); resp != nil {
			return resp, nil
		}
	}
	return nil, fmt.Errorf("no broker answered %s: %w", kmsg.NameForKey(req.Key()), errors.Join(errs...))
}

// zkSeeds reads the brokers registered in ZooKeeper (/brokers/ids) and returns, for each, the address
// of the listener whose security protocol matches this client's TLS and SASL settings (PLAINTEXT, SSL,
// SASL_PLAINTEXT or SASL_SSL), or its plain host:port when no listener matches.
func (c *Client) zkSeeds(ctx context.Context) ([]string, error) {
	z, err := c.ZooKeeper()
	if err != nil {
		return nil, err
	}
	brokers, err := z.Brokers(ctx)
	if err != nil {
		return nil, fmt.Errorf("finding the brokers in ZooKeeper: %w", err)
	}
	want := "PLAINTEXT"
	switch {
	case c.tls != nil && c.sasl != nil:
		want = "SASL_SSL"
	case c.tls != nil:
		want = "SSL"
	case c.sasl != nil:
		want = "SASL_PLAINTEXT"
	}
	var out []string
	for _, b := range brokers {
		addr := ""
		for _, l := range b.Listeners {
			if l.SecurityProtocol == want {
				addr = net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))
				break
			}
		}
		if addr == "" && b.Host != "" && b.Port > 0 {
			addr = net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
		}
		if addr != "" {
			out = append(out, addr)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no broker is registered in ZooKeeper (/brokers/ids is empty)")
	}
	return out, nil
}

// seedAddrs is where a client of its own (the test-message producer) starts: the bootstrap servers,
// else the brokers of the last Metadata, else those registered in ZooKeeper.
func (c *Client) seedAddrs(ctx context.Context) ([]string, error) {
	if len(c.cfg.Bootstrap) > 0 {
		return c.cfg.Bootstrap, nil
	}
	c.mu.Lock()
	var known []string
	for _, a := range c.brokers {
		known = append(known, a)
	}
	c.mu.Unlock()
	if len(known) > 0 {
		return known, nil
	}
	return c.zkSeeds(ctx)
}

func (c *Client) setBrokers(bs []Broker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[int32]string, len(bs))
	for _, b := range bs {
		m[b.ID] = net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	}
	c.brokers = m
}

// BrokerAddr returns the host:port of a broker from the last Metadata.
func (c *Client) BrokerAddr(id int32) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.brokers[id]
	return a, ok
}

func buildSASL(cfg SASLConfig) (sasl.Mechanism, error) {
	switch strings.ToUpper(cfg.Mechanism) {
	case "":
		return nil, nil
	case SASLPlain:
		return plain.Auth{User: cfg.Username, Pass: cfg.Password}.AsMechanism(), nil
	case SASLScramSHA256:
		return scram.Auth{User: cfg.Username, Pass: cfg.Password}.AsSha256Mechanism(), nil
	case SASLScramSHA512:
		return scram.Auth{User: cfg.Username, Pass: cfg.Password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("sasl: unknown mechanism %q", cfg.Mechanism)
}

// statsHook counts the requests of a kgo client (ProduceMessage's producer) in the client's Stats, so
// the request counts cover every request admin sends.
type statsHook struct{ stats *stats }

var _ kgo.HookBrokerWrite = statsHook{}

func (h statsHook) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	h.stats.count(key)
	if err != nil {
		h.stats.errors.Add(1)
	}
}

// stats holds request counters; all fields are atomics.
type stats struct {
	byKey   [128]atomic.Int64
	errors  atomic.Int64
	retries atomic.Int64
	dials   atomic.Int64
	open    atomic.Int64
}

func (s *stats) count(key int16) {
	if key >= 0 && int(key) < len(s.byKey) {
		s.byKey[key].Add(1)
	}
}

// Stats is a point-in-time copy of a client's request counters.
type Stats struct {
	// Requests counts requests sent per API name (e.g. "ListOffsets").
	Requests map[string]int64
	// Total is the sum of Requests.
	Total int64
	// Errors counts failed requests (transport errors, not Kafka error codes).
	Errors int64
	// Retries counts requests repeated on a fresh connection after a pooled
	// one turned out to be dead.
	Retries int64
	// Dials counts raw connections opened; OpenConns is how many are open now.
	Dials     int64
	OpenConns int64
}

// Stats returns the request counters (cumulative since New).
func (c *Client) Stats() Stats {
	s := Stats{Requests: map[string]int64{}}
	for k := range c.stats.byKey {
		if n := c.stats.byKey[k].Load(); n > 0 {
			s.Requests[kmsg.NameForKey(int16(k))] = n
			s.Total += n
		}
	}
	s.Errors = c.stats.errors.Load()
	s.Retries = c.stats.retries.Load()
	s.Dials = c.stats.dials.Load()
	s.OpenConns = c.stats.open.Load()
	return s
}

// Sub returns s minus an earlier snapshot, for per-cycle counts.
func (s Stats) Sub(earlier Stats) Stats {
	out := Stats{Requests: map[string]int64{}, Errors: s.Errors - earlier.Errors, Retries: s.Retries - earlier.Retries, Dials: s.Dials - earlier.Dials, OpenConns: s.OpenConns}
	for k, v := range s.Requests {
		if d := v - earlier.Requests[k]; d > 0 {
			out.Requests[k] = d
			out.Total += d
		}
	}
	return out
}
