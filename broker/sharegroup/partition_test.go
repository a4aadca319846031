package sharegroup

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{LockDuration: time.Second, DeliveryLimit: 3, MaxRecordLocks: 10}
}

func TestAcquireAcknowledgeAdvancesStart(t *testing.T) {
	p := New(testConfig(), 5)
	got := p.Acquire(t0, "a", 0, 9, 100)
	if want := []Range{{5, 8, 1}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("acquired %v, want %v", got, want)
	}
	if more := p.Acquire(t0, "b", 0, 9, 100); len(more) != 0 {
		t.Fatalf("b acquired %v while a holds everything", more)
	}
	if err := p.Acknowledge(t0, "b", 5, 5, []AckType{Accept}); !errors.Is(err, ErrInvalidRecordState) {
		t.Fatalf("ack by non-owner: %v", err)
	}
	// 6 accepted, 5 rejected, 7 released, 8 left acquired.
	if err := p.Acknowledge(t0, "a", 5, 7, []AckType{Reject, Accept, Release}); err != nil {
		t.Fatal(err)
	}
	if p.StartOffset() != 7 || p.EndOffset() != 9 {
		t.Fatalf("SPSO %d SPEO %d, want 7 9", p.StartOffset(), p.EndOffset())
	}
	got = p.Acquire(t0, "b", 0, 9, 100)
	if want := []Range{{7, 7, 2}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("b re-acquired %v, want %v", got, want)
	}
	if s := p.Snapshot(t0); s.ArchivedTotal != 1 || s.Acquired != 2 {
		t.Fatalf("snapshot %+v", s)
	}
}

func TestLockExpiryRedeliversThenArchives(t *testing.T) {
	p := New(testConfig(), 0)
	now := t0
	for d := int32(1); d <= 3; d++ {
		got := p.Acquire(now, "a", 0, 1, 10)
		if len(got) != 1 || got[0].Deliveries != d {
			t.Fatalf("delivery %d: acquired %v", d, got)
		}
		if again := p.Acquire(now.Add(999*time.Millisecond), "b", 0, 1, 10); len(again) != 0 {
			t.Fatalf("acquired %v before the lock expired", again)
		}
		now = now.Add(time.Second)
	}
	// The third lock expired at the delivery limit: archived, SPSO past it.
	if got := p.Acquire(now, "a", 0, 1, 10); len(got) != 0 {
		t.Fatalf("acquired %v past the delivery limit", got)
	}
	if s := p.Snapshot(now); s.StartOffset != 1 || s.ArchivedTotal != 1 {
		t.Fatalf("snapshot %+v", s)
	}
}

func TestMaxRecordLocksBoundsWindow(t *testing.T) {
	p := New(testConfig(), 0)
	if got := p.Acquire(t0, "a", 0, 100, 100); fmt.Sprint(got) != fmt.Sprint([]Range{{0, 9, 1}}) {
		t.Fatalf("acquired %v, want the 10-record window", got)
	}
	if err := p.Acknowledge(t0, "a", 0, 1, []AckType{Accept}); err != nil {
		t.Fatal(err)
	}
	if got := p.Acquire(t0, "b", 0, 100, 100); fmt.Sprint(got) != fmt.Sprint([]Range{{10, 11, 1}}) {
		t.Fatalf("acquired %v after the SPSO moved by 2", got)
	}
}

func TestLogStartSkipsRecords(t *testing.T) {
	p := New(testConfig(), 0)
	p.Acquire(t0, "a", 0, 5, 10)
	if got := p.Acquire(t0, "b", 3, 7, 10); fmt.Sprint(got) != fmt.Sprint([]Range{{5, 6, 1}}) {
		t.Fatalf("acquired %v", got)
	}
	if p.StartOffset() != 3 {
		t.Fatalf("SPSO %d, want 3", p.StartOffset())
	}
	if err := p.Acknowledge(t0, "a", 2, 3, []AckType{Accept}); !errors.Is(err, ErrInvalidRecordState) {
		t.Fatalf("ack below SPSO: %v", err)
	}
}

func TestAcknowledgeValidation(t *testing.T) {
	p := New(testConfig(), 0)
	p.Acquire(t0, "a", 0, 3, 10)
	for _, c := range []struct {
		first, last int64
		types       []AckType
		want        error
	}{
		{2, 1, []AckType{Accept}, ErrInvalidRequest},
		{0, 2, []AckType{Accept, Accept}, ErrInvalidRequest},
		{0, 0, []AckType{4}, ErrInvalidRequest},
		{0, 3, []AckType{Accept}, ErrInvalidRecordState},
	} {
		if err := p.Acknowledge(t0, "a", c.first, c.last, c.types); !errors.Is(err, c.want) {
			t.Errorf("ack %d-%d %v: %v, want %v", c.first, c.last, c.types, err, c.want)
		}
	}
	if s := p.Snapshot(t0); s.Acquired != 3 {
		t.Fatalf("a failed ack changed state: %+v", s)
	}
}

// TestRandomInvariants drives members that acquire, acknowledge, release,
// reject, renew and vanish at random against a fake clock, and checks after
// every step that no record is held by two members, that delivery counts
// stay within the limit, and at the end that every record was acknowledged
// or archived.
func TestRandomInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomRun(t, seed) })
	}
}

func randomRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	cfg := Config{LockDuration: time.Duration(1+rng.IntN(5)) * time.Second, DeliveryLimit: int32(1 + rng.IntN(5)), MaxRecordLocks: 1 + rng.IntN(30)}
	p := New(cfg, 0)
	now := t0
	const total = 200
	hwm := int64(0)
	members := []string{"m0", "m1", "m2", "m3"}
	type lock struct {
		member string
		until  time.Time
	}
	held := map[int64]lock{} // what the test believes each member holds, and until when
	acceptedOrArchived := map[int64]bool{}
	for step := 0; step < 20000 && (hwm < total || p.StartOffset() < total); step++ {
		m := members[rng.IntN(len(members))]
		switch op := rng.IntN(10); {
		case op == 0 && hwm < total:
			hwm = min(total, hwm+int64(1+rng.IntN(20)))
		case op <= 3:
			for _, r := range p.Acquire(now, m, 0, hwm, 1+rng.IntN(8)) {
				if r.Deliveries > cfg.DeliveryLimit {
					t.Fatalf("step %d: delivery count %d over limit %d", step, r.Deliveries, cfg.DeliveryLimit)
				}
				for off := r.First; off <= r.Last; off++ {
					if l, ok := held[off]; ok && l.until.After(now) {
						t.Fatalf("step %d: offset %d acquired by %s while %s holds it", step, off, m, l.member)
					}
					if acceptedOrArchived[off] {
						t.Fatalf("step %d: offset %d delivered again after it was finished", step, off)
					}
					held[off] = lock{m, now.Add(cfg.LockDuration)}
				}
			}
		case op <= 6:
			for off, l := range held {
				if l.member != m {
					continue
				}
				typ := []AckType{Accept, Release, Reject}[rng.IntN(3)]
				err := p.Acknowledge(now, m, off, off, []AckType{typ})
				if err == nil {
					delete(held, off)
					if typ != Release {
						acceptedOrArchived[off] = true
					}
				} else if !errors.Is(err, ErrInvalidRecordState) {
					t.Fatalf("step %d: %v", step, err)
				}
				break
			}
		case op == 7:
			p.ReleaseMember(m)
			for off, l := range held {
				if l.member == m {
					delete(held, off)
				}
			}
		default:
			now = now.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
		}
		checkInvariants(t, step, p, cfg)
	}
	// Nobody acknowledges any more: every lock expires until the delivery
	// limit archives what is left.
	for i := 0; i < int(cfg.DeliveryLimit)+1 && p.StartOffset() < total; i++ {
		p.Acquire(now, "last", 0, hwm, total)
		now = now.Add(cfg.LockDuration)
		p.Expire(now)
	}
	if p.StartOffset() != total || p.EndOffset() != total {
		t.Fatalf("SPSO %d SPEO %d: not every record was acknowledged or archived", p.StartOffset(), p.EndOffset())
	}
}

func checkInvariants(t *testing.T, step int, p *Partition, cfg Config) {
	t.Helper()
	if len(p.recs) > cfg.MaxRecordLocks {
		t.Fatalf("step %d: %d in flight, over %d", step, len(p.recs), cfg.MaxRecordLocks)
	}
	if len(p.recs) > 0 && (p.recs[0].state == Acknowledged || p.recs[0].state == Archived) {
		t.Fatalf("step %d: SPSO %d not advanced past a finished record", step, p.start)
	}
	for i, r := range p.recs {
		if r.deliveries > cfg.DeliveryLimit {
			t.Fatalf("step %d: offset %d delivered %d times", step, p.start+int64(i), r.deliveries)
		}
		if (r.state == Acquired) != (r.member != "") {
			t.Fatalf("step %d: offset %d state %v member %q", step, p.start+int64(i), r.state, r.member)
		}
	}
}

func TestNextAcquirable(t *testing.T) {
	p := New(testConfig(), 0)
	if got := p.NextAcquirable(t0, 0, 0); got != -1 {
		t.Fatalf("empty log: %d", got)
	}
	p.Acquire(t0, "a", 0, 3, 10)
	if got := p.NextAcquirable(t0, 0, 3); got != -1 {
		t.Fatalf("all acquired: %d", got)
	}
	if got := p.NextAcquirable(t0, 0, 5); got != 3 {
		t.Fatalf("new records: %d, want 3", got)
	}
	if err := p.Acknowledge(t0, "a", 1, 1, []AckType{Release}); err != nil {
		t.Fatal(err)
	}
	if got := p.NextAcquirable(t0, 0, 5); got != 1 {
		t.Fatalf("released record: %d, want 1", got)
	}
}

// TestBatchesAndRestore: the durable state round-trips; acquired records
// come back available with their delivery counts, and an available
// record at the delivery limit comes back archived.
func TestBatchesAndRestore(t *testing.T) {
	cfg := Config{LockDuration: time.Minute, DeliveryLimit: 3, MaxRecordLocks: 100}
	now := time.Unix(1000, 0)
	p := New(cfg, 10)
	p.Acquire(now, "m", 0, 20, 10)
	v := p.Version()
	if err := p.Acknowledge(now, "m", 12, 13, []AckType{Accept}); err != nil {
		t.Fatal(err)
	}
	if err := p.Acknowledge(now, "m", 14, 14, []AckType{Reject}); err != nil {
		t.Fatal(err)
	}
	if p.Version() == v {
		t.Fatal("acknowledgements did not move the version")
	}
	bs, complete := p.Batches()
	want := []Batch{{10, 11, Available, 1}, {12, 13, Acknowledged, 1}, {14, 14, Archived, 1}, {15, 19, Available, 1}}
	if !reflect.DeepEqual(bs, want) || complete != 3 {
		t.Fatalf("batches %v complete %d, want %v and 3", bs, complete, want)
	}
	bs = append(bs, Batch{22, 22, Available, 3})
	r := Restore(cfg, 10, bs)
	snap := r.Snapshot(now)
	if snap.StartOffset != 10 || snap.EndOffset != 23 || snap.Available != 9 || snap.Acknowledged != 2 || snap.Archived != 2 {
		t.Fatalf("restored %+v", snap)
	}
	if got := r.Acquire(now, "n", 0, 23, 100); !reflect.DeepEqual(got, []Range{{10, 11, 2}, {15, 19, 2}, {20, 21, 1}}) {
		t.Fatalf("acquired after restore %v", got)
	}
}
