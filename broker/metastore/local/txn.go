package local

import (
	"fmt"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
)

// txn applies changes to the tree with an undo log so a Multi can be rolled
// back, and queues the watch events to fire on commit. s.mu must be held for
// its whole life.
type txn struct {
	srv    *Server
	sess   *Session // creator of ephemerals; nil when the server cleans up
	zxid   int64
	now    metastore.Stat // only Ctime/Mtime used: one timestamp per txn
	undo   []func()
	events []event
}

type event struct {
	abs   string
	child bool
	typ   metastore.EventType
}

func (s *Server) newTxn(sess *Session) *txn {
	ts := s.now().Truncate(time.Millisecond)
	return &txn{srv: s, sess: sess, zxid: s.zxid + 1, now: metastore.Stat{Ctime: ts, Mtime: ts}}
}

// commit makes the changes final and fires their watches in order.
func (t *txn) commit() {
	t.srv.zxid = t.zxid
	for _, e := range t.events {
		t.srv.fire(e.abs, e.child, e.typ)
	}
}

// rollback undoes every applied change, newest first.
func (t *txn) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
}

func (t *txn) parentOf(abs string) (*node, error) {
	p := t.srv.lookup(metastore.Parent(abs))
	if p == nil {
		return nil, metastore.ErrNoNode
	}
	return p, nil
}

// create adds a node at abs (a server path) and returns its server path.
func (t *txn) create(abs string, data []byte, flags metastore.CreateFlags) (string, error) {
	if !flags.Valid() {
		return "", metastore.ErrBadArguments
	}
	seq := flags&metastore.Sequential != 0
	if err := metastore.ValidatePath(abs, seq); err != nil {
		return "", err
	}
	if abs == "/" {
		return "", metastore.ErrNodeExists
	}
	parentPath := metastore.Parent(abs)
	if seq && abs[len(abs)-1] == '/' {
		parentPath = abs[:len(abs)-1]
		if parentPath == "" {
			parentPath = "/"
		}
	}
	parent := t.srv.lookup(parentPath)
	if parent == nil {
		return "", metastore.ErrNoNode
	}
	if seq {
		abs = fmt.Sprintf("%s%010d", abs, parent.seq)
	}
	name := metastore.Base(abs)
	if _, ok := parent.children[name]; ok {
		return "", metastore.ErrNodeExists
	}
	if parent.stat.EphemeralOwner != 0 {
		return "", metastore.ErrNoChildrenForEphemerals
	}
	n := &node{data: clone(data), children: map[string]*node{}}
	n.stat = metastore.Stat{Czxid: t.zxid, Mzxid: t.zxid, Pzxid: t.zxid, Ctime: t.now.Ctime, Mtime: t.now.Mtime}
	var owner *Session
	if flags&metastore.Ephemeral != 0 {
		if t.sess == nil {
			return "", metastore.ErrBadArguments
		}
		owner = t.srv.sessions[t.sess.id]
		if owner == nil {
			return "", metastore.ErrSessionExpired
		}
		n.stat.EphemeralOwner = owner.id
		owner.ephemerals[abs] = struct{}{}
	}
	oldParent, oldSeq := parent.stat, parent.seq
	parent.children[name] = n
	parent.seq++
	parent.stat.Cversion++
	parent.stat.Pzxid = t.zxid
	t.undo = append(t.undo, func() {
		delete(parent.children, name)
		parent.stat, parent.seq = oldParent, oldSeq
		if owner != nil {
			delete(owner.ephemerals, abs)
		}
	})
	t.events = append(t.events, event{abs, false, metastore.EventNodeCreated},
		event{parentPath, true, metastore.EventNodeChildrenChanged})
	return abs, nil
}

func (t *txn) set(abs string, data []byte, version int32) (metastore.Stat, error) {
	if err := metastore.ValidatePath(abs, false); err != nil {
		return metastore.Stat{}, err
	}
	n := t.srv.lookup(abs)
	if n == nil {
		return metastore.Stat{}, metastore.ErrNoNode
	}
	if version != metastore.AnyVersion && version != n.stat.Version {
		return metastore.Stat{}, metastore.ErrBadVersion
	}
	oldData, oldStat := n.data, n.stat
	n.data = clone(data)
	n.stat.Version++
	n.stat.Mzxid = t.zxid
	n.stat.Mtime = t.now.Mtime
	t.undo = append(t.undo, func() { n.data, n.stat = oldData, oldStat })
	t.events = append(t.events, event{abs, false, metastore.EventNodeDataChanged})
	return n.statCopy(), nil
}

func (t *txn) delete(abs string, version int32) error {
	if err := metastore.ValidatePath(abs, false); err != nil {
		return err
	}
	if abs == "/" {
		return metastore.ErrBadArguments
	}
	parent, err := t.parentOf(abs)
	if err != nil {
		return err
	}
	name := metastore.Base(abs)
	n := parent.children[name]
	if n == nil {
		return metastore.ErrNoNode
	}
	if version != metastore.AnyVersion && version != n.stat.Version {
		return metastore.ErrBadVersion
	}
	if len(n.children) > 0 {
		return metastore.ErrNotEmpty
	}
	owner := t.srv.sessions[n.stat.EphemeralOwner]
	oldParent := parent.stat
	delete(parent.children, name)
	parent.stat.Cversion++
	parent.stat.Pzxid = t.zxid
	if owner != nil {
		delete(owner.ephemerals, abs)
	}
	t.undo = append(t.undo, func() {
		parent.children[name] = n
		parent.stat = oldParent
		if owner != nil {
			owner.ephemerals[abs] = struct{}{}
		}
	})
	parentPath := metastore.Parent(abs)
	t.events = append(t.events, event{abs, false, metastore.EventNodeDeleted},
		event{abs, true, metastore.EventNodeDeleted},
		event{parentPath, true, metastore.EventNodeChildrenChanged})
	return nil
}

func (t *txn) check(abs string, version int32) error {
	if err := metastore.ValidatePath(abs, false); err != nil {
		return err
	}
	n := t.srv.lookup(abs)
	if n == nil {
		return metastore.ErrNoNode
	}
	if version != metastore.AnyVersion && version != n.stat.Version {
		return metastore.ErrBadVersion
	}
	return nil
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
