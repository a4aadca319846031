// Package raftnet runs a quorum.Node over the Kafka wire: a listener that decodes the quorum's
// requests (Vote 52, BeginQuorumEpoch 53, EndQuorumEpoch 54, Fetch 1 of __cluster_metadata,
// FetchSnapshot 59, DescribeQuorum 55) in Kafka's framing, a client per peer that sends the node's requests to the
// other nodes' listeners, and a driver goroutine that owns the Node and ticks it on the wall
// clock.
//
// Goroutines and ownership:
//   - the driver goroutine (run) owns the Node and the table of requests waiting for the node's
//     answer (pending); nothing else touches either. Step, Tick and the Node's calls to Send all
//     happen on it; Do hands it a function to run.
//   - one goroutine per peer owns that peer's outbound connection: it sends the frames Send
//     queued, one at a time, and hands each answer to the driver.
//   - one goroutine per inbound connection reads a request, hands it to the driver, waits for
//     the answer and writes it, so answers leave in request order.
//   - the accept loop.
//
// Config.Handler lets the owner serve more APIs on the same listener (a KRaft controller's), and
// Config.OnStep tells it, on the driver, that the node may have changed.
//
// Server.mu guards only the set of open connections and the stopped flag, so that Stop can
// close them all; Stop then waits for every goroutine.
package raftnet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/quorum"
)

// Config configures a Server.
type Config struct {
	// Node configures the replica. Transport and Clock are set by the server (the network and
	// the wall clock); a nil Rand gets a randomly seeded one.
	Node quorum.Config
	// Listener is the quorum listener (the CONTROLLER listener). When nil the server listens on
	// ListenAddr.
	Listener   net.Listener
	ListenAddr string
	// Peers maps the other nodes' ids to the host:port of their quorum listeners (from
	// controller.quorum.voters). A message to a node not listed is dropped.
	//
	// A voter of a dynamic quorum (kraft.version 1) that is not listed is reached on the first
	// listener its entry in the voter set names.
	Peers map[int32]string
	// TickInterval is how often the driver calls Tick (default 10ms): the resolution of the
	// node's timers.
	TickInterval time.Duration
	// DialTimeout bounds a connection attempt to a peer (default 1s).
	DialTimeout time.Duration
	// RequestTimeout bounds one request on the wire, each way (default: the node's
	// RequestTimeout, else 2s). A request queued longer than this is not sent: the node has
	// given up on it and will send again.
	RequestTimeout time.Duration
	// MaxFrameBytes bounds a frame read (socket.request.max.bytes; default 100 MiB).
	MaxFrameBytes int32
	// QueueLen is how many requests may wait for one peer (default 64); more are dropped, which
	// the node survives as it survives any lost message.
	QueueLen int
	// Handler, when set, answers requests for API keys the quorum does not serve itself (a KRaft
	// controller's APIs and ApiVersions on its CONTROLLER listener). It runs on the connection's
	// goroutine with the header and the undecoded body; it may rewrite *hdr (ApiVersions answers
	// an unsupported version at v0) before the response is written at hdr's version. It returns
	// false to close the connection without an answer. ctx ends when the server stops, and the
	// handler must return soon after it does. Without a Handler such keys close the connection.
	Handler func(ctx context.Context, hdr *kafkawire.RequestHeader, body []byte) (kmsg.Response, bool)
	// Accept, when set, runs first on every inbound connection, on that connection's goroutine:
	// the listener's TLS handshake and SASL exchange (answering ApiVersions and the SASL requests
	// itself). It returns the connection to serve from then on (it may have read ahead) and who
	// is on it, or an error that closes the connection. It must return soon after ctx ends. Nil:
	// every connection is served as it is, anonymous.
	Accept func(ctx context.Context, c net.Conn) (net.Conn, Session, error)
	// Authorize, when set, decides whether a session may send a request with this API key to
	// the quorum (Vote, Fetch, DescribeQuorum, AddRaftVoter …) and logs a refusal; a refused
	// request is answered with CLUSTER_AUTHORIZATION_FAILED. Handler sees the session through
	// SessionFrom and decides for its own keys. It runs on the connection's goroutine and must
	// not block.
	Authorize func(s Session, key int16) bool
	// Dial, when set, connects to a peer's listener and returns the connection ready for
	// requests (its TLS handshake and SASL exchange done), within ctx (which carries the
	// request timeout). Nil: plain TCP within DialTimeout.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// OnStep, when set, is called on the driver goroutine after every Step, Tick and Do, so its
	// owner learns of a new high watermark, epoch or leader without polling. It must not block
	// and must not keep the node.
	OnStep func(n *quorum.Node)
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.TickInterval <= 0 {
		c.TickInterval = 10 * time.Millisecond
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = c.Node.RequestTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 2 * time.Second
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 100 << 20
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 64
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Node.Logger == nil {
		c.Node.Logger = c.Logger
	}
	if c.Node.Rand == nil {
		c.Node.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
}

// ErrStopped is returned by Do on a server that is stopped (or not started).
var ErrStopped = errors.New("raftnet: server stopped")

// Server is one quorum node on the network. Configure with New (no I/O), then Start and Stop.
type Server struct {
	cfg Config
	id  int32
	log *slog.Logger

	ln     net.Listener
	peers  map[int32]*peer // fixed at Start
	inbox  chan inbound
	ops    chan op
	stop   chan struct{}
	ctx    context.Context // cancelled by Stop; bounds dials
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Owned by the driver goroutine (and by Start, before the driver runs).
	node    *quorum.Node
	pending map[pendingKey]pendingReply
	seq     int32
	// driving is set once the driver runs: a peer added after that starts its goroutine at once.
	driving bool

	mu      sync.Mutex // guards conns and stopped
	conns   map[net.Conn]struct{}
	stopped bool
	started bool
}

// inbound is a message for the node: a request from an inbound connection (with the channel its
// answer goes to) or a response a peer goroutine read.
type inbound struct {
	msg   quorum.Message
	reply chan kmsg.Response
}

type op struct {
	fn   func(*quorum.Node)
	done chan struct{}
}

// pendingKey names a request handed to the node: its sender and the correlation the driver gave
// it (unique per server, so two connections using the same wire correlation id never collide).
type pendingKey struct {
	from, corr int32
}

type pendingReply struct {
	ch chan kmsg.Response
	at time.Time
}

// New checks the configuration; it does no I/O.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.Listener == nil && cfg.ListenAddr == "" {
		return nil, errors.New("raftnet: Config needs a Listener or a ListenAddr")
	}
	for id, addr := range cfg.Peers {
		if id == cfg.Node.NodeID {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("raftnet: peer %d address %q: %w", id, addr, err)
		}
	}
	return &Server{
		cfg:     cfg,
		id:      cfg.Node.NodeID,
		log:     cfg.Logger.With("node", cfg.Node.NodeID),
		inbox:   make(chan inbound),
		ops:     make(chan op),
		stop:    make(chan struct{}),
		pending: map[pendingKey]pendingReply{},
		conns:   map[net.Conn]struct{}{},
	}, nil
}

// Start listens, builds the node from its log and election state, and starts the goroutines.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("raftnet: server already started")
	}
	ln := s.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.ListenAddr); err != nil {
			return fmt.Errorf("raftnet: listen on %s: %w", s.cfg.ListenAddr, err)
		}
	}
	s.peers = map[int32]*peer{}
	for id, addr := range s.cfg.Peers {
		if id != s.id {
			s.peers[id] = &peer{id: id, addr: addr, queue: make(chan queued, s.cfg.QueueLen)}
		}
	}
	ncfg := s.cfg.Node
	ncfg.Transport = s
	ncfg.Clock = wallClock{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	node, err := quorum.New(ncfg)
	if err != nil {
		s.cancel()
		ln.Close()
		return fmt.Errorf("raftnet: node %d: %w", s.id, err)
	}
	s.node = node
	s.ln = ln
	s.started = true
	// Peers New added from the voter set (addPeer) start here with the configured ones; the
	// list is taken before the driver runs, since it adds peers of its own from then on.
	peers := make([]*peer, 0, len(s.peers))
	for _, p := range s.peers {
		peers = append(peers, p)
	}
	s.wg.Add(2 + len(peers))
	s.driving = true
	go s.run()
	go s.accept()
	for _, p := range peers {
		go s.runPeer(p)
	}
	s.log.Info("quorum listener started", "addr", ln.Addr().String())
	return nil
}

// Addr is the listener's address (valid after Start).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Stop closes the listener and every connection and waits for the server's goroutines. The
// node's log and state store stay open: they belong to the caller. Stop may be called more than
// once.
func (s *Server) Stop() {
	s.mu.Lock()
	if !s.started || s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	close(s.stop)
	s.cancel()
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.log.Info("quorum listener stopped")
}

// Do runs fn on the driver goroutine, the node's owner, and returns when it has run. fn must
// not block and must not keep the node. It returns ErrStopped (without running fn) on a server
// that is not running, or ctx's error if ctx ends before the driver takes fn.
func (s *Server) Do(ctx context.Context, fn func(n *quorum.Node)) error {
	s.mu.Lock()
	running := s.started && !s.stopped
	s.mu.Unlock()
	if !running {
		return ErrStopped
	}
	o := op{fn: fn, done: make(chan struct{})}
	select {
	case s.ops <- o:
	case <-s.stop:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	// The driver runs an op it took to completion, so waiting for done cannot hang.
	<-o.done
	return nil
}

// run is the driver goroutine: the only one that touches the node and pending.
func (s *Server) run() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.node.Tick()
			s.prunePending()
		case in := <-s.inbox:
			if in.reply != nil {
				s.seq++
				in.msg.Correlation = s.seq
				at := time.Now()
				if reconfigKey(in.msg.Request.Key()) {
					// Kept until its answer's own timeout (see answer), not the request timeout.
					at = at.Add(reconfigTimeout(in.msg.Request, s.cfg.RequestTimeout))
				}
				s.pending[pendingKey{in.msg.From, s.seq}] = pendingReply{ch: in.reply, at: at}
			}
			if in.msg.Response != nil {
				s.learnEndpoints(in.msg.Response)
			}
			s.node.Step(in.msg)
		case o := <-s.ops:
			o.fn(s.node)
			close(o.done)
		}
		if s.cfg.OnStep != nil {
			s.cfg.OnStep(s.node)
		}
	}
}

// prunePending forgets requests the node never answered (a node that found its own state broken
// stops answering); their connections have given up on them already.
func (s *Server) prunePending() {
	cutoff := time.Now().Add(-2 * s.cfg.RequestTimeout)
	for k, p := range s.pending {
		if p.at.Before(cutoff) {
			delete(s.pending, k)
		}
	}
}

// Send implements quorum.Transport. It is called by the node, so on the driver goroutine (or in
// Start before the driver runs), and never blocks: a response goes to the connection waiting for
// it, a request is encoded at once (the node may send one request object to several peers) and
// queued for the peer's goroutine; when the queue is full it is dropped.
func (s *Server) Send(m quorum.Message) {
	if m.Response != nil {
		k := pendingKey{m.To, m.Correlation}
		if p, ok := s.pending[k]; ok {
			delete(s.pending, k)
			p.ch <- m.Response // buffered, one answer per request
		}
		return
	}
	p := s.peers[m.To]
	if p == nil && m.Request != nil {
		p = s.voterPeer(m.To)
	}
	if p == nil || m.Request == nil {
		s.log.Debug("quorum message to an unknown node dropped", "to", m.To)
		return
	}
	req := m.Request
	if v, ok := requestVersions[req.Key()]; ok && req.GetVersion() == 0 {
		req.SetVersion(v)
	}
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("raft-client-" + strconv.Itoa(int(s.id))))
	q := queued{
		frame:       f.AppendRequest(nil, req, m.Correlation),
		key:         req.Key(),
		version:     req.GetVersion(),
		correlation: m.Correlation,
		at:          time.Now(),
	}
	select {
	case p.queue <- q:
	default:
		s.log.Debug("quorum peer queue full; request dropped", "to", m.To, "key", req.Key())
	}
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.stop:
			default:
				s.log.Error("quorum listener failed", "err", err)
			}
			return
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

// track records an open connection so Stop can close it; false once the server is stopping.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

// serveConn answers one inbound connection's requests in order. A frame that does not parse,
// an API neither the quorum nor Config.Handler serves, or a request the node does not answer in
// time closes the connection.
func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer s.untrack(c)
	sess := Session{Principal: AnonymousPrincipal, Host: RemoteHost(c)}
	if s.cfg.Accept != nil {
		nc, ss, err := s.cfg.Accept(s.ctx, c)
		if err != nil {
			s.log.Info("quorum connection refused", "remote", c.RemoteAddr().String(), "err", err)
			return
		}
		c, sess = nc, ss
	}
	ctx := WithSession(s.ctx, sess)
	br := bufio.NewReader(c)
	var out []byte
	for {
		frame, err := kafkawire.ReadFrame(br, kafkawire.MinRequestFrame, s.cfg.MaxFrameBytes)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("quorum connection closed", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		h, body, err := kafkawire.ParseRequestHeader(frame)
		if err != nil {
			s.log.Warn("quorum request refused; closing the connection", "remote", c.RemoteAddr().String(), "err", err)
			return
		}
		if !servedKey(h.Key) && s.cfg.Handler != nil {
			resp, ok := s.cfg.Handler(ctx, &h, body)
			if !ok {
				return
			}
			out = kafkawire.AppendResponse(out[:0], h, resp)
		} else {
			r, err := parseBody(h, body)
			if err != nil {
				s.log.Warn("quorum request refused; closing the connection", "remote", c.RemoteAddr().String(), "err", err)
				return
			}
			var resp kmsg.Response
			ok := true
			if s.cfg.Authorize != nil && !s.cfg.Authorize(sess, h.Key) {
				resp = refusedResponse(r.req) // Authorize says why
			} else if resp, ok = s.answer(r); !ok {
				return
			}
			out = kafkawire.AppendResponse(out[:0], r.hdr, resp)
		}
		if err := c.SetWriteDeadline(time.Now().Add(s.cfg.RequestTimeout)); err != nil {
			return
		}
		if _, err := c.Write(out); err != nil {
			s.log.Debug("quorum response not written", "remote", c.RemoteAddr().String(), "err", err)
			return
		}
	}
}

// answer has the driver answer one request; false when there is no answer to write.
func (s *Server) answer(r request) (kmsg.Response, bool) {
	if req, ok := r.req.(*kmsg.DescribeQuorumRequest); ok {
		var resp kmsg.Response
		if err := s.Do(s.ctx, func(n *quorum.Node) { resp = n.Describe(req) }); err != nil {
			return nil, false
		}
		return resp, true
	}
	reply := make(chan kmsg.Response, 1)
	msg := quorum.Message{From: senderID(r.req), To: s.id, Request: r.req}
	select {
	case s.inbox <- inbound{msg: msg, reply: reply}:
	case <-s.stop:
		return nil, false
	}
	wait := s.cfg.RequestTimeout
	if reconfigKey(r.req.Key()) {
		wait = reconfigTimeout(r.req, s.cfg.RequestTimeout)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case resp := <-reply:
		return resp, true
	case <-t.C:
		if reconfigKey(r.req.Key()) {
			// A voter change waits for its commit; an admin client is told it timed out (the
			// change may still commit), as Kafka does, rather than losing its connection.
			return reconfigTimedOut(r.req), true
		}
		s.log.Warn("quorum node did not answer a request in time; closing the connection", "key", r.req.Key(), "client", r.hdr.ClientIDString())
		return nil, false
	case <-s.stop:
		return nil, false
	}
}

// senderID is the node a request comes from, as the request itself names it.
func senderID(req kmsg.Request) int32 {
	switch r := req.(type) {
	case *kmsg.VoteRequest:
		if len(r.Topics) > 0 && len(r.Topics[0].Partitions) > 0 {
			return r.Topics[0].Partitions[0].CandidateID
		}
	case *kmsg.BeginQuorumEpochRequest:
		if len(r.Topics) > 0 && len(r.Topics[0].Partitions) > 0 {
			return r.Topics[0].Partitions[0].LeaderID
		}
	case *kmsg.EndQuorumEpochRequest:
		if len(r.Topics) > 0 && len(r.Topics[0].Partitions) > 0 {
			return r.Topics[0].Partitions[0].LeaderID
		}
	case *kmsg.FetchRequest:
		if r.ReplicaID >= 0 {
			return r.ReplicaID
		}
		return r.ReplicaState.ID
	case *kmsg.FetchSnapshotRequest:
		return r.ReplicaID
	}
	return -1
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// reconfigKey: AddRaftVoter, RemoveRaftVoter and UpdateRaftVoter, whose answers wait for a commit.
func reconfigKey(key int16) bool {
	switch kmsg.Key(key) {
	case kmsg.AddRaftVoter, kmsg.RemoveRaftVoter, kmsg.UpdateRaftVoter:
		return true
	}
	return false
}

// reconfigTimeout is how long a voter change's answer may take: AddRaftVoter's TimeoutMillis,
// else 15 s (Kafka's default for it), never less than the request timeout.
func reconfigTimeout(req kmsg.Request, requestTimeout time.Duration) time.Duration {
	d := 15 * time.Second
	if r, ok := req.(*kmsg.AddRaftVoterRequest); ok && r.TimeoutMillis > 0 {
		d = time.Duration(r.TimeoutMillis) * time.Millisecond
	}
	return max(d, requestTimeout)
}

func reconfigTimedOut(req kmsg.Request) kmsg.Response {
	msg := "the voter change did not commit in time"
	code := kerr.RequestTimedOut.Code
	switch r := req.(type) {
	case *kmsg.AddRaftVoterRequest:
		resp := kmsg.NewPtrAddRaftVoterResponse()
		resp.Version, resp.ErrorCode, resp.ErrorMessage = r.Version, code, &msg
		return resp
	case *kmsg.RemoveRaftVoterRequest:
		resp := kmsg.NewPtrRemoveRaftVoterResponse()
		resp.Version, resp.ErrorCode, resp.ErrorMessage = r.Version, code, &msg
		return resp
	}
	resp := kmsg.NewPtrUpdateRaftVoterResponse()
	resp.Version, resp.ErrorCode = req.GetVersion(), code
	return resp
}

// voterPeer adds a peer for a voter the configuration does not list, on the first listener
// its voter-set entry names (a dynamic quorum's added voter).
func (s *Server) voterPeer(id int32) *peer {
	if s.node == nil || id == s.id {
		return nil
	}
	v, ok := s.node.Voters().Get(id)
	if !ok || len(v.Endpoints) == 0 {
		return nil
	}
	ep := v.Endpoints[0]
	return s.addPeer(id, net.JoinHostPort(ep.Host, strconv.Itoa(int(ep.Port))), "the voter set")
}

// learnEndpoints adds a peer for a node that a fetch answer names with its listener (the
// quorum leader) when this server has none for it: a node joining a dynamic quorum knows only
// its bootstrap servers until it has replicated the voter set.
func (s *Server) learnEndpoints(resp kmsg.Response) {
	f, ok := resp.(*kmsg.FetchResponse)
	if !ok {
		return
	}
	for _, b := range f.Brokers {
		if b.NodeID < 0 || b.NodeID == s.id || s.peers[b.NodeID] != nil || b.Port <= 0 || b.Port > 65535 {
			continue
		}
		s.addPeer(b.NodeID, net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))), "a fetch answer")
	}
}

// addPeer adds a peer at addr. It runs on the driver goroutine, or in Start while the node is
// built (Start then starts the peer's goroutine with the others); the driver holds a count of
// wg until Stop has closed stop, so a goroutine started here is waited for.
func (s *Server) addPeer(id int32, addr, from string) *peer {
	p := &peer{id: id, addr: addr, queue: make(chan queued, s.cfg.QueueLen)}
	s.peers[id] = p
	if s.driving {
		s.wg.Add(1)
		go s.runPeer(p)
	}
	s.log.Info("quorum peer added", "peer", id, "addr", addr, "from", from)
	return p
}
