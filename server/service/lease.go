package service

import (
	"context"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/store"
)

// leaseStore is the part of *store.Store a leaseKeeper uses.
type leaseStore interface {
	DBNow(ctx context.Context) (time.Time, error)
	GetLease(ctx context.Context, cluster string) (*store.Lease, error)
	CreateLease(ctx context.Context, cluster, holder string, now, expires time.Time) (bool, error)
	RenewLease(ctx context.Context, prev store.Lease, now, expires time.Time) (bool, error)
	TakeLease(ctx context.Context, prev store.Lease, holder string, now, expires time.Time) (bool, error)
	ReleaseLease(ctx context.Context, cluster, holder string, epoch int64, now time.Time) error
}

// leaseKeeper holds (or tries to take) one cluster's polling lease for one console. Tick is called by
// one goroutine (the cluster's lease loop); Held and Epoch may be called from any goroutine. mu
// guards the fields below it.
//
// Expiry is decided on the database's clock (leaseStore.DBNow), so consoles whose clocks disagree
// still agree on when a lease expired. The holder's own view is on its local monotonic clock: it
// counts the lease as held until ttl after it started the renewal that succeeded, which is never
// later than the expiry the database records (read after that start), so a console whose renewals
// fail stops writing before another can take the lease over.
type leaseKeeper struct {
	st      leaseStore
	cluster string
	holder  string
	ttl     time.Duration    // a lease lasts ttl after its last renewal
	local   func() time.Time // local monotonic clock

	mu       sync.Mutex
	lease    *store.Lease // the row as this console last wrote it; nil when not held
	deadline time.Time    // local time until which the lease counts as held
}

func newLeaseKeeper(st leaseStore, cluster, holder string, ttl time.Duration, local func() time.Time) *leaseKeeper {
	if local == nil {
		local = time.Now
	}
	return &leaseKeeper{st: st, cluster: cluster, holder: holder, ttl: ttl, local: local}
}

// Held says whether this console holds the lease now: only then may it poll the cluster, evaluate its
// alerts and write what it collects.
func (k *leaseKeeper) Held() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lease != nil && k.local().Before(k.deadline)
}

// Epoch is the fencing token of the lease held (0 when not held).
func (k *leaseKeeper) Epoch() int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lease == nil || !k.local().Before(k.deadline) {
		return 0
	}
	return k.lease.Epoch
}

// Tick renews the lease when held, creates or takes it over when it is free or expired, and reports
// whether it is held afterwards. A store error leaves the local view as it was (a held lease
// still ends at its deadline).
func (k *leaseKeeper) Tick(ctx context.Context) (bool, error) {
	start := k.local()
	now, err := k.st.DBNow(ctx)
	if err != nil {
		return k.Held(), err
	}
	cur, err := k.st.GetLease(ctx, k.cluster)
	if err != nil {
		return k.Held(), err
	}
	expires := now.Add(k.ttl)
	var ok bool
	var next store.Lease
	switch {
	case cur == nil:
		ok, err = k.st.CreateLease(ctx, k.cluster, k.holder, now, expires)
		next = store.Lease{Cluster: k.cluster, Holder: k.holder, Epoch: 1}
	case cur.Holder == k.holder:
		ok, err = k.st.RenewLease(ctx, *cur, now, expires)
		next = *cur
		next.Renewals++
	case !now.Before(cur.ExpiresAt):
		ok, err = k.st.TakeLease(ctx, *cur, k.holder, now, expires)
		next = store.Lease{Cluster: k.cluster, Holder: k.holder, Epoch: cur.Epoch + 1}
	}
	if err != nil {
		return k.Held(), err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !ok {
		k.lease = nil
		return false, nil
	}
	next.RenewedAt, next.ExpiresAt = now, expires
	k.lease, k.deadline = &next, start.Add(k.ttl)
	return true, nil
}

// Release ends a held lease (a clean stop) so another console need not wait for its expiry.
func (k *leaseKeeper) Release(ctx context.Context) error {
	k.mu.Lock()
	l := k.lease
	k.lease = nil
	k.mu.Unlock()
	if l == nil {
		return nil
	}
	now, err := k.st.DBNow(ctx)
	if err != nil {
		return err
	}
	return k.st.ReleaseLease(ctx, k.cluster, k.holder, l.Epoch, now)
}
