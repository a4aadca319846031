package metastore

import (
	"errors"
	"slices"
	"testing"
)

func TestValidatePath(t *testing.T) {
	good := []string{"/", "/a", "/a/b-c_d.e", "/brokers/ids/1", "/z/..x", "/日本"}
	bad := []string{"", "a", "/a/", "//", "/a//b", "/a/./b", "/a/../b", "/.", "/a/\x00", "/a/\x01b", "/a/\ufff5"}
	for _, p := range good {
		if err := ValidatePath(p, false); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range bad {
		if err := ValidatePath(p, false); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("%q accepted: %v", p, err)
		}
	}
	// A sequential create may end in a slash.
	if err := ValidatePath("/q/", true); err != nil {
		t.Errorf("sequential /q/: %v", err)
	}
	if err := ValidatePath("/q//", true); err == nil {
		t.Error("sequential /q// accepted")
	}
	if err := ValidateChroot("/"); err == nil {
		t.Error("chroot / accepted")
	}
	if err := ValidateChroot(""); err != nil {
		t.Error(err)
	}
}

func TestPathHelpers(t *testing.T) {
	cases := []struct{ path, parent, base string }{
		{"/", "/", ""}, {"/a", "/", "a"}, {"/a/b/c", "/a/b", "c"},
	}
	for _, c := range cases {
		if Parent(c.path) != c.parent || Base(c.path) != c.base {
			t.Errorf("%q: parent %q base %q", c.path, Parent(c.path), Base(c.path))
		}
	}
	if Join("/", "a", "b") != "/a/b" || Join("/x", "y") != "/x/y" || Join("/") != "/" {
		t.Error("Join")
	}
	if !slices.Equal(Ancestors("/a/b/c"), []string{"/a", "/a/b"}) || Ancestors("/a") != nil {
		t.Error("Ancestors", Ancestors("/a/b/c"))
	}
	for _, c := range []struct{ chroot, path, full string }{
		{"", "/a", "/a"}, {"/k", "/", "/k"}, {"/k", "/a/b", "/k/a/b"},
	} {
		if got := WithChroot(c.chroot, c.path); got != c.full {
			t.Errorf("WithChroot(%q,%q) = %q", c.chroot, c.path, got)
		}
		if got := StripChroot(c.chroot, c.full); got != c.path {
			t.Errorf("StripChroot(%q,%q) = %q", c.chroot, c.full, got)
		}
	}
	if StripChroot("/k", "/kafka/x") != "/kafka/x" {
		t.Error("a sibling with the chroot as prefix was stripped")
	}
}

func TestStateTracker(t *testing.T) {
	st := NewStateTracker(StateDisconnected)
	ch := st.Changed()
	if !st.Set(StateConnected) || st.State() != StateConnected || st.Err() != nil {
		t.Fatal("connect")
	}
	select {
	case <-ch:
	default:
		t.Fatal("Changed not closed")
	}
	if st.Set(StateConnected) {
		t.Fatal("no-op change reported")
	}
	if !st.Set(StateExpired) || !errors.Is(st.Err(), ErrSessionExpired) {
		t.Fatal("expire")
	}
	<-st.Done()
	if st.Set(StateClosed) || st.State() != StateExpired {
		t.Fatal("terminal state changed")
	}
	if CreateFlags(3).String() != "EPHEMERAL_SEQUENTIAL" || CreateFlags(4).Valid() {
		t.Fatal("flags")
	}
}
