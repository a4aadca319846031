package broker

import (
	"context"
	"errors"
	"sync"

	"github.com/osprey-kafka/osprey/broker/metastore"
)

// The zkCluster's watches: each znode watch armed once per session and forwarded to the reload loop.

// watcher arms each watch once and forwards its event to one channel. It
// belongs to the goroutine that reloads (one per session); the forwarding
// goroutines end with the event or with ctx.
type watcher struct {
	ctx    context.Context
	mu     sync.Mutex      // guards armed
	armed  map[string]bool // "d:"+path data/exists watches, "c:"+path children watches
	events chan watchEvent
}

type watchEvent struct {
	key string
	ev  metastore.Event
}

func newWatcher(ctx context.Context) *watcher {
	return &watcher{ctx: ctx, armed: map[string]bool{}, events: make(chan watchEvent, 64)}
}

func (w *watcher) isArmed(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.armed[key]
}

func (w *watcher) forward(key string, ch <-chan metastore.Event) {
	w.mu.Lock()
	w.armed[key] = true
	w.mu.Unlock()
	go func() {
		select {
		case ev := <-ch:
			select {
			case w.events <- watchEvent{key, ev}:
			case <-w.ctx.Done():
			}
		case <-w.ctx.Done():
		}
	}()
}

func (w *watcher) fired(ev watchEvent) {
	w.mu.Lock()
	delete(w.armed, ev.key)
	w.mu.Unlock()
}

// drain takes every event already queued (one reload covers them all).
func (w *watcher) drain() {
	for {
		select {
		case ev := <-w.events:
			w.fired(ev)
		default:
			return
		}
	}
}

// get reads a node, watching it (creation when missing) unless a watch is
// already armed. A missing node is metastore.ErrNoNode.
func (w *watcher) get(ctx context.Context, s metastore.Session, path string) ([]byte, error) {
	key := "d:" + path
	if w.isArmed(key) {
		data, _, err := s.Get(ctx, path)
		return data, err
	}
	data, _, ch, err := s.GetW(ctx, path)
	if errors.Is(err, metastore.ErrNoNode) {
		ok, _, ech, eerr := s.ExistsW(ctx, path)
		if eerr != nil {
			return nil, eerr
		}
		w.forward(key, ech)
		if ok { // created in between: the watch fires on the next change
			data, _, err = s.Get(ctx, path)
			return data, err
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	w.forward(key, ch)
	return data, nil
}

// children lists a node's children, watching the list (or the node's
// creation) unless already armed. A missing node gives no children.
func (w *watcher) children(ctx context.Context, s metastore.Session, path string) ([]string, error) {
	key := "c:" + path
	if w.isArmed(key) {
		names, _, err := s.Children(ctx, path)
		if errors.Is(err, metastore.ErrNoNode) {
			return nil, nil
		}
		return names, err
	}
	names, _, ch, err := s.ChildrenW(ctx, path)
	if errors.Is(err, metastore.ErrNoNode) {
		ok, _, ech, eerr := s.ExistsW(ctx, path)
		if eerr != nil {
			return nil, eerr
		}
		w.forward(key, ech)
		if ok {
			names, _, err = s.Children(ctx, path)
			return names, err
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	w.forward(key, ch)
	return names, nil
}
