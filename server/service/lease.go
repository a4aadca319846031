package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/collector"
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

// sharedSnapshot is how a holder stores its latest snapshot for the other consoles' pages: the
// snapshot's JSON (as the API serves it) with the storage figures it leaves out.
type sharedSnapshot struct {
	Snapshot *collector.Snapshot `json:"snapshot"`
	Storage  *collector.Storage  `json:"storage,omitempty"`
}

func encodeShared(s *collector.Snapshot) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(sharedSnapshot{Snapshot: s, Storage: s.Storage}); err != nil {
		return nil, fmt.Errorf("encoding the snapshot of %s: %w", s.Cluster.Name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encoding the snapshot of %s: %w", s.Cluster.Name, err)
	}
	return buf.Bytes(), nil
}

func decodeShared(body []byte) (*collector.Snapshot, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("decoding a stored snapshot: %w", err)
	}
	var sh sharedSnapshot
	if err := json.NewDecoder(zr).Decode(&sh); err != nil {
		return nil, fmt.Errorf("decoding a stored snapshot: %w", err)
	}
	if sh.Snapshot == nil {
		return nil, errors.New("decoding a stored snapshot: empty")
	}
	sh.Snapshot.Storage = sh.Storage
	return sh.Snapshot, nil
}

// leaseInterval is how often a console checks a cluster's lease: twice per poll interval, so the
// holder renews well before the expiry (two poll intervals after its last renewal) and another
// console takes an expired lease over within half an interval of its expiry.
func leaseInterval(c *cluster) time.Duration { return c.collector.Config().OffsetsInterval / 2 }

// leaseLoop keeps one cluster's lease until ctx ends (a crash, or Stop, which then releases it): while
// held, the collector polls and each snapshot is stored for the other consoles; otherwise the latest
// stored snapshot is adopted for the pages. It runs on its own goroutine, the only caller of the
// keeper's Tick.
func (s *Service) leaseLoop(ctx context.Context, c *cluster) {
	t := time.NewTicker(leaseInterval(c))
	defer t.Stop()
	held := false
	var seen time.Time // taken_at of the last stored snapshot adopted
	for {
		tctx, cancel := context.WithTimeout(ctx, leaseInterval(c))
		now, err := c.lease.Tick(tctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("checking the cluster's lease", "cluster", c.spec.Name, "err", err)
		}
		if now != held && ctx.Err() == nil {
			held = now
			s.log.Info("cluster lease changed", "cluster", c.spec.Name, "held", held, "epoch", c.lease.Epoch())
			if s.opts.OnLease != nil {
				s.opts.OnLease(ctx, c.spec.Name, held)
			}
			if held {
				c.collector.PollNow(ctx) // take over at once rather than at the loop's next tick
			}
		}
		if !held && ctx.Err() == nil {
			seen = s.adoptStored(ctx, c, seen)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// adoptStored hands the collector the holder's stored snapshot when it is newer than seen, and
// returns the time of the newest one adopted.
func (s *Service) adoptStored(ctx context.Context, c *cluster, seen time.Time) time.Time {
	lctx, cancel := context.WithTimeout(ctx, leaseInterval(c))
	defer cancel()
	body, at, ok, err := s.opts.Store.LoadSnapshot(lctx, c.spec.Name, seen)
	if err != nil {
		s.log.Warn("loading the cluster's stored snapshot", "cluster", c.spec.Name, "err", err)
		return seen
	}
	if !ok {
		return seen
	}
	snap, err := decodeShared(body)
	if err != nil {
		s.log.Warn("loading the cluster's stored snapshot", "cluster", c.spec.Name, "err", err)
		return at
	}
	c.collector.Adopt(snap)
	return at
}

// shareSnapshot stores a snapshot this console polled for the others, fenced by the lease's epoch.
func (s *Service) shareSnapshot(ctx context.Context, c *cluster, snap *collector.Snapshot) {
	epoch := c.lease.Epoch()
	if epoch == 0 {
		return
	}
	body, err := encodeShared(snap)
	if err == nil {
		var ok bool
		ok, err = s.opts.Store.SaveSnapshot(ctx, c.spec.Name, s.opts.Instance, epoch, snap.Cluster.LastPoll, body)
		if err == nil && !ok {
			s.log.Info("snapshot not shared: the cluster's lease moved", "cluster", c.spec.Name)
		}
	}
	if err != nil {
		s.log.Warn("sharing the cluster's snapshot", "cluster", c.spec.Name, "err", err)
	}
}

// heldSink writes samples only while the console holds the cluster's lease, so a console that lost it
// (paused past its expiry, cut off from the database) does not write beside the new holder.
type heldSink struct {
	collector.Sink
	lease *leaseKeeper
}

func (h heldSink) WriteSamples(ctx context.Context, smp *collector.Samples) error {
	if !h.lease.Held() {
		return nil
	}
	return h.Sink.WriteSamples(ctx, smp)
}
