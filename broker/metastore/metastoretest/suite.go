// Package metastoretest is the conformance suite every metastore
// implementation must pass: the same table of tests runs against the local
// in-process store and against a real ZooKeeper, so the two cannot drift
// apart. Implementations call Run from their own tests with an Env factory.
package metastoretest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
)

// Env is one fresh, empty store (for ZooKeeper: a fresh chroot) for one test.
type Env struct {
	// Open returns a new connected session; every call within one Env sees
	// the same tree. The caller may Close it; Open registers a Close with
	// t.Cleanup anyway.
	Open func(t *testing.T) metastore.Session
	// Expire makes the server expire the session and returns once the
	// session itself reports StateExpired.
	Expire func(t *testing.T, s metastore.Session)
}

// Factory creates an Env for one test.
type Factory func(t *testing.T) Env

// EventTimeout bounds how long the suite waits for a watch event or a state
// change.
var EventTimeout = 10 * time.Second

type test struct {
	name string
	fn   func(t *testing.T, env Env)
}

var tests = []test{
	{"CreateGetSetDelete", testCreateGetSetDelete},
	{"CreateErrors", testCreateErrors},
	{"Versions", testVersions},
	{"ChildrenSortedAndStat", testChildren},
	{"Sequential", testSequential},
	{"EphemeralOwnedAndDeletedOnClose", testEphemeralClose},
	{"EphemeralDeletedOnExpiry", testEphemeralExpiry},
	{"DataWatch", testDataWatch},
	{"ExistsWatch", testExistsWatch},
	{"ChildWatch", testChildWatch},
	{"WatchSeesAppliedChange", testWatchSeesChange},
	{"WatchesOnSessionEnd", testWatchesOnSessionEnd},
	{"MultiCommit", testMultiCommit},
	{"MultiAtomicFailure", testMultiFailure},
	{"MultiFencing", testMultiFencing},
	{"SessionExpiredState", testSessionExpiredState},
	{"SessionClosed", testSessionClosed},
	{"ContextCancelled", testContextCancelled},
	{"Helpers", testHelpers},
}

// Run runs the whole suite, each test as a subtest with its own Env.
func Run(t *testing.T, newEnv Factory) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					if f, ok := r.(fatal); ok {
						t.Fatalf("unexpected error: %v", f.err)
					}
					panic(r)
				}
			}()
			tc.fn(t, newEnv(t))
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fatal carries a must failure to Run's recover, which turns it into
// t.Fatal (must cannot take t alongside a multi-value call).
type fatal struct{ err error }

func must[T any](v T, err error) T {
	if err != nil {
		panic(fatal{err})
	}
	return v
}

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// WaitEvent returns the event a watch channel delivers within EventTimeout.
func WaitEvent(t *testing.T, ch <-chan metastore.Event) metastore.Event {
	t.Helper()
	if ch == nil {
		t.Fatal("nil watch channel")
	}
	select {
	case ev := <-ch:
		return ev
	case <-time.After(EventTimeout):
		t.Fatal("no watch event within", EventTimeout)
	}
	return metastore.Event{}
}

// NoEvent fails if the channel delivers an event within d. (A negative
// check cannot poll for a condition; d is kept short.)
func NoEvent(t *testing.T, ch <-chan metastore.Event, d time.Duration) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected watch event %+v", ev)
	case <-time.After(d):
	}
}

func wantEvent(t *testing.T, ch <-chan metastore.Event, typ metastore.EventType, path string) {
	t.Helper()
	ev := WaitEvent(t, ch)
	if ev.Type != typ || ev.Path != path {
		t.Fatalf("event %v %q, want %v %q", ev.Type, ev.Path, typ, path)
	}
}

// WaitState waits until the session reports want.
func WaitState(t *testing.T, s metastore.Session, want metastore.SessionState) {
	t.Helper()
	deadline := time.After(EventTimeout)
	for {
		ch := s.Changed()
		if s.State() == want {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("session state %v, want %v within %v", s.State(), want, EventTimeout)
		}
	}
}

func testCreateGetSetDelete(t *testing.T, env Env) {
	ctx := ctxT(t)
	s := env.Open(t)
	before := time.Now().Add(-2 * time.Second)
	p := must(s.Create(ctx, "/a", []byte("one"), metastore.Persistent))
	if p != "/a" {
		t.Fatalf("created %q", p)
	}
	data, st := must2(t, s.Get, ctx, "/a")
	if string(data) != "one" {
		t.Fatalf("data %q", data)
	}
	if st.Version != 0 || st.Cversion != 0 || st.NumChildren != 0 || st.DataLength != 3 || st.EphemeralOwner != 0 {
		t.Fatalf("fresh stat %+v", st)
	}
	if st.Czxid == 0 || st.Czxid != st.Mzxid {
		t.Fatalf("zxids of a fresh node: %+v", st)
	}
	if st.Ctime.Before(before) || st.Ctime.After(time.Now().Add(2*time.Second)) || !st.Ctime.Equal(st.Mtime) {
		t.Fatalf("times of a fresh node: %+v", st)
	}

	st2 := must(s.Set(ctx, "/a", []byte("two!"), 0))
	if st2.Version != 1 || st2.Mzxid <= st.Mzxid || st2.Czxid != st.Czxid || st2.DataLength != 4 {
		t.Fatalf("stat after set %+v (before %+v)", st2, st)
	}
	data, st3 := must2(t, s.Get, ctx, "/a")
	if string(data) != "two!" || st3.Version != 1 || st3.Mzxid != st2.Mzxid {
		t.Fatalf("after set: %q %+v", data, st3)
	}

	// Data is copied: mutating the caller's slice changes nothing.
	buf := []byte("xyz")
	must(s.Create(ctx, "/b", buf, metastore.Persistent))
	buf[0] = 'Q'
	if data, _ := must2(t, s.Get, ctx, "/b"); string(data) != "xyz" {
		t.Fatalf("stored data aliases the caller's buffer: %q", data)
	}
	// Empty data reads back as empty.
	must(s.Create(ctx, "/empty", nil, metastore.Persistent))
	if data, st := must2(t, s.Get, ctx, "/empty"); len(data) != 0 || st.DataLength != 0 {
		t.Fatalf("empty node: %q %+v", data, st)
	}

	ok, est, err := s.Exists(ctx, "/a")
	if err != nil || !ok || est.Version != 1 {
		t.Fatalf("exists: %v %+v %v", ok, est, err)
	}
	if err := s.Delete(ctx, "/a", 1); err != nil {
		t.Fatal(err)
	}
	ok, _, err = s.Exists(ctx, "/a")
	if err != nil || ok {
		t.Fatalf("exists after delete: %v %v", ok, err)
	}
	_, _, err = s.Get(ctx, "/a")
	wantErr(t, err, metastore.ErrNoNode, "get deleted")
	_, err = s.Set(ctx, "/a", nil, metastore.AnyVersion)
	wantErr(t, err, metastore.ErrNoNode, "set deleted")
	wantErr(t, s.Delete(ctx, "/a", metastore.AnyVersion), metastore.ErrNoNode, "delete deleted")
	_, _, err = s.Children(ctx, "/a")
	wantErr(t, err, metastore.ErrNoNode, "children of deleted")

	// The root is there (the chroot, if any).
	if _, _, err := s.Get(ctx, "/"); err != nil {
		t.Fatalf("get /: %v", err)
	}
}

func must2[A, B any](t *testing.T, f func(context.Context, string) (A, B, error), ctx context.Context, p string) (A, B) {
	t.Helper()
	a, b, err := f(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func testCreateErrors(t *testing.T, env Env) {
	ctx := ctxT(t)
	s := env.Open(t)
	must(s.Create(ctx, "/x", nil, metastore.Persistent))
	_, err := s.Create(ctx, "/x", nil, metastore.Persistent)
	wantErr(t, err, metastore.ErrNodeExists, "create existing")
	_, err = s.Create(ctx, "/missing/child", nil, metastore.Persistent)
	wantErr(t, err, metastore.ErrNoNode, "create without parent")
	must(s.Create(ctx, "/eph", nil, metastore.Ephemeral))
	_, err = s.Create(ctx, "/eph/child", nil, metastore.Persistent)
	wantErr(t, err, metastore.ErrNoChildrenForEphemerals, "create under ephemeral")
	for _, bad := range []string{"", "x", "/x/", "/x//y", "/x/./y", "/x/../y", "/x/\x00"} {
		_, err = s.Create(ctx, bad, nil, metastore.Persistent)
		wantErr(t, err, metastore.ErrInvalidPath, fmt.Sprintf("create %q", bad))
	}
	_, _, err = s.Get(ctx, "no-slash")
	wantErr(t, err, metastore.ErrInvalidPath, "get relative")
	_, err = s.Create(ctx, "/y", nil, metastore.CreateFlags(8))
	wantErr(t, err, metastore.ErrBadArguments, "create with bad flags")
}

func testVersions(t *testing.T, env Env) {
	ctx := ctxT(t)
	s := env.Open(t)
	must(s.Create(ctx, "/v", []byte("0"), metastore.Persistent))
	_, err := s.Set(ctx, "/v", []byte("x"), 5)
	wantErr(t, err, metastore.ErrBadVersion, "set with wrong version")
	for i := int32(0); i < 3; i++ {
		st := must(s.Set(ctx, "/v", []byte{byte('1' + i)}, i))
		if st.Version != i+1 {
			t.Fatalf("version %d after set %d", st.Version, i)
		}
	}
	st := must(s.Set(ctx, "/v", []byte("any"), metastore.AnyVersion))
	if st.Version != 4 {
		t.Fatalf("version after unconditional set: %d", st.Version)
	}
	wantErr(t, s.Delete(ctx, "/v", 3), metastore.ErrBadVersion, "delete with stale version")
	must(s.Create(ctx, "/v/c", nil, metastore.Persistent))
	// ZooKeeper checks the version before emptiness.
	wantErr(t, s.Delete(ctx, "/v", 99), metastore.ErrBadVersion, "delete non-empty with bad version")
	wantErr(t, s.Delete(ctx, "/v", 4), metastore.ErrNotEmpty, "delete non-empty")
	if err := s.Delete(ctx, "/v/c", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "/v", 4); err != nil {
		t.Fatal(err)
	}
}

func testChildren(t *testing.T, env Env) {
	ctx := ctxT(t)
	s := env.Open(t)
	must(s.Create(ctx, "/p", nil, metastore.Persistent))
	names := []string{"b", "a", "10", "2", "c-1"}
	for _, n := range names {
		must(s.Create(ctx, "/p/"+n, nil, metastore.Persistent))
	}
	got, st := must2(t, s.Children, ctx, "/p")
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("children %v, want %v", got, want)
	}
	if st.NumChildren != 5 || st.Cversion != 5 {
		t.Fatalf("parent stat %+v", st)
	}
	if err := s.Delete(ctx, "/p/a", metastore.AnyVersion); err != nil {
		t.Fatal(err)
	}
	_, st2 := must2(t, s.Children, ctx, "/p")
	if st2.NumChildren != 4 || st2.Cversion != 6 || st2.Pzxid <= st.Pzxid || st2.Version != 0 {
		t.Fatalf("parent stat after delete %+v", st2)
	}
	got, _ = must2(t, s.Children, ctx, "/p/b")
	if len(got) != 0 {
		t.Fatalf("children of a leaf: %v", got)
	}
}

func testSequential(t *testing.T, env Env) {
	ctx := ctxT(t)
	s := env.Open(t)
	must(s.Create(ctx, "/q", nil, metastore.Persistent))
	p0 := must(s.Create(ctx, "/q/item_", []byte("a"), metastore.Sequential))
	p1 := must(s.Create(ctx, "/q/item_", []byte("b"), metastore.Sequential))
	if p0 != "/q/item_0000000000" || p1 != "/q/item_0000000001" {
		t.Fatalf("sequential paths %q %q", p0, p1)
	}
	// The counter counts every child creation, plain ones too, but not
	// deletions (ZooKeeper 3.8 behaves so although Cversion counts both).
	must(s.Create(ctx, "/q/plain", nil, metastore.Persistent))
	if err := s.Delete(ctx, p0, metastore.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if _, st := must2(t, s.Get, ctx, "/q"); st.Cversion != 4 {
		t.Fatalf("cversion after 3 creates and a delete: %d", st.Cversion)
	}
	p4 := must(s.Create(ctx, "/q/e-", nil, metastore.Ephemeral|metastore.Sequential))
	if p4 != "/q/e-0000000003" {
		t.Fatalf("ephemeral sequential path %q", p4)
	}
	_, st := must2(t, s.Get, ctx, p4)
	if st.EphemeralOwner != s.ID() {
		t.Fatalf("owner %x, session %x", st.EphemeralOwner, s.ID())
	}
	if data, _ := must2(t, s.Get, ctx, p1); string(data) != "b" {
		t.Fatalf("data %q", data)
	}
	// A name made only of the sequence number.
	p5 := must(s.Create(ctx, "/q/", nil, metastore.Sequential))
	if p5 != "/q/0000000004" {
		t.Fatalf("bare sequential path %q", p5)
	}
}

func testEphemeralClose(t *testing.T, env Env) {
	ctx := ctxT(t)
	s1, s2 := env.Open(t), env.Open(t)
	if s1.ID() == s2.ID() || s1.ID() == 0 {
		t.Fatalf("session ids %x %x", s1.ID(), s2.ID())
	}
	must(s1.Create(ctx, "/e1", []byte("x"), metastore.Ephemeral))
	must(s2.Create(ctx, "/keep", nil, metastore.Persistent))
	_, st := must2(t, s2.Get, ctx, "/e1")
	if st.EphemeralOwner != s1.ID() {
		t.Fatalf("owner %x, want %x", st.EphemeralOwner, s1.ID())
	}
	_, _, ch, err := s2.ExistsW(ctx, "/e1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ch, metastore.EventNodeDeleted, "/e1")
	if ok, _, err := s2.Exists(ctx, "/e1"); err != nil || ok {
		t.Fatalf("ephemeral after close: %v %v", ok, err)
	}
	if ok, _, err := s2.Exists(ctx, "/keep"); err != nil || !ok {
		t.Fatalf("persistent node after its creator closed: %v %v", ok, err)
	}
}

func testEphemeralExpiry(t *testing.T, env Env) {
	ctx := ctxT(t)
	s1, s2 := env.Open(t), env.Open(t)
	must(s1.Create(ctx, "/brokers", nil, metastore.Persistent))
	must(s1.Create(ctx, "/brokers/1", []byte("b1"), metastore.Ephemeral))
	_, _, ch, err := s2.ChildrenW(ctx, "/brokers")
	if err != nil {
		t.Fatal(err)
	}
	env.Expire(t, s1)
	wantEvent(t, ch, metastore.EventNodeChildrenChanged, "/brokers")
	names, _ := must2(t, s2.Children, ctx, "/brokers")
	if len(names) != 0 {
		t.Fatalf("children after owner expired: %v", names)
	}
	// The node can be re-created by a new session (broker re-registration).
	s3 := env.Open(t)
	must(s3.Create(ctx, "/brokers/1", []byte("b1"), metastore.Ephemeral))
}

func testDataWatch(t *testing.T, env Env) {
	ctx := ctxT(t)
	s, other := env.Open(t), env.Open(t)
	must(s.Create(ctx, "/w", []byte("1"), metastore.Persistent))
	_, _, err := func() ([]byte, metastore.Stat, error) {
		d, st, _, err := s.GetW(ctx, "/nowhere")
		return d, st, err
	}()
	wantErr(t, err, metastore.ErrNoNode, "GetW on a missing node")

	data, _, ch, err := s.GetW(ctx, "/w")
	if err != nil || string(data) != "1" {
		t.Fatal(data, err)
	}
	must(other.Set(ctx, "/w", []byte("2"), metastore.AnyVersion))
	wantEvent(t, ch, metastore.EventNodeDataChanged, "/w")
	// One-shot: the next change is not delivered on the old channel.
	must(other.Set(ctx, "/w", []byte("3"), metastore.AnyVersion))
	NoEvent(t, ch, 200*time.Millisecond)

	_, _, ch, err = s.GetW(ctx, "/w")
	if err != nil {
		t.Fatal(err)
	}
	// Two watches on the same node both fire.
	_, _, ch2, err := s.GetW(ctx, "/w")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, "/w", metastore.AnyVersion); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ch, metastore.EventNodeDeleted, "/w")
	wantEvent(t, ch2, metastore.EventNodeDeleted, "/w")

	// Creating a child is not a data change.
	must(s.Create(ctx, "/w2", nil, metastore.Persistent))
	_, _, ch, err = s.GetW(ctx, "/w2")
	if err != nil {
		t.Fatal(err)
	}
	must(other.Create(ctx, "/w2/c", nil, metastore.Persistent))
	NoEvent(t, ch, 200*time.Millisecond)
}

func testExistsWatch(t *testing.T, env Env) {
	ctx := ctxT(t)
	s, other := env.Open(t), env.Open(t)
	ok, _, ch, err := s.ExistsW(ctx, "/later")
	if err != nil || ok {
		t.Fatal(ok, err)
	}
	must(other.Create(ctx, "/later", []byte("x"), metastore.Ephemeral))
	wantEvent(t, ch, metastore.EventNodeCreated, "/later")

	ok, st, ch, err := s.ExistsW(ctx, "/later")
	if err != nil || !ok || st.EphemeralOwner != other.ID() {
		t.Fatal(ok, st, err)
	}
	must(other.Set(ctx, "/later", []byte("y"), metastore.AnyVersion))
	wantEvent(t, ch, metastore.EventNodeDataChanged, "/later")

	_, _, ch, err = s.ExistsW(ctx, "/later")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, "/later", metastore.AnyVersion); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ch, metastore.EventNodeDeleted, "/later")
}

func testChildWatch(t *testing.T, env Env) {
	ctx := ctxT(t)
	s, other := env.Open(t), env.Open(t)
	must(s.Create(ctx, "/c", nil, metastore.Persistent))
	_, _, ch, err := s.ChildrenW(ctx, "/c")
	if err != nil {
		t.Fatal(err)
	}
	must(other.Create(ctx, "/c/1", []byte("a"), metastore.Persistent))
	wantEvent(t, ch, metastore.EventNodeChildrenChanged, "/c")

	// Data changes of the parent or of a child do not fire a child watch.
	_, _, ch, err = s.ChildrenW(ctx, "/c")
	if err != nil {
		t.Fatal(err)
	}
	must(other.Set(ctx, "/c/1", []byte("b"), metastore.AnyVersion))
	must(other.Set(ctx, "/c", []byte("b"), metastore.AnyVersion))
	NoEvent(t, ch, 200*time.Millisecond)
	// Grandchildren do not count either.
	must(other.Create(ctx, "/c/1/g", nil, metastore.Persistent))
	NoEvent(t, ch, 200*time.Millisecond)

	if err := other.Delete(ctx, "/c/1/g", metastore.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, "/c/1", metastore.AnyVersion); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ch, metastore.EventNodeChildrenChanged, "/c")

	_, _, ch, err = s.ChildrenW(ctx, "/c")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, "/c", metastore.AnyVersion); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ch, metastore.EventNodeDeleted, "/c")
}

func testWatchSeesChange(t *testing.T, env Env) {
	ctx := ctxT(t)
	s, other := env.Open(t), env.Open(t)
	must(s.Create(ctx, "/ctl", []byte("0"), metastore.Persistent))
	for i := 1; i <= 5; i++ {
		_, _, ch, err := s.GetW(ctx, "/ctl")
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint(i)
		must(other.Set(ctx, "/ctl", []byte(want), metastore.AnyVersion))
		WaitEvent(t, ch)
		if data, _ := must2(t, s.Get, ctx, "/ctl"); string(data) != want {
			t.Fatalf("read after event: %q, want %q", data, want)
		}
	}
}

func testWatchesOnSessionEnd(t *testing.T, env Env) {
	ctx := ctxT(t)
	s1 := env.Open(t)
	must(s1.Create(ctx, "/n", nil, metastore.Persistent))
	_, _, ch1, err := s1.GetW(ctx, "/n")
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if ev := WaitEvent(t, ch1); ev.Type != metastore.EventSessionClosed {
		t.Fatalf("event on close: %+v", ev)
	}

	s2 := env.Open(t)
	_, _, ch2, err := s2.ChildrenW(ctx, "/n")
	if err != nil {
		t.Fatal(err)
	}
	env.Expire(t, s2)
	if ev := WaitEvent(t, ch2); ev.Type != metastore.EventSessionExpired {
		t.Fatalf("event on expiry: %+v", ev)
	}
}

func testMultiCommit(t *testing.T, env Env) {
	ctx := ctxT(t)
	s, other := env.Open(t), env.Open(t)
	must(s.Create(ctx, "/m", []byte("v0"), metastore.Persistent))
	must(s.Create(ctx, "/m/old", nil, metastore.Persistent))
	_, _, dataCh, err := other.GetW(ctx, "/m")
	if err != nil {
		t.Fatal(err)
	}
	_, _, childCh, err := other.ChildrenW(ctx, "/m")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Multi(ctx,
		metastore.CheckOp("/m", 0),
		metastore.CreateOp("/m/new", []byte("n"), metastore.Persistent),
		metastore.CreateOp("/m/seq-", nil, metastore.Sequential),
		metastore.SetOp("/m", []byte("v1"), 0),
		metastore.DeleteOp("/m/old", 0),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 5 {
		t.Fatalf("%d results", len(res))
	}
	// Sequence: two children were created before it (old, new).
	if res[1].Path != "/m/new" || res[2].Path != "/m/seq-0000000002" {
		t.Fatalf("created paths %q %q", res[1].Path, res[2].Path)
	}
	if res[3].Stat.Version != 1 || res[3].Kind != metastore.OpSet {
		t.Fatalf("set result %+v", res[3])
	}
	wantEvent(t, dataCh, metastore.EventNodeDataChanged, "/m")
	wantEvent(t, childCh, metastore.EventNodeChildrenChanged, "/m")
	names, st := must2(t, other.Children, ctx, "/m")
	if !slices.Equal(names, []string{"new", "seq-0000000002"}) {
		t.Fatalf("children after multi %v", names)
	}
	// One transaction: every change carries the same zxid.
	_, nst := must2(t, other.Get, ctx, "/m/new")
	if nst.Czxid != st.Mzxid || st.Pzxid != st.Mzxid {
		t.Fatalf("multi zxids: child %+v parent %+v", nst, st)
	}
	// An empty Multi is a no-op.
	if res, err := s.Multi(ctx); err != nil || len(res) != 0 {
		t.Fatalf("empty multi: %v %v", res, err)
	}
}

func testMultiFailure(t *testing.T, env Env) {
	ctx := ctxT(t)
	s, other := env.Open(t), env.Open(t)
	must(s.Create(ctx, "/f", []byte("keep"), metastore.Persistent))
	must(s.Create(ctx, "/f/x", nil, metastore.Persistent))
	_, _, dataCh, err := other.GetW(ctx, "/f")
	if err != nil {
		t.Fatal(err)
	}
	_, _, childCh, err := other.ChildrenW(ctx, "/f")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		ops   []metastore.Op
		index int
		err   error
	}{
		{"bad version", []metastore.Op{
			metastore.CreateOp("/f/a", nil, metastore.Persistent),
			metastore.SetOp("/f", []byte("changed"), 0),
			metastore.CheckOp("/f", 7),
		}, 2, metastore.ErrBadVersion},
		{"exists", []metastore.Op{
			metastore.DeleteOp("/f/x", 0),
			metastore.CreateOp("/f/b", nil, metastore.Ephemeral),
			metastore.CreateOp("/f/b", nil, metastore.Persistent),
		}, 2, metastore.ErrNodeExists},
		{"no node", []metastore.Op{
			metastore.SetOp("/f", []byte("changed"), metastore.AnyVersion),
			metastore.DeleteOp("/f/missing", metastore.AnyVersion),
		}, 1, metastore.ErrNoNode},
		{"not empty", []metastore.Op{
			metastore.CreateOp("/f/c", nil, metastore.Persistent),
			metastore.DeleteOp("/f", metastore.AnyVersion),
		}, 1, metastore.ErrNotEmpty},
	}
	for _, c := range cases {
		_, err := s.Multi(ctx, c.ops...)
		var me *metastore.MultiError
		if !errors.As(err, &me) {
			t.Fatalf("%s: error %v is not a *MultiError", c.name, err)
		}
		if !errors.Is(err, c.err) || me.Index != c.index {
			t.Fatalf("%s: got %v (index %d), want %v at %d", c.name, err, me.Index, c.err, c.index)
		}
	}
	// Nothing of any of them was applied.
	data, st := must2(t, other.Get, ctx, "/f")
	names, _ := must2(t, other.Children, ctx, "/f")
	if string(data) != "keep" || st.Version != 0 || !slices.Equal(names, []string{"x"}) || st.Cversion != 1 {
		t.Fatalf("after failed multis: %q %+v %v", data, st, names)
	}
	NoEvent(t, dataCh, 200*time.Millisecond)
	NoEvent(t, childCh, 0)
	// Sequence numbers were not consumed either.
	if p := must(s.Create(ctx, "/f/s-", nil, metastore.Sequential)); p != "/f/s-0000000001" {
		t.Fatalf("sequential after failed multis: %q", p)
	}
}

// testMultiFencing is the controller's use: writes guarded by a check on the
// controller epoch node's version fail once another controller bumped it.
func testMultiFencing(t *testing.T, env Env) {
	ctx := ctxT(t)
	old, newer := env.Open(t), env.Open(t)
	must(old.Create(ctx, "/controller_epoch", []byte("1"), metastore.Persistent))
	must(old.Create(ctx, "/state", []byte("a"), metastore.Persistent))
	_, epochStat := must2(t, old.Get, ctx, "/controller_epoch")
	must(newer.Set(ctx, "/controller_epoch", []byte("2"), epochStat.Version))
	_, err := old.Multi(ctx,
		metastore.CheckOp("/controller_epoch", epochStat.Version),
		metastore.SetOp("/state", []byte("stale"), metastore.AnyVersion))
	wantErr(t, err, metastore.ErrBadVersion, "fenced write")
	if data, _ := must2(t, newer.Get, ctx, "/state"); string(data) != "a" {
		t.Fatalf("a fenced write got through: %q", data)
	}
}

func testSessionExpiredState(t *testing.T, env Env) {
	ctx := ctxT(t)
	s := env.Open(t)
	if s.State() != metastore.StateConnected || s.Err() != nil {
		t.Fatalf("fresh session: %v %v", s.State(), s.Err())
	}
	select {
	case <-s.Done():
		t.Fatal("Done closed on a live session")
	default:
	}
	changed := s.Changed()
	env.Expire(t, s)
	select {
	case <-changed:
	case <-time.After(EventTimeout):
		t.Fatal("Changed not closed on expiry")
	}
	select {
	case <-s.Done():
	case <-time.After(EventTimeout):
		t.Fatal("Done not closed on expiry")
	}
	if s.State() != metastore.StateExpired {
		t.Fatalf("state %v", s.State())
	}
	wantErr(t, s.Err(), metastore.ErrSessionExpired, "Err after expiry")
	_, err := s.Create(ctx, "/after", nil, metastore.Persistent)
	wantErr(t, err, metastore.ErrSessionExpired, "create after expiry")
	_, _, err = s.Get(ctx, "/")
	wantErr(t, err, metastore.ErrSessionExpired, "get after expiry")
	if err := s.Close(); err != nil {
		t.Fatalf("close after expiry: %v", err)
	}
	if s.State() != metastore.StateExpired {
		t.Fatalf("state after close of an expired session: %v", s.State())
	}
	// Nothing was written by the expired session.
	if ok, _, err := env.Open(t).Exists(ctx, "/after"); err != nil || ok {
		t.Fatalf("write after expiry landed: %v %v", ok, err)
	}
}

func testSessionClosed(t *testing.T, env Env) {
	ctx := ctxT(t)
	s := env.Open(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if s.State() != metastore.StateClosed {
		t.Fatalf("state %v", s.State())
	}
	<-s.Done()
	wantErr(t, s.Err(), metastore.ErrClosed, "Err after close")
	_, err := s.Create(ctx, "/x", nil, metastore.Persistent)
	wantErr(t, err, metastore.ErrClosed, "create after close")
	_, _, _, err = s.ChildrenW(ctx, "/")
	wantErr(t, err, metastore.ErrClosed, "watch after close")
}

func testContextCancelled(t *testing.T, env Env) {
	s := env.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Create(ctx, "/c", nil, metastore.Persistent)
	wantErr(t, err, context.Canceled, "create with a cancelled context")
	_, _, err = s.Get(ctx, "/")
	wantErr(t, err, context.Canceled, "get with a cancelled context")
}

func testHelpers(t *testing.T, env Env) {
	ctx := ctxT(t)
	s := env.Open(t)
	if err := metastore.EnsurePath(ctx, s, "/a/b/c"); err != nil {
		t.Fatal(err)
	}
	if err := metastore.EnsurePath(ctx, s, "/a/b/c"); err != nil {
		t.Fatalf("second EnsurePath: %v", err)
	}
	must(s.Create(ctx, "/a/b/c/d", []byte("x"), metastore.Persistent))
	must(s.Create(ctx, "/a/e", nil, metastore.Persistent))
	if err := metastore.DeleteAll(ctx, s, "/a"); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := s.Exists(ctx, "/a"); err != nil || ok {
		t.Fatalf("after DeleteAll: %v %v", ok, err)
	}
	if err := metastore.DeleteAll(ctx, s, "/a"); err != nil {
		t.Fatalf("DeleteAll of a missing path: %v", err)
	}
}
