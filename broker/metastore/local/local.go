// Package local is the in-process implementation of metastore: one znode
// tree (a Server) shared by any number of sessions, with ZooKeeper's
// semantics — zxids, versions, sequential numbering from the parent's
// child-creation counter ("%010d"), ephemeral nodes deleted when their session closes or
// expires, one-shot watches fired after a change is applied, all-or-nothing
// Multi. It backs the console's embedded cluster, whose brokers all live in
// one process, and tests that need a metadata store without ZooKeeper.
//
// A local session cannot lose a connection by itself; tests (and the cluster
// supervisor simulating a crashed broker) use Server.Disconnect, which lets
// the session expire after its timeout unless Server.Reconnect comes first,
// and Server.ExpireSession, which expires it at once.
package local

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
)

// Server is one in-process znode tree. All state is guarded by mu.
type Server struct {
	mu       sync.Mutex
	now      func() time.Time
	root     *node
	zxid     int64
	nextID   int64
	sessions map[int64]*Session
	dataW    map[string][]*watch // server path → GetW/ExistsW watches
	childW   map[string][]*watch // server path → ChildrenW watches
	closed   bool
}

type node struct {
	data     []byte
	stat     metastore.Stat // NumChildren and DataLength are filled on read
	children map[string]*node
	// seq numbers sequential children. ZooKeeper 3.8 takes it from the
	// parent's cversion as seen by its request preprocessor, which counts
	// child creations but not deletions (a real 3.8 server returns
	// e-0000000003 after three creates and one delete while Stat.Cversion
	// says 4), so it is kept apart from stat.Cversion.
	seq int32
}

type watch struct {
	sess  *Session
	abs   string // server path (the key in its table)
	path  string // session path, reported in the event
	child bool   // in childW rather than dataW
	ch    chan metastore.Event
}

// ServerOption configures NewServer.
type ServerOption func(*Server)

// WithClock replaces time.Now for Ctime/Mtime (tests).
func WithClock(now func() time.Time) ServerOption { return func(s *Server) { s.now = now } }

// NewServer returns an empty tree (only the root "/").
func NewServer(opts ...ServerOption) *Server {
	s := &Server{
		now:      time.Now,
		root:     &node{children: map[string]*node{}},
		sessions: map[int64]*Session{},
		dataW:    map[string][]*watch{},
		childW:   map[string][]*watch{},
		// ZooKeeper-like ids: a time-derived high part and a counter.
		nextID: (time.Now().UnixMilli()<<20 | int64(rand.IntN(1<<20))) & (1<<62 - 1),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SessionOption configures NewSession.
type SessionOption func(*Session)

// WithChroot roots the session at chroot (created if missing).
func WithChroot(chroot string) SessionOption { return func(s *Session) { s.chroot = chroot } }

// NewSession opens a session. timeout is how long it survives a simulated
// disconnection (Server.Disconnect); a connected local session never expires
// on its own.
func (s *Server) NewSession(timeout time.Duration, opts ...SessionOption) (*Session, error) {
	sess := &Session{srv: s, timeout: timeout, ephemerals: map[string]struct{}{}, watches: map[*watch]struct{}{}}
	for _, o := range opts {
		o(sess)
	}
	if err := metastore.ValidateChroot(sess.chroot); err != nil {
		return nil, err
	}
	sess.st = metastore.NewStateTracker(metastore.StateConnected)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, metastore.ErrClosed
	}
	s.nextID++
	sess.id = s.nextID
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	if sess.chroot != "" {
		// Created through a chroot-less view of the same session.
		raw := &Session{srv: s, id: sess.id, st: sess.st}
		if err := metastore.EnsurePath(context.Background(), raw, sess.chroot); err != nil {
			_ = sess.Close()
			return nil, fmt.Errorf("creating chroot %s: %w", sess.chroot, err)
		}
	}
	return sess, nil
}

// Connector returns a metastore.Connector opening sessions on s.
func (s *Server) Connector(timeout time.Duration, opts ...SessionOption) metastore.Connector {
	return connector{s, timeout, opts}
}

type connector struct {
	srv     *Server
	timeout time.Duration
	opts    []SessionOption
}

func (c connector) Connect(ctx context.Context) (metastore.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.srv.NewSession(c.timeout, c.opts...)
}

// ExpireSession expires a session now, as ZooKeeper does when it stops
// hearing from a client: its ephemeral nodes are deleted, its watches get
// EventSessionExpired and its operations fail with ErrSessionExpired.
func (s *Server) ExpireSession(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return fmt.Errorf("expire session 0x%x: %w", id, metastore.ErrSessionExpired)
	}
	s.endSessionLocked(sess, metastore.StateExpired)
	return nil
}

// Disconnect simulates a lost connection: the session reports
// StateDisconnected, its operations fail with ErrConnectionLoss, and it
// expires after its timeout unless Reconnect is called first. (Unlike a
// real client, its watches keep firing meanwhile; with ZooKeeper they fire
// after the reconnection.)
func (s *Server) Disconnect(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return fmt.Errorf("disconnect session 0x%x: %w", id, metastore.ErrSessionExpired)
	}
	if sess.disconnected {
		return nil
	}
	sess.disconnected = true
	sess.st.Set(metastore.StateDisconnected)
	sess.expiry = time.AfterFunc(sess.timeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.sessions[id] == sess && sess.disconnected {
			s.endSessionLocked(sess, metastore.StateExpired)
		}
	})
	return nil
}

// Reconnect ends a simulated disconnection before the session expired.
func (s *Server) Reconnect(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return fmt.Errorf("reconnect session 0x%x: %w", id, metastore.ErrSessionExpired)
	}
	if sess.disconnected {
		sess.disconnected = false
		sess.expiry.Stop()
		sess.st.Set(metastore.StateConnected)
	}
	return nil
}

// Sessions returns the ids of the live sessions, sorted.
func (s *Server) Sessions() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.sessions))
	for id := range s.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Close closes every session (as if by their owners) and refuses new ones.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, sess := range s.sessions {
		s.endSessionLocked(sess, metastore.StateClosed)
	}
	return nil
}

// endSessionLocked removes a session: its watches get their one event, its
// ephemeral nodes are deleted in one transaction. s.mu must be held.
func (s *Server) endSessionLocked(sess *Session, final metastore.SessionState) {
	if s.sessions[sess.id] != sess {
		return
	}
	delete(s.sessions, sess.id)
	if sess.expiry != nil {
		sess.expiry.Stop()
	}
	ev := metastore.EventSessionClosed
	if final == metastore.StateExpired {
		ev = metastore.EventSessionExpired
	}
	for w := range sess.watches {
		s.removeWatchLocked(w)
		w.ch <- metastore.Event{Type: ev, Path: w.path}
	}
	if len(sess.ephemerals) > 0 {
		paths := make([]string, 0, len(sess.ephemerals))
		for p := range sess.ephemerals {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		t := s.newTxn(nil)
		for _, p := range paths {
			if err := t.delete(p, metastore.AnyVersion); err != nil {
				// Cannot happen: ephemerals have no children and we own the lock.
				panic(fmt.Sprintf("metastore/local: deleting ephemeral %s: %v", p, err))
			}
		}
		t.commit()
	}
	sess.st.Set(final)
}

func (s *Server) removeWatchLocked(w *watch) {
	table := s.dataW
	if w.child {
		table = s.childW
	}
	list := slices.DeleteFunc(table[w.abs], func(x *watch) bool { return x == w })
	if len(list) == 0 {
		delete(table, w.abs)
	} else {
		table[w.abs] = list
	}
	delete(w.sess.watches, w)
}

// lookup returns the node at a server path, or nil.
func (s *Server) lookup(abs string) *node {
	n := s.root
	if abs == "/" {
		return n
	}
	for _, seg := range strings.Split(abs[1:], "/") {
		n = n.children[seg]
		if n == nil {
			return nil
		}
	}
	return n
}

func (n *node) statCopy() metastore.Stat {
	st := n.stat
	st.NumChildren = int32(len(n.children))
	st.DataLength = int32(len(n.data))
	return st
}

// fire delivers the events of a committed change. s.mu must be held.
func (s *Server) fire(abs string, child bool, typ metastore.EventType) {
	table := s.dataW
	if child {
		table = s.childW
	}
	list := table[abs]
	if len(list) == 0 {
		return
	}
	delete(table, abs)
	for _, w := range list {
		delete(w.sess.watches, w)
		w.ch <- metastore.Event{Type: typ, Path: w.path}
	}
}

func (s *Server) addWatchLocked(sess *Session, abs, path string, child bool) <-chan metastore.Event {
	w := &watch{sess: sess, abs: abs, path: path, child: child, ch: make(chan metastore.Event, 1)}
	if child {
		s.childW[abs] = append(s.childW[abs], w)
	} else {
		s.dataW[abs] = append(s.dataW[abs], w)
	}
	sess.watches[w] = struct{}{}
	return w.ch
}
