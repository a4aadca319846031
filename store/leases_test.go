package store

import (
	"context"
	"testing"
	"time"
)

// TestLeaseCompareAndSet checks each lease statement changes the row only when it is still the one
// the caller read, on both dialects, and that snapshot writes are fenced by the lease's epoch.
func TestLeaseCompareAndSet(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now, err := s.DBNow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		must := func(ok bool, err error, want bool, what string) {
			t.Helper()
			if err != nil || ok != want {
				t.Fatalf("%s: ok=%v err=%v, want %v", what, ok, err, want)
			}
		}
		ok, err := s.CreateLease(ctx, "prod", "a", now, now.Add(time.Minute))
		must(ok, err, true, "create")
		ok, err = s.CreateLease(ctx, "prod", "b", now, now.Add(time.Minute))
		must(ok, err, false, "second create")
		l, err := s.GetLease(ctx, "prod")
		if err != nil || l == nil || l.Holder != "a" || l.Epoch != 1 || l.Renewals != 0 {
			t.Fatalf("lease %+v err=%v", l, err)
		}
		// The same timestamps again still change the row (renewals), so the holder sees 1 row.
		ok, err = s.RenewLease(ctx, *l, now, now.Add(time.Minute))
		must(ok, err, true, "renew")
		ok, err = s.TakeLease(ctx, *l, "b", now, now.Add(time.Minute))
		must(ok, err, false, "take over with a stale read")
		l, _ = s.GetLease(ctx, "prod")
		ok, err = s.TakeLease(ctx, *l, "b", now, now.Add(time.Minute))
		must(ok, err, true, "take over")
		ok, err = s.RenewLease(ctx, *l, now, now.Add(time.Minute))
		must(ok, err, false, "old holder renews")
		ok, err = s.SaveSnapshot(ctx, "prod", "a", 1, now, []byte("old"))
		must(ok, err, false, "old holder saves a snapshot")
		ok, err = s.SaveSnapshot(ctx, "prod", "b", 2, now, []byte("one"))
		must(ok, err, true, "holder saves a snapshot")
		ok, err = s.SaveSnapshot(ctx, "prod", "b", 2, now.Add(time.Second), []byte("two"))
		must(ok, err, true, "holder saves the next snapshot")
		body, at, ok, err := s.LoadSnapshot(ctx, "prod", now)
		if err != nil || !ok || string(body) != "two" || !at.Equal(now.Add(time.Second)) {
			t.Fatalf("load: %q at %v ok=%v err=%v", body, at, ok, err)
		}
		if _, _, ok, err := s.LoadSnapshot(ctx, "prod", at); err != nil || ok {
			t.Fatalf("load after the newest: ok=%v err=%v, want nothing", ok, err)
		}
	})
}
