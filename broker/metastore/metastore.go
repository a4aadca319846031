// Package metastore is the broker runtime's metadata store: one interface
// with ZooKeeper's semantics (a tree of znodes that are persistent or
// ephemeral and optionally sequential, data versions and conditional writes,
// one-shot watches, atomic multi-ops, sessions that own ephemeral nodes) so
// that the controller and the brokers can be written once and run either on a
// real ZooKeeper ensemble (sub-package zk) or in-process (sub-package local,
// for a cluster whose brokers all live in one process).
//
// Paths are absolute, slash-separated, without a trailing slash (except the
// root "/") and relative to the session's chroot, if it has one: a session
// never sees the chroot prefix, neither in the paths it passes nor in the
// paths it receives (created sequential nodes, watch events).
//
// Every method of Session is safe for concurrent use. Kafka's ZooKeeper-mode
// layout on top of this is broker/zkclient (its codec is broker/zkdata).
package metastore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors returned by Session methods, usually wrapped with the operation and
// path; test them with errors.Is.
var (
	// ErrNoNode: the node (or, for Create, its parent) does not exist.
	ErrNoNode = errors.New("metastore: node does not exist")
	// ErrNodeExists: Create of a node that already exists.
	ErrNodeExists = errors.New("metastore: node already exists")
	// ErrBadVersion: the expected version did not match the node's version.
	ErrBadVersion = errors.New("metastore: version conflict")
	// ErrNotEmpty: Delete of a node that has children.
	ErrNotEmpty = errors.New("metastore: node has children")
	// ErrNoChildrenForEphemerals: Create under an ephemeral node.
	ErrNoChildrenForEphemerals = errors.New("metastore: ephemeral nodes may not have children")
	// ErrSessionExpired: the session expired; its ephemeral nodes are gone and
	// the caller must open a new session (and re-register).
	ErrSessionExpired = errors.New("metastore: session expired")
	// ErrClosed: the session (or the local server) was closed by its owner.
	ErrClosed = errors.New("metastore: session closed")
	// ErrConnectionLoss: the session is disconnected (it may still recover);
	// the outcome of the operation is unknown.
	ErrConnectionLoss = errors.New("metastore: connection loss")
	// ErrInvalidPath: the path is not a valid absolute znode path.
	ErrInvalidPath = errors.New("metastore: invalid path")
	// ErrBadArguments: an argument other than the path is invalid (bad
	// flags, deleting the root, an empty Multi).
	ErrBadArguments = errors.New("metastore: bad arguments")
)

// AnyVersion as the expected version of Set, Delete or a check makes the
// operation unconditional.
const AnyVersion int32 = -1

// CreateFlags select the kind of node Create makes; combine with |.
type CreateFlags uint8

const (
	// Persistent nodes live until deleted.
	Persistent CreateFlags = 0
	// Ephemeral nodes are owned by the creating session and deleted when it
	// is closed or expires; they cannot have children.
	Ephemeral CreateFlags = 1 << 0
	// Sequential nodes get a per-parent counter appended to the requested
	// name as ten zero-padded digits (ZooKeeper's "%010d"). The counter is
	// the number of children ever created under the parent (deletions do not
	// count, unlike Stat.Cversion; creations in a failed Multi do not either).
	Sequential CreateFlags = 1 << 1
)

// String names the flags as ZooKeeper's CreateMode does.
func (f CreateFlags) String() string {
	switch f {
	case Persistent:
		return "PERSISTENT"
	case Ephemeral:
		return "EPHEMERAL"
	case Sequential:
		return "PERSISTENT_SEQUENTIAL"
	case Ephemeral | Sequential:
		return "EPHEMERAL_SEQUENTIAL"
	}
	return fmt.Sprintf("CreateFlags(%d)", uint8(f))
}

// Valid reports whether f is one of the four supported combinations.
func (f CreateFlags) Valid() bool { return f&^(Ephemeral|Sequential) == 0 }

// Stat is a node's metadata, as ZooKeeper's Stat.
type Stat struct {
	Czxid          int64     // zxid of the change that created the node
	Mzxid          int64     // zxid of the last data change
	Pzxid          int64     // zxid of the last change to the children
	Ctime          time.Time // creation time (millisecond precision)
	Mtime          time.Time // last data change (millisecond precision)
	Version        int32     // number of data changes
	Cversion       int32     // number of changes to the children
	EphemeralOwner int64     // owning session id for ephemeral nodes, else 0
	DataLength     int32
	NumChildren    int32
}

// EventType says what a watch observed.
type EventType int

const (
	// EventNodeCreated: an ExistsW watch on a missing node saw it created.
	EventNodeCreated EventType = iota + 1
	// EventNodeDeleted: the watched node was deleted (any watch type).
	EventNodeDeleted
	// EventNodeDataChanged: the watched node's data was set (GetW, ExistsW).
	EventNodeDataChanged
	// EventNodeChildrenChanged: a child was created or deleted (ChildrenW).
	EventNodeChildrenChanged
	// EventSessionExpired: the session expired before the watch fired; it
	// never will. Re-read everything on a new session.
	EventSessionExpired
	// EventSessionClosed: the session was closed before the watch fired.
	EventSessionClosed
)

var eventNames = map[EventType]string{
	EventNodeCreated:         "NodeCreated",
	EventNodeDeleted:         "NodeDeleted",
	EventNodeDataChanged:     "NodeDataChanged",
	EventNodeChildrenChanged: "NodeChildrenChanged",
	EventSessionExpired:      "SessionExpired",
	EventSessionClosed:       "SessionClosed",
}

func (t EventType) String() string {
	if s, ok := eventNames[t]; ok {
		return s
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is what a one-shot watch delivers: exactly one per watch channel.
type Event struct {
	Type EventType
	Path string // the watched path (relative to the session's chroot)
}

// SessionState is the connection state of a session.
type SessionState int

const (
	// StateConnected: operations are served.
	StateConnected SessionState = iota + 1
	// StateDisconnected: the connection is lost; the session (with its
	// ephemeral nodes and watches) survives if it reconnects within the
	// session timeout. Operations fail with ErrConnectionLoss meanwhile (or
	// wait for the reconnection, implementation-dependent, bounded by ctx).
	StateDisconnected
	// StateExpired: terminal; the server expired the session.
	StateExpired
	// StateClosed: terminal; the owner called Close.
	StateClosed
)

func (s SessionState) String() string {
	switch s {
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	case StateExpired:
		return "expired"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("SessionState(%d)", int(s))
}

// Terminal reports whether no further state change can happen.
func (s SessionState) Terminal() bool { return s == StateExpired || s == StateClosed }

// Session is one client session on the store. Ephemeral nodes it creates
// belong to it. Every method takes a context bounding how long it may block
// (network round trips for zk; never for local except on the tree lock) and
// returns ctx.Err() when that ends first; after ctx ends the operation may
// still have been applied.
//
// Watch channels (GetW, ExistsW, ChildrenW) are buffered: each receives
// exactly one Event and is never closed, so an abandoned watch leaks nothing
// but the channel. An event is delivered only after the change that caused
// it is applied, and before any read issued after the event was delivered
// could observe the change.
type Session interface {
	// ID is the session id (the EphemeralOwner of the session's nodes).
	ID() int64

	// Create makes a node and returns its actual path (with the sequence
	// suffix for Sequential). Errors: ErrNodeExists, ErrNoNode (no parent),
	// ErrNoChildrenForEphemerals, ErrInvalidPath, ErrBadArguments.
	Create(ctx context.Context, path string, data []byte, flags CreateFlags) (string, error)
	// Get returns a node's data and Stat. Errors: ErrNoNode.
	Get(ctx context.Context, path string) ([]byte, Stat, error)
	// GetW is Get plus a watch that fires on the node's next data change or
	// deletion. No watch is set when it fails.
	GetW(ctx context.Context, path string) ([]byte, Stat, <-chan Event, error)
	// Set replaces a node's data if its version equals version (AnyVersion
	// matches any) and returns the new Stat. Errors: ErrNoNode, ErrBadVersion.
	Set(ctx context.Context, path string, data []byte, version int32) (Stat, error)
	// Delete removes a childless node if its version equals version (or
	// AnyVersion). Errors: ErrNoNode, ErrBadVersion, ErrNotEmpty.
	Delete(ctx context.Context, path string, version int32) error
	// Exists reports whether a node exists, with its Stat if so.
	Exists(ctx context.Context, path string) (bool, Stat, error)
	// ExistsW is Exists plus a watch: on an existing node it fires on the
	// next data change or deletion, on a missing one on its creation.
	ExistsW(ctx context.Context, path string) (bool, Stat, <-chan Event, error)
	// Children returns the names (not paths) of a node's children, sorted.
	// Errors: ErrNoNode.
	Children(ctx context.Context, path string) ([]string, Stat, error)
	// ChildrenW is Children plus a watch that fires when a child is created
	// or deleted (EventNodeChildrenChanged) or the node itself is deleted
	// (EventNodeDeleted). Data changes of children do not fire it.
	ChildrenW(ctx context.Context, path string) ([]string, Stat, <-chan Event, error)
	// Multi applies ops atomically: all or none. On success it returns one
	// OpResult per op. On failure nothing was applied and the error is a
	// *MultiError naming the first failing op (errors.Is sees its cause).
	// Watches fire after the whole transaction is applied.
	Multi(ctx context.Context, ops ...Op) ([]OpResult, error)

	// State is the current session state.
	State() SessionState
	// Changed returns a channel that is closed at the next state change after
	// the call; call State for the new state. Never blocks.
	Changed() <-chan struct{}
	// Done is closed when the session reaches a terminal state (expired or
	// closed); Err then says which (ErrSessionExpired or ErrClosed).
	Done() <-chan struct{}
	// Err is nil while the session is usable, else ErrSessionExpired or
	// ErrClosed.
	Err() error
	// Close ends the session: its ephemeral nodes are deleted, pending watches
	// receive EventSessionClosed, and all its goroutines and connections are
	// released before Close returns. Safe to call more than once and on an
	// expired session.
	Close() error
}

// Connector opens sessions on one store (an ensemble plus chroot, or a local
// server); a broker keeps it to open a fresh session after expiry.
type Connector interface {
	// Connect opens a new session and returns once it is established, or
	// with an error when ctx ends first.
	Connect(ctx context.Context) (Session, error)
}

// OpKind is the kind of one Multi operation.
type OpKind int

const (
	OpCreate OpKind = iota + 1
	OpSet
	OpDelete
	OpCheck
)

func (k OpKind) String() string {
	switch k {
	case OpCreate:
		return "create"
	case OpSet:
		return "set"
	case OpDelete:
		return "delete"
	case OpCheck:
		return "check"
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}

// Op is one operation of a Multi; build it with CreateOp, SetOp, DeleteOp or
// CheckOp.
type Op struct {
	Kind    OpKind
	Path    string
	Data    []byte      // OpCreate, OpSet
	Flags   CreateFlags // OpCreate
	Version int32       // OpSet, OpDelete, OpCheck: expected version or AnyVersion
}

// CreateOp creates a node like Session.Create.
func CreateOp(path string, data []byte, flags CreateFlags) Op {
	return Op{Kind: OpCreate, Path: path, Data: data, Flags: flags}
}

// SetOp sets a node's data like Session.Set.
func SetOp(path string, data []byte, version int32) Op {
	return Op{Kind: OpSet, Path: path, Data: data, Version: version}
}

// DeleteOp deletes a node like Session.Delete.
func DeleteOp(path string, version int32) Op {
	return Op{Kind: OpDelete, Path: path, Version: version}
}

// CheckOp fails the transaction unless the node exists with the given
// version (ErrNoNode, ErrBadVersion). Kafka's controller guards its writes
// with a check on /controller_epoch's version to fence a deposed controller.
func CheckOp(path string, version int32) Op {
	return Op{Kind: OpCheck, Path: path, Version: version}
}

// OpResult is the outcome of one successful Multi operation.
type OpResult struct {
	Kind OpKind
	Path string // OpCreate: the created path (with sequence suffix); else the op's path
	Stat Stat   // OpSet: the node's new Stat
}

// MultiError reports the operation that made a Multi fail.
type MultiError struct {
	Index int    // index of the failing op in the Multi call, -1 if unknown
	Op    OpKind // its kind (0 if unknown)
	Path  string // its path
	Err   error  // the cause, one of this package's errors
}

func (e *MultiError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("metastore: multi failed: %v", e.Err)
	}
	return fmt.Sprintf("metastore: multi op %d (%s %s): %v", e.Index, e.Op, e.Path, e.Err)
}

func (e *MultiError) Unwrap() error { return e.Err }
