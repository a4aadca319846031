// Package zk implements metastore on a real ZooKeeper ensemble through
// github.com/go-zookeeper/zk, with an optional chroot (created if missing),
// errors and watch events mapped to metastore's, and ZooKeeper's session
// life cycle: a session survives disconnections shorter than its timeout
// (go-zookeeper reconnects and re-arms watches); once the ensemble expires
// it, the Session reports StateExpired, pending watches get
// EventSessionExpired, and the connection is closed — the caller opens a new
// Session (go-zookeeper on its own would silently start a fresh session,
// which would break the ownership of ephemeral nodes).
//
// go-zookeeper's four-letter-word helpers (FLW*) are broken against
// ZooKeeper 3.7+ and are not used.
package zk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/osprey-kafka/osprey/broker/metastore"
)

// Config says where and how to connect.
type Config struct {
	// Servers are host:port addresses of the ensemble.
	Servers []string
	// Chroot roots every path of the session ("" for none), e.g. "/kafka".
	Chroot string
	// SessionTimeout is the requested session timeout; the server clamps it
	// to [2, 20] × its tickTime. Default 18s (Kafka's zookeeper.session.timeout.ms).
	SessionTimeout time.Duration
	// Logger receives go-zookeeper's messages (info at Debug level). Default
	// slog.Default().
	Logger *slog.Logger
	// Dialer replaces net.DialTimeout (tests use it to cut connections).
	Dialer func(network, address string, timeout time.Duration) (net.Conn, error)
}

// DefaultSessionTimeout is Kafka's default zookeeper.session.timeout.ms.
const DefaultSessionTimeout = 18 * time.Second

// ParseConnectString splits a ZooKeeper connect string such as
// "zk1:2181,zk2:2181/kafka" into servers and chroot.
func ParseConnectString(s string) (servers []string, chroot string, err error) {
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], s[i:]
		chroot = strings.TrimSuffix(chroot, "/")
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			servers = append(servers, h)
		}
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("zookeeper connect string %q: no servers", s)
	}
	if err := metastore.ValidateChroot(chroot); err != nil {
		return nil, "", fmt.Errorf("zookeeper connect string %q: %w", s, err)
	}
	return servers, chroot, nil
}

// Connector returns a metastore.Connector opening sessions with cfg.
func Connector(cfg Config) metastore.Connector { return connector(cfg) }

type connector Config

func (c connector) Connect(ctx context.Context) (metastore.Session, error) {
	return Connect(ctx, Config(c))
}

// Session is a ZooKeeper session; it implements metastore.Session.
type Session struct {
	conn    *gozk.Conn
	chroot  string
	log     *slog.Logger
	st      *metastore.StateTracker
	loopEnd chan struct{} // closed when go-zookeeper's event channel closes

	mu            sync.Mutex
	id            int64 // the session id; guarded by mu
	connected     chan struct{}
	connectedOnce sync.Once
	tcp           *gatedConn // the latest connection go-zookeeper dialled; guarded by mu
	// sentinel is go-zookeeper's channel for the sentinel watch
	// (reconnect.go); nil until it is set; guarded by mu.
	sentinel  <-chan gozk.Event
	closeOnce sync.Once
}

var _ metastore.Session = (*Session)(nil)

// Connect opens a session and waits until it is established (and the chroot
// exists) or ctx ends.
func Connect(ctx context.Context, cfg Config) (*Session, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("zookeeper: no servers")
	}
	if err := metastore.ValidateChroot(cfg.Chroot); err != nil {
		return nil, err
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Session{
		chroot:    cfg.Chroot,
		log:       cfg.Logger,
		st:        metastore.NewStateTracker(metastore.StateDisconnected),
		loopEnd:   make(chan struct{}),
		connected: make(chan struct{}),
	}
	conn, events, err := gozk.Connect(cfg.Servers, cfg.SessionTimeout,
		gozk.WithLogger(zkLogger{cfg.Logger}),
		gozk.WithLogInfo(false),
		gozk.WithEventCallback(s.onEvent),
		gozk.WithDialer(s.trackingDialer(cfg.Dialer)))
	if err != nil {
		return nil, fmt.Errorf("zookeeper connect %v: %w", cfg.Servers, err)
	}
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()
	// Session state comes from the callback; this goroutine only notices
	// when go-zookeeper's loop has ended (it closes the channel last).
	go func() {
		for range events {
		}
		close(s.loopEnd)
	}()
	select {
	case <-s.connected:
		s.mu.Lock()
		s.id = conn.SessionID()
		s.mu.Unlock()
	case <-s.st.Done():
		_ = s.Close()
		return nil, fmt.Errorf("zookeeper connect %v: %w", cfg.Servers, metastore.ErrSessionExpired)
	case <-ctx.Done():
		_ = s.Close()
		return nil, fmt.Errorf("zookeeper connect %v: %w", cfg.Servers, ctx.Err())
	}
	if err := s.prepare(ctx, conn); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// trackingDialer wraps dial (nil: net.DialTimeout) to remember the live TCP
// connection: go-zookeeper's handshake read can block for 10 × 2/3 of the
// session timeout, and Close must not wait that long. The wrapper can hold
// replies after a reconnection (reconnect.go).
func (s *Session) trackingDialer(dial gozk.Dialer) gozk.Dialer {
	if dial == nil {
		dial = net.DialTimeout
	}
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		c, err := dial(network, address, timeout)
		if err != nil {
			return nil, err
		}
		g := newGatedConn(c)
		s.mu.Lock()
		s.tcp = g
		s.mu.Unlock()
		return g, nil
	}
}

// prepare runs once the session is established: it creates the chroot
// (through a session without the chroot prefix) and sets the sentinel watch
// that notices reconnections.
func (s *Session) prepare(ctx context.Context, conn *gozk.Conn) error {
	if s.chroot != "" {
		raw := &Session{conn: conn, log: s.log, st: s.st, loopEnd: s.loopEnd, id: s.id}
		if err := metastore.EnsurePath(ctx, raw, s.chroot); err != nil {
			return fmt.Errorf("zookeeper: creating chroot %s: %w", s.chroot, err)
		}
	}
	if err := s.watchSentinel(ctx, conn); err != nil {
		return fmt.Errorf("zookeeper: setting the reconnection watch: %w", err)
	}
	return nil
}

// onEvent runs on go-zookeeper's loop goroutine and must not block.
func (s *Session) onEvent(ev gozk.Event) {
	if ev.Type != gozk.EventSession {
		return
	}
	switch ev.State {
	case gozk.StateHasSession:
		// After an expiry go-zookeeper would open a fresh session; the
		// tracker ignores this since Expired is terminal, and the
		// connection is being closed.
		s.holdRepliesIfReconnected()
		s.st.Set(metastore.StateConnected)
		s.connectedOnce.Do(func() { close(s.connected) })
	case gozk.StateExpired:
		if s.st.Set(metastore.StateExpired) {
			s.log.Warn("zookeeper session expired", "session", fmt.Sprintf("0x%x", s.ID()))
		}
		// Close from another goroutine: Close waits for this loop.
		go s.closeConn()
	case gozk.StateDisconnected, gozk.StateConnecting, gozk.StateConnected:
		if s.st.State() == metastore.StateConnected {
			s.st.Set(metastore.StateDisconnected)
		}
	}
}

func (s *Session) closeConn() {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		s.closeOnce.Do(conn.Close)
	}
}

// ID implements metastore.Session.
func (s *Session) ID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// State implements metastore.Session.
func (s *Session) State() metastore.SessionState { return s.st.State() }

// Changed implements metastore.Session.
func (s *Session) Changed() <-chan struct{} { return s.st.Changed() }

// Done implements metastore.Session.
func (s *Session) Done() <-chan struct{} { return s.st.Done() }

// Err implements metastore.Session.
func (s *Session) Err() error { return s.st.Err() }

// Close implements metastore.Session: it closes the ZooKeeper session (the
// ensemble deletes its ephemeral nodes at once) and waits until
// go-zookeeper's goroutines have ended.
func (s *Session) Close() error {
	s.st.Set(metastore.StateClosed)
	s.closeConn()
	// go-zookeeper's Close has sent closeSession (or given up after its own
	// 1s timeout); cutting the socket unblocks a handshake still waiting.
	s.mu.Lock()
	tcp := s.tcp
	s.mu.Unlock()
	if tcp != nil {
		_ = tcp.Close()
	}
	<-s.loopEnd
	return nil
}

func (s *Session) abs(path string) string { return metastore.WithChroot(s.chroot, path) }

// call runs a blocking go-zookeeper request bounded by ctx. fn must only
// write variables the caller reads after a nil return of call.
func (s *Session) call(ctx context.Context, op, path string, seq bool, fn func() error) error {
	if err := metastore.ValidatePath(path, seq); err != nil {
		return opErr(op, path, err)
	}
	if err := ctx.Err(); err != nil {
		return opErr(op, path, err)
	}
	if err := s.st.Err(); err != nil {
		return opErr(op, path, err)
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err != nil {
			return opErr(op, path, s.mapErr(err))
		}
		return nil
	case <-ctx.Done():
		return opErr(op, path, ctx.Err())
	case <-s.st.Done():
		// Expired or closed while waiting; the request's goroutine ends
		// when go-zookeeper flushes it on close.
		return opErr(op, path, s.st.Err())
	}
}

func opErr(op, path string, err error) error {
	return fmt.Errorf("metastore: %s %s: %w", op, path, err)
}

// mapErr maps go-zookeeper's errors to metastore's.
func (s *Session) mapErr(err error) error {
	switch {
	case errors.Is(err, gozk.ErrNoNode):
		return metastore.ErrNoNode
	case errors.Is(err, gozk.ErrNodeExists):
		return metastore.ErrNodeExists
	case errors.Is(err, gozk.ErrBadVersion):
		return metastore.ErrBadVersion
	case errors.Is(err, gozk.ErrNotEmpty):
		return metastore.ErrNotEmpty
	case errors.Is(err, gozk.ErrNoChildrenForEphemerals):
		return metastore.ErrNoChildrenForEphemerals
	case errors.Is(err, gozk.ErrSessionExpired):
		return metastore.ErrSessionExpired
	case errors.Is(err, gozk.ErrInvalidPath):
		return metastore.ErrInvalidPath
	case errors.Is(err, gozk.ErrBadArguments), errors.Is(err, gozk.ErrInvalidFlags):
		return metastore.ErrBadArguments
	case errors.Is(err, gozk.ErrConnectionClosed), errors.Is(err, gozk.ErrClosing),
		errors.Is(err, gozk.ErrNoServer), errors.Is(err, gozk.ErrSessionMoved):
		if e := s.st.Err(); e != nil {
			return e
		}
		return metastore.ErrConnectionLoss
	}
	return err
}

func convStat(st *gozk.Stat) metastore.Stat {
	if st == nil {
		return metastore.Stat{}
	}
	return metastore.Stat{
		Czxid:          st.Czxid,
		Mzxid:          st.Mzxid,
		Pzxid:          st.Pzxid,
		Ctime:          time.UnixMilli(st.Ctime),
		Mtime:          time.UnixMilli(st.Mtime),
		Version:        st.Version,
		Cversion:       st.Cversion,
		EphemeralOwner: st.EphemeralOwner,
		DataLength:     st.DataLength,
		NumChildren:    st.NumChildren,
	}
}

func zkFlags(f metastore.CreateFlags) (int32, error) {
	if !f.Valid() {
		return 0, metastore.ErrBadArguments
	}
	var z int32
	if f&metastore.Ephemeral != 0 {
		z |= gozk.FlagEphemeral
	}
	if f&metastore.Sequential != 0 {
		z |= gozk.FlagSequence
	}
	return z, nil
}

var openACL = gozk.WorldACL(gozk.PermAll)

// absCreate maps a create path, keeping the trailing slash of a bare
// sequential name at the chroot's root.
func (s *Session) absCreate(path string, flags metastore.CreateFlags) string {
	if path == "/" && flags&metastore.Sequential != 0 && s.chroot != "" {
		return s.chroot + "/"
	}
	return s.abs(path)
}

// Create implements metastore.Session.
func (s *Session) Create(ctx context.Context, path string, data []byte, flags metastore.CreateFlags) (string, error) {
	zf, err := zkFlags(flags)
	if err != nil {
		return "", opErr("create", path, err)
	}
	var created string
	err = s.call(ctx, "create", path, flags&metastore.Sequential != 0, func() error {
		p, err := s.conn.Create(s.absCreate(path, flags), data, zf, openACL)
		created = p
		return err
	})
	if err != nil {
		return "", err
	}
	return metastore.StripChroot(s.chroot, created), nil
}

// Get implements metastore.Session.
func (s *Session) Get(ctx context.Context, path string) ([]byte, metastore.Stat, error) {
	var (
		data []byte
		st   *gozk.Stat
	)
	err := s.call(ctx, "get", path, false, func() (err error) {
		data, st, err = s.conn.Get(s.abs(path))
		return err
	})
	if err != nil {
		return nil, metastore.Stat{}, err
	}
	if data == nil {
		data = []byte{}
	}
	return data, convStat(st), nil
}

// GetW implements metastore.Session.
func (s *Session) GetW(ctx context.Context, path string) ([]byte, metastore.Stat, <-chan metastore.Event, error) {
	var (
		data []byte
		st   *gozk.Stat
		zch  <-chan gozk.Event
	)
	err := s.call(ctx, "get", path, false, func() (err error) {
		data, st, zch, err = s.conn.GetW(s.abs(path))
		return err
	})
	if err != nil {
		return nil, metastore.Stat{}, nil, err
	}
	if data == nil {
		data = []byte{}
	}
	return data, convStat(st), s.forward(path, zch), nil
}

// Set implements metastore.Session.
func (s *Session) Set(ctx context.Context, path string, data []byte, version int32) (metastore.Stat, error) {
	var st *gozk.Stat
	err := s.call(ctx, "set", path, false, func() (err error) {
		st, err = s.conn.Set(s.abs(path), data, version)
		return err
	})
	if err != nil {
		return metastore.Stat{}, err
	}
	return convStat(st), nil
}

// Delete implements metastore.Session.
func (s *Session) Delete(ctx context.Context, path string, version int32) error {
	if path == "/" {
		return opErr("delete", path, metastore.ErrBadArguments)
	}
	return s.call(ctx, "delete", path, false, func() error {
		return s.conn.Delete(s.abs(path), version)
	})
}

// Exists implements metastore.Session.
func (s *Session) Exists(ctx context.Context, path string) (bool, metastore.Stat, error) {
	var (
		ok bool
		st *gozk.Stat
	)
	err := s.call(ctx, "exists", path, false, func() (err error) {
		ok, st, err = s.conn.Exists(s.abs(path))
		return err
	})
	if err != nil || !ok {
		return false, metastore.Stat{}, err
	}
	return true, convStat(st), nil
}

// ExistsW implements metastore.Session.
func (s *Session) ExistsW(ctx context.Context, path string) (bool, metastore.Stat, <-chan metastore.Event, error) {
	var (
		ok  bool
		st  *gozk.Stat
		zch <-chan gozk.Event
	)
	err := s.call(ctx, "exists", path, false, func() (err error) {
		ok, st, zch, err = s.conn.ExistsW(s.abs(path))
		return err
	})
	if err != nil {
		return false, metastore.Stat{}, nil, err
	}
	ch := s.forward(path, zch)
	if !ok {
		return false, metastore.Stat{}, ch, nil
	}
	return true, convStat(st), ch, nil
}

// Children implements metastore.Session.
func (s *Session) Children(ctx context.Context, path string) ([]string, metastore.Stat, error) {
	var (
		names []string
		st    *gozk.Stat
	)
	err := s.call(ctx, "children", path, false, func() (err error) {
		names, st, err = s.conn.Children(s.abs(path))
		return err
	})
	if err != nil {
		return nil, metastore.Stat{}, err
	}
	return sorted(names), convStat(st), nil
}

// ChildrenW implements metastore.Session.
func (s *Session) ChildrenW(ctx context.Context, path string) ([]string, metastore.Stat, <-chan metastore.Event, error) {
	var (
		names []string
		st    *gozk.Stat
		zch   <-chan gozk.Event
	)
	err := s.call(ctx, "children", path, false, func() (err error) {
		names, st, zch, err = s.conn.ChildrenW(s.abs(path))
		return err
	})
	if err != nil {
		return nil, metastore.Stat{}, nil, err
	}
	return sorted(names), convStat(st), s.forward(path, zch), nil
}

// forward maps go-zookeeper's watch channel (which always receives exactly
// one event: the change, or EventNotWatching when the session expires or the
// connection is closed) onto a metastore watch channel. The goroutine ends
// with that event.
func (s *Session) forward(path string, zch <-chan gozk.Event) <-chan metastore.Event {
	out := make(chan metastore.Event, 1)
	go func() {
		ev, ok := <-zch
		out <- s.mapEvent(path, ev, ok)
	}()
	return out
}

func (s *Session) mapEvent(path string, ev gozk.Event, ok bool) metastore.Event {
	switch {
	case ok && ev.Type == gozk.EventNodeCreated:
		return metastore.Event{Type: metastore.EventNodeCreated, Path: path}
	case ok && ev.Type == gozk.EventNodeDeleted:
		return metastore.Event{Type: metastore.EventNodeDeleted, Path: path}
	case ok && ev.Type == gozk.EventNodeDataChanged:
		return metastore.Event{Type: metastore.EventNodeDataChanged, Path: path}
	case ok && ev.Type == gozk.EventNodeChildrenChanged:
		return metastore.Event{Type: metastore.EventNodeChildrenChanged, Path: path}
	case ok && errors.Is(ev.Err, gozk.ErrSessionExpired):
		return metastore.Event{Type: metastore.EventSessionExpired, Path: path}
	}
	if s.st.State() == metastore.StateExpired {
		return metastore.Event{Type: metastore.EventSessionExpired, Path: path}
	}
	return metastore.Event{Type: metastore.EventSessionClosed, Path: path}
}

func sorted(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return out
}

// Multi implements metastore.Session.
func (s *Session) Multi(ctx context.Context, ops ...metastore.Op) ([]metastore.OpResult, error) {
	if len(ops) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := s.st.Err(); err != nil {
			return nil, err
		}
		return []metastore.OpResult{}, nil
	}
	reqs := make([]any, len(ops))
	for i, op := range ops {
		seq := op.Kind == metastore.OpCreate && op.Flags&metastore.Sequential != 0
		if err := metastore.ValidatePath(op.Path, seq); err != nil {
			return nil, &metastore.MultiError{Index: i, Op: op.Kind, Path: op.Path, Err: err}
		}
		switch op.Kind {
		case metastore.OpCreate:
			zf, err := zkFlags(op.Flags)
			if err != nil {
				return nil, &metastore.MultiError{Index: i, Op: op.Kind, Path: op.Path, Err: err}
			}
			reqs[i] = &gozk.CreateRequest{Path: s.absCreate(op.Path, op.Flags), Data: op.Data, Acl: openACL, Flags: zf}
		case metastore.OpSet:
			reqs[i] = &gozk.SetDataRequest{Path: s.abs(op.Path), Data: op.Data, Version: op.Version}
		case metastore.OpDelete:
			reqs[i] = &gozk.DeleteRequest{Path: s.abs(op.Path), Version: op.Version}
		case metastore.OpCheck:
			reqs[i] = &gozk.CheckVersionRequest{Path: s.abs(op.Path), Version: op.Version}
		default:
			return nil, &metastore.MultiError{Index: i, Op: op.Kind, Path: op.Path, Err: metastore.ErrBadArguments}
		}
	}
	var resp []gozk.MultiResponse
	var callErr error
	err := s.call(ctx, "multi", "/", false, func() error {
		resp, callErr = s.conn.Multi(reqs...)
		return nil // examined below: the per-op results name the failing op
	})
	if err != nil {
		return nil, err
	}
	if callErr != nil {
		// ZooKeeper marks the failing op with its error, ops before it with
		// OK and ops after it with "runtime inconsistency".
		for i, r := range resp {
			if r.Error != nil && i < len(ops) {
				cause := s.mapErr(r.Error)
				if isRuntimeInconsistency(r.Error) {
					continue
				}
				return nil, &metastore.MultiError{Index: i, Op: ops[i].Kind, Path: ops[i].Path, Err: cause}
			}
		}
		return nil, &metastore.MultiError{Index: -1, Err: s.mapErr(callErr)}
	}
	out := make([]metastore.OpResult, len(ops))
	for i, op := range ops {
		out[i] = metastore.OpResult{Kind: op.Kind, Path: op.Path}
		if i >= len(resp) {
			continue
		}
		switch op.Kind {
		case metastore.OpCreate:
			out[i].Path = metastore.StripChroot(s.chroot, resp[i].String)
		case metastore.OpSet:
			out[i].Stat = convStat(resp[i].Stat)
		}
	}
	return out, nil
}

// isRuntimeInconsistency recognises the code (-2) ZooKeeper gives the ops
// after the failing one; go-zookeeper has no named error for it.
func isRuntimeInconsistency(err error) bool {
	return err.Error() == "unknown error: -2"
}

// zkLogger adapts go-zookeeper's Printf logger to slog: its messages are
// mostly reconnect chatter, so they go out at Debug.
type zkLogger struct{ l *slog.Logger }

func (z zkLogger) Printf(format string, args ...any) {
	z.l.Debug("zookeeper client: " + fmt.Sprintf(format, args...))
}
