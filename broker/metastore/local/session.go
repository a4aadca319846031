package local

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
)

// Session is a local session; it implements metastore.Session.
type Session struct {
	srv     *Server
	id      int64
	timeout time.Duration
	chroot  string
	st      *metastore.StateTracker

	// Guarded by srv.mu.
	ephemerals   map[string]struct{} // server paths of the ephemeral nodes it owns
	watches      map[*watch]struct{} // its pending watches
	disconnected bool
	expiry       *time.Timer // runs while disconnected
}

var _ metastore.Session = (*Session)(nil)

// ID implements metastore.Session.
func (s *Session) ID() int64 { return s.id }

// Timeout is the session timeout given to NewSession.
func (s *Session) Timeout() time.Duration { return s.timeout }

// State implements metastore.Session.
func (s *Session) State() metastore.SessionState { return s.st.State() }

// Changed implements metastore.Session.
func (s *Session) Changed() <-chan struct{} { return s.st.Changed() }

// Done implements metastore.Session.
func (s *Session) Done() <-chan struct{} { return s.st.Done() }

// Err implements metastore.Session.
func (s *Session) Err() error { return s.st.Err() }

// Close implements metastore.Session.
func (s *Session) Close() error {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.endSessionLocked(s, metastore.StateClosed)
	return nil
}

// lock takes the server lock after checking ctx and the session state; the
// caller must unlock srv.mu when err is nil.
func (s *Session) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.srv.mu.Lock()
	if err := s.st.Err(); err != nil {
		s.srv.mu.Unlock()
		return err
	}
	if s.disconnected {
		s.srv.mu.Unlock()
		return metastore.ErrConnectionLoss
	}
	return nil
}

func (s *Session) abs(path string) string { return metastore.WithChroot(s.chroot, path) }

func opErr(op, path string, err error) error {
	return fmt.Errorf("metastore: %s %s: %w", op, path, err)
}

// Create implements metastore.Session.
func (s *Session) Create(ctx context.Context, path string, data []byte, flags metastore.CreateFlags) (string, error) {
	res, err := s.Multi(ctx, metastore.CreateOp(path, data, flags))
	if err != nil {
		return "", opErr("create", path, unwrapMulti(err))
	}
	return res[0].Path, nil
}

// Set implements metastore.Session.
func (s *Session) Set(ctx context.Context, path string, data []byte, version int32) (metastore.Stat, error) {
	res, err := s.Multi(ctx, metastore.SetOp(path, data, version))
	if err != nil {
		return metastore.Stat{}, opErr("set", path, unwrapMulti(err))
	}
	return res[0].Stat, nil
}

// Delete implements metastore.Session.
func (s *Session) Delete(ctx context.Context, path string, version int32) error {
	if _, err := s.Multi(ctx, metastore.DeleteOp(path, version)); err != nil {
		return opErr("delete", path, unwrapMulti(err))
	}
	return nil
}

func unwrapMulti(err error) error {
	var me *metastore.MultiError
	if errors.As(err, &me) {
		return me.Err
	}
	return err
}

// Multi implements metastore.Session.
func (s *Session) Multi(ctx context.Context, ops ...metastore.Op) ([]metastore.OpResult, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.srv.mu.Unlock()
	t := s.srv.newTxn(s)
	results := make([]metastore.OpResult, len(ops))
	for i, op := range ops {
		abs := s.abs(op.Path)
		if op.Kind == metastore.OpCreate && op.Path == "/" && op.Flags&metastore.Sequential != 0 && s.chroot != "" {
			abs = s.chroot + "/"
		}
		err := metastore.ValidatePath(op.Path, op.Kind == metastore.OpCreate && op.Flags&metastore.Sequential != 0)
		results[i] = metastore.OpResult{Kind: op.Kind, Path: op.Path}
		switch {
		case err != nil:
		case op.Kind == metastore.OpCreate:
			var created string
			created, err = t.create(abs, op.Data, op.Flags)
			results[i].Path = metastore.StripChroot(s.chroot, created)
		case op.Kind == metastore.OpSet:
			results[i].Stat, err = t.set(abs, op.Data, op.Version)
		case op.Kind == metastore.OpDelete:
			err = t.delete(abs, op.Version)
		case op.Kind == metastore.OpCheck:
			err = t.check(abs, op.Version)
		default:
			err = metastore.ErrBadArguments
		}
		if err != nil {
			t.rollback()
			return nil, &metastore.MultiError{Index: i, Op: op.Kind, Path: op.Path, Err: err}
		}
	}
	t.commit()
	return results, nil
}

// read runs fn on the node at path (nil if missing) under the server lock,
// after validating the path and the session state.
func (s *Session) read(ctx context.Context, op, path string, fn func(n *node)) error {
	if err := metastore.ValidatePath(path, false); err != nil {
		return opErr(op, path, err)
	}
	if err := s.lock(ctx); err != nil {
		return opErr(op, path, err)
	}
	defer s.srv.mu.Unlock()
	fn(s.srv.lookup(s.abs(path)))
	return nil
}

// Get implements metastore.Session.
func (s *Session) Get(ctx context.Context, path string) ([]byte, metastore.Stat, error) {
	data, st, _, err := s.get(ctx, path, false)
	return data, st, err
}

// GetW implements metastore.Session.
func (s *Session) GetW(ctx context.Context, path string) ([]byte, metastore.Stat, <-chan metastore.Event, error) {
	return s.get(ctx, path, true)
}

func (s *Session) get(ctx context.Context, path string, watch bool) ([]byte, metastore.Stat, <-chan metastore.Event, error) {
	var (
		data []byte
		st   metastore.Stat
		ch   <-chan metastore.Event
		ok   bool
	)
	err := s.read(ctx, "get", path, func(n *node) {
		if n == nil {
			return
		}
		ok = true
		data, st = clone(n.data), n.statCopy()
		if data == nil {
			data = []byte{}
		}
		if watch {
			ch = s.srv.addWatchLocked(s, s.abs(path), path, false)
		}
	})
	if err == nil && !ok {
		err = opErr("get", path, metastore.ErrNoNode)
	}
	if err != nil {
		return nil, metastore.Stat{}, nil, err
	}
	return data, st, ch, nil
}

// Exists implements metastore.Session.
func (s *Session) Exists(ctx context.Context, path string) (bool, metastore.Stat, error) {
	ok, st, _, err := s.exists(ctx, path, false)
	return ok, st, err
}

// ExistsW implements metastore.Session.
func (s *Session) ExistsW(ctx context.Context, path string) (bool, metastore.Stat, <-chan metastore.Event, error) {
	return s.exists(ctx, path, true)
}

func (s *Session) exists(ctx context.Context, path string, watch bool) (bool, metastore.Stat, <-chan metastore.Event, error) {
	var (
		ok bool
		st metastore.Stat
		ch <-chan metastore.Event
	)
	err := s.read(ctx, "exists", path, func(n *node) {
		if n != nil {
			ok, st = true, n.statCopy()
		}
		if watch {
			ch = s.srv.addWatchLocked(s, s.abs(path), path, false)
		}
	})
	if err != nil {
		return false, metastore.Stat{}, nil, err
	}
	return ok, st, ch, nil
}

// Children implements metastore.Session.
func (s *Session) Children(ctx context.Context, path string) ([]string, metastore.Stat, error) {
	names, st, _, err := s.children(ctx, path, false)
	return names, st, err
}

// ChildrenW implements metastore.Session.
func (s *Session) ChildrenW(ctx context.Context, path string) ([]string, metastore.Stat, <-chan metastore.Event, error) {
	return s.children(ctx, path, true)
}

func (s *Session) children(ctx context.Context, path string, watch bool) ([]string, metastore.Stat, <-chan metastore.Event, error) {
	var (
		names []string
		st    metastore.Stat
		ch    <-chan metastore.Event
		ok    bool
	)
	err := s.read(ctx, "children", path, func(n *node) {
		if n == nil {
			return
		}
		ok = true
		names = make([]string, 0, len(n.children))
		for name := range n.children {
			names = append(names, name)
		}
		slices.Sort(names)
		st = n.statCopy()
		if watch {
			ch = s.srv.addWatchLocked(s, s.abs(path), path, true)
		}
	})
	if err == nil && !ok {
		err = opErr("children", path, metastore.ErrNoNode)
	}
	if err != nil {
		return nil, metastore.Stat{}, nil, err
	}
	return names, st, ch, nil
}
