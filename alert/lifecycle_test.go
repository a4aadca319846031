package alert

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/store"
)

// counter reads a delivery counter for one channel name from reg.
func counter(t *testing.T, reg *prometheus.Registry, name, channel string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "channel" && l.GetValue() == channel {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

type lifecycle struct {
	*harness
	rcv    *receiver
	reg    *prometheus.Registry
	queued *atomic.Int64 // notifications the evaluator has queued (countQueued)
}

// countQueued counts, in n, the notifications an evaluator queues, keeping
// any OnNotify set before it. Observe queues its notifications before it
// returns, so once the Observes are done the count is final: a test can
// assert that no further notification will come without waiting.
func countQueued(n *atomic.Int64) evalOpt {
	return func(o *Options) {
		prev := o.OnNotify
		o.OnNotify = func(nt Notification) {
			n.Add(1)
			if prev != nil {
				prev(nt)
			}
		}
	}
}

// newLifecycle stores a webhook channel named "hook" to a local receiver and
// one lag_messages rule (threshold 100) using it.
func newLifecycle(t *testing.T, rule RuleInput, opts ...evalOpt) *lifecycle {
	t.Helper()
	h := &harness{t: t, st: newTestStore(t), clock: newFakeClock()}
	rcv := newReceiver(t)
	ch := mustChannel(t, h.st, "hook", ChannelWebhook, WebhookConfig{URL: rcv.URL + "/alerts"})
	rule.ChannelIDs = []int64{ch}
	if rule.Kind == "" {
		rule.Kind, rule.Threshold = KindLagMessages, 100
	}
	if rule.Name == "" {
		rule.Name = "orders lag"
	}
	mustRule(t, h.st, rule)
	var reg *prometheus.Registry
	queued := new(atomic.Int64)
	h.ev, reg = newTestEvaluator(t, h.st, h.clock, append(opts, countQueued(queued))...)
	return &lifecycle{harness: h, rcv: rcv, reg: reg, queued: queued}
}

func lagSnap(at time.Time, lag int64) *collector.Snapshot {
	return newSnap("c1", at).topic("orders", 1000).group("billing", "Stable", 1, "orders", [2]int64{1000 - lag, 1000}).build()
}

// waitNotifications checks that the evaluator has queued n notifications in
// all and waits until the receiver has them.
func (l *lifecycle) waitNotifications(n int) []Notification {
	l.t.Helper()
	if q := l.queued.Load(); q != int64(n) {
		l.t.Fatalf("%d notifications queued, want %d", q, n)
	}
	testenv.WaitFor(l.t, 5*time.Second, testenv.Until("notifications", func() bool { return len(l.rcv.requests()) >= n }))
	got := l.rcv.notifications(l.t)
	if len(got) != n {
		l.t.Fatalf("%d notifications, want %d: %+v", len(got), n, got)
	}
	return got
}

func (l *lifecycle) events() []store.AlertEvent {
	l.t.Helper()
	evs, _, err := l.st.AlertEvents(context.Background(), 100, 0)
	if err != nil {
		l.t.Fatal(err)
	}
	return evs
}

func TestFiringThenResolvedOnce(t *testing.T) {
	l := newLifecycle(t, RuleInput{Severity: SeverityCritical})
	l.observe(lagSnap(l.now(), 500))
	started := l.now()
	for i := 0; i < 5; i++ {
		l.observe(lagSnap(l.now(), 600))
	}
	got := l.waitNotifications(1)
	n := got[0]
	if n.State != StateFiring || n.Cluster != "c1" || n.Subject != "group billing / topic orders" ||
		n.Value != 600 && n.Value != 500 || n.Threshold != 100 || n.Severity != SeverityCritical ||
		!n.StartedAt.Equal(started) || n.Link != "http://console.test/clusters/c1/groups/billing" || n.EventID == 0 {
		t.Fatalf("firing notification = %+v", n)
	}
	l.observe(lagSnap(l.now(), 10))
	resolvedAt := l.now()
	got = l.waitNotifications(2)
	r := got[1]
	if r.State != StateResolved || r.ResolvedAt == nil || !r.ResolvedAt.Equal(resolvedAt) || r.EventID != n.EventID || r.Fingerprint != n.Fingerprint ||
		!strings.HasPrefix(r.Summary, "Resolved after 1m30s. While firing: Consumer group billing") {
		t.Fatalf("resolved notification = %+v", r)
	}
	l.observe(lagSnap(l.now(), 10))
	l.waitNotifications(2)

	evs := l.events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.State != "resolved" || ev.Notifications != 2 || ev.ResolvedAt == nil || ev.Severity != "critical" || ev.Cluster != "c1" || ev.DeliveryError != "" {
		t.Fatalf("event = %+v", ev)
	}
	var ss struct {
		Value     float64 `json:"value"`
		Threshold float64 `json:"threshold"`
		Data      struct {
			Partitions []partLag   `json:"partitions"`
			History    []LagSample `json:"history"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(ev.Samples), &ss); err != nil {
		t.Fatal(err)
	}
	if ss.Threshold != 100 || len(ss.Data.Partitions) != 1 || len(ss.Data.History) < 2 {
		t.Fatalf("samples = %s", ev.Samples)
	}
	if len(l.ev.Active()) != 0 {
		t.Fatalf("active after resolution: %+v", l.ev.Active())
	}
}

func TestForDurationHolds(t *testing.T) {
	l := newLifecycle(t, RuleInput{ForSeconds: 60})
	l.observe(lagSnap(l.now(), 500)) // t=15: pending
	for i := 0; i < 3; i++ {         // t=30..60: 45 s held
		l.observe(lagSnap(l.now(), 500))
	}
	if a := l.ev.Active(); len(a) != 1 || a[0].State != "pending" {
		t.Fatalf("active = %+v", a)
	}
	// The condition breaks: pending is dropped silently, and the hold restarts.
	l.observe(lagSnap(l.now(), 0))
	if a := l.ev.Active(); len(a) != 0 {
		t.Fatalf("active = %+v", a)
	}
	for i := 0; i < 4; i++ { // 45 s held again
		l.observe(lagSnap(l.now(), 500))
	}
	if len(l.rcv.requests()) != 0 || len(l.firing()) != 0 {
		t.Fatal("fired before the for duration")
	}
	l.observe(lagSnap(l.now(), 500)) // 60 s
	l.expectFiring(1)
	l.waitNotifications(1)
}

func TestReminders(t *testing.T) {
	l := newLifecycle(t, RuleInput{RepeatSeconds: 60})
	for i := 0; i < 9; i++ { // fire at t=15, then 2 more minutes
		l.observe(lagSnap(l.now(), 500))
	}
	got := l.waitNotifications(3)
	if got[0].Reminder || !got[1].Reminder || !got[2].Reminder {
		t.Fatalf("reminder flags: %v %v %v", got[0].Reminder, got[1].Reminder, got[2].Reminder)
	}
	if got[2].StartedAt != got[0].StartedAt || !strings.Contains(got[1].Summary, "lag 500") {
		t.Fatalf("reminder = %+v", got[1])
	}
	if ev := l.events()[0]; ev.Notifications != 3 || ev.State != "firing" {
		t.Fatalf("event = %+v", ev)
	}
}

// A window-status alert that gets worse while firing (WARN → ERR) is told at once, once, on the same
// event; staying at ERR sends nothing more.
func TestEscalationIsNotified(t *testing.T) {
	l := newLifecycle(t, RuleInput{Kind: KindLagStatus, Threshold: 1})
	lagStatusRun(l.harness, 0, 50, 100, 80) // slow but advancing: WARN
	warn := l.waitNotifications(1)[0]
	if warn.Value != 1 || warn.Escalated || !strings.Contains(warn.Summary, "is WARN") {
		t.Fatalf("first notification = %+v", warn)
	}
	// The consumer stops while the head keeps moving: STOP, i.e. ERR.
	for i := int64(0); i < 12; i++ {
		l.observe(newSnap("c1", l.now()).topic("t", 820+i*80).group("g", "Stable", 1, "t", [2]int64{450, 820 + i*80}).build())
	}
	got := l.waitNotifications(2)
	worse := got[1]
	if worse.State != StateFiring || !worse.Escalated || worse.Reminder || worse.Value != 2 || !strings.Contains(worse.Summary, "is ERR") {
		t.Fatalf("escalation = %+v", worse)
	}
	if worse.EventID != warn.EventID || !strings.Contains(worse.Title(), "(worse)") {
		t.Fatalf("escalation event %d title %q, want event %d and \"(worse)\"", worse.EventID, worse.Title(), warn.EventID)
	}
	if ev := l.events()[0]; ev.Notifications != 2 || ev.State != "firing" {
		t.Fatalf("event = %+v", ev)
	}
}

func TestCooldown(t *testing.T) {
	l := newLifecycle(t, RuleInput{CooldownSeconds: 300})
	l.observe(lagSnap(l.now(), 500))
	l.observe(lagSnap(l.now(), 0))
	l.waitNotifications(2)
	resolved := l.now()
	// Flapping back within the cool-down: firing (the hold is 0 s), but nobody is told yet.
	l.observe(lagSnap(l.now(), 500))
	l.expectFiring(1)
	for l.now().Sub(resolved) < 285*time.Second {
		l.observe(lagSnap(l.now(), 500))
	}
	l.waitNotifications(2)
	if evs := l.events(); len(evs) != 2 || evs[0].State != "firing" || evs[0].Notifications != 0 {
		t.Fatalf("events = %+v", evs)
	}
	l.observe(lagSnap(l.now(), 500)) // 300 s after the resolution
	got := l.waitNotifications(3)
	if got[2].State != StateFiring || got[2].EventID == got[0].EventID {
		t.Fatalf("refire = %+v", got[2])
	}
}

func TestCooldownFlapIsNotAnnounced(t *testing.T) {
	l := newLifecycle(t, RuleInput{CooldownSeconds: 300})
	l.observe(lagSnap(l.now(), 500))
	l.observe(lagSnap(l.now(), 0))
	l.waitNotifications(2)
	l.observe(lagSnap(l.now(), 500)) // fires quietly inside the cool-down
	l.expectFiring(1)
	l.observe(lagSnap(l.now(), 0)) // and resolves: neither is news
	l.waitNotifications(2)
	if evs := l.events(); len(evs) != 2 || evs[0].State != "resolved" || evs[0].Notifications != 0 {
		t.Fatalf("events = %+v", evs)
	}
}

// A hold of N seconds fires at the first evaluation N seconds after the alert went pending, even when
// the same alert resolved a moment ago (the cool-down delays only the notification).
func TestHoldFiresWithinForPlusOneInterval(t *testing.T) {
	const interval = 15 * time.Second // harness.observe's cycle
	for _, tc := range []struct {
		name           string
		forS, cooldown int
		flapFirst      bool
	}{
		{"fresh", 60, 0, false},
		{"fresh with cool-down", 60, 300, false},
		{"after a resolution within the cool-down", 60, 300, true},
		{"hold not a multiple of the interval", 50, 300, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLifecycle(t, RuleInput{ForSeconds: tc.forS, CooldownSeconds: tc.cooldown})
			if tc.flapFirst {
				for len(l.firing()) == 0 {
					l.observe(lagSnap(l.now(), 500))
				}
				l.observe(lagSnap(l.now(), 0))
				if len(l.ev.Active()) != 0 {
					t.Fatalf("still active after resolving: %+v", l.ev.Active())
				}
			}
			l.observe(lagSnap(l.now(), 500))
			pendingAt := l.now()
			hold := time.Duration(tc.forS) * time.Second
			if a := l.ev.Active(); len(a) != 1 || a[0].State != "pending" || !a[0].ActiveAt.Equal(pendingAt) ||
				a[0].FiresAt == nil || !a[0].FiresAt.Equal(pendingAt.Add(hold)) {
				t.Fatalf("active = %+v", a)
			}
			for len(l.firing()) == 0 {
				if l.now().Sub(pendingAt) > hold+interval {
					t.Fatalf("not firing %s after going pending (for %s, one evaluation every %s)", l.now().Sub(pendingAt), hold, interval)
				}
				l.observe(lagSnap(l.now(), 500))
			}
			f := l.firing()[0]
			if held := f.FiredAt.Sub(f.ActiveAt); held < hold || held > hold+interval {
				t.Fatalf("fired after %s held, want between %s and %s", held, hold, hold+interval)
			}
			if quiet := tc.flapFirst && tc.cooldown > 0; quiet != (f.QuietUntil != nil) {
				t.Fatalf("quietUntil = %v, want set: %v", f.QuietUntil, quiet)
			}
		})
	}
}

// The hold is measured on the polls' own times, not on when their snapshots reached the evaluator: a
// slow first poll (calls to a broker that just died time out) must not push firing one cycle later.
func TestHoldCountsPollTimes(t *testing.T) {
	l := newLifecycle(t, RuleInput{ForSeconds: 60})
	const interval = 15 * time.Second
	first := l.now().Add(interval)
	observeAt := func(i int, delay time.Duration) {
		polled := first.Add(time.Duration(i) * interval)
		l.clock.Advance(polled.Add(delay).Sub(l.now()))
		if err := l.ev.Observe(context.Background(), lagSnap(polled, 500)); err != nil {
			t.Fatal(err)
		}
	}
	observeAt(0, 9*time.Second) // the poll that first sees the condition took 9 s
	for i := 1; i <= 4; i++ {   // the next ones are quick; the 4th began 60 s after the first
		observeAt(i, 100*time.Millisecond)
	}
	f := l.firing()
	if len(f) != 1 {
		t.Fatalf("not firing at the poll 60 s after the first one: %+v", l.ev.Active())
	}
	if !f[0].ActiveAt.Equal(first) || !f[0].FiredAt.Equal(first.Add(4*interval)) {
		t.Fatalf("active at %s, fired at %s; want the polls' times %s and %s", f[0].ActiveAt, f[0].FiredAt, first, first.Add(4*interval))
	}
}

func TestRestartDoesNotRepeat(t *testing.T) {
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "osprey.db")
	st := openTestStore(t, path)
	rcv := newReceiver(t)
	ch := mustChannel(t, st, "hook", ChannelWebhook, WebhookConfig{URL: rcv.URL})
	mustRule(t, st, RuleInput{Name: "lag", Kind: KindLagMessages, Threshold: 100, ChannelIDs: []int64{ch}, RepeatSeconds: 3600})

	ev1, _ := newTestEvaluator(t, st, clock)
	s := lagSnap(clock.Advance(15*time.Second), 500)
	if err := ev1.Observe(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, testenv.Until("firing notification", func() bool { return len(rcv.requests()) == 1 }))
	first := rcv.notifications(t)[0]
	ev1.Stop()

	// A new process on the same database: the alert is still firing, so
	// the same condition sends nothing; its end sends one "resolved".
	st2 := openTestStore(t, path)
	var queued atomic.Int64
	ev2, _ := newTestEvaluator(t, st2, clock, countQueued(&queued))
	if a := ev2.Active(); len(a) != 1 || a[0].State != "firing" || a[0].EventID != first.EventID {
		t.Fatalf("restored = %+v", a)
	}
	for i := 0; i < 3; i++ {
		if err := ev2.Observe(context.Background(), lagSnap(clock.Advance(15*time.Second), 500)); err != nil {
			t.Fatal(err)
		}
	}
	if n := queued.Load(); n != 0 {
		t.Fatalf("%d notifications queued after restart, want none", n)
	}
	if err := ev2.Observe(context.Background(), lagSnap(clock.Advance(15*time.Second), 0)); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, testenv.Until("resolved notification", func() bool { return len(rcv.requests()) == 2 }))
	r := rcv.notifications(t)[1]
	if r.State != StateResolved || r.EventID != first.EventID || !r.StartedAt.Equal(first.StartedAt) {
		t.Fatalf("resolved = %+v (first %+v)", r, first)
	}
	evs, _, err := st2.AlertEvents(context.Background(), 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].State != "resolved" || evs[0].Notifications != 2 {
		t.Fatalf("events = %+v", evs)
	}
}

// A hold interrupted by a restart resumes: only the time the console was down is not counted. After an
// outage longer than the tolerance it starts again.
func TestRestartResumesForHold(t *testing.T) {
	for _, tc := range []struct {
		name    string
		down    time.Duration // from the last evaluation before the restart to the first after it
		firesAt int           // evaluations after the restart until it fires
	}{
		// Held 30 s before (t=15..45); down 15 s (not counted); 30 s more held after the restart.
		{name: "short outage", down: 30 * time.Second, firesAt: 3},
		{name: "outage over the tolerance", down: 2 * time.Hour, firesAt: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			path := filepath.Join(t.TempDir(), "osprey.db")
			st := openTestStore(t, path)
			rcv := newReceiver(t)
			ch := mustChannel(t, st, "hook", ChannelWebhook, WebhookConfig{URL: rcv.URL})
			mustRule(t, st, RuleInput{Name: "lag", Kind: KindLagMessages, Threshold: 100, ForSeconds: 60, ChannelIDs: []int64{ch}})
			observe := func(ev *Evaluator, step time.Duration) {
				now := clock.Advance(step)
				s := lagSnap(now, 500)
				s.Cluster.LastPoll = now
				if err := ev.Observe(context.Background(), s); err != nil {
					t.Fatal(err)
				}
			}
			state := func(ev *Evaluator) string {
				if a := ev.Active(); len(a) == 1 {
					return a[0].State
				}
				return "none"
			}
			ev1, _ := newTestEvaluator(t, st, clock)
			for i := 0; i < 3; i++ { // pending since the first, 30 s held at the third
				observe(ev1, 15*time.Second)
			}
			if s := state(ev1); s != "pending" {
				t.Fatalf("before the restart: %s", s)
			}
			ev1.Stop()

			ev2, _ := newTestEvaluator(t, openTestStore(t, path), clock)
			observe(ev2, tc.down)
			n := 1
			for ; state(ev2) != "firing" && n < 10; n++ {
				observe(ev2, 15*time.Second)
			}
			if n != tc.firesAt {
				t.Fatalf("fired at evaluation %d after the restart, want %d", n, tc.firesAt)
			}
			testenv.WaitFor(t, 5*time.Second, testenv.Until("the firing notification", func() bool { return len(rcv.requests()) == 1 }))
		})
	}
}

func TestRetryWithBackoff(t *testing.T) {
	l := newLifecycle(t, RuleInput{})
	l.rcv.failNext.Store(2)
	l.observe(lagSnap(l.now(), 500))
	testenv.WaitFor(t, 5*time.Second, testenv.Until("third attempt", func() bool { return len(l.rcv.requests()) == 3 }))
	testenv.WaitFor(t, 5*time.Second, testenv.Until("sent counter", func() bool { return counter(t, l.reg, "osprey_alert_notifications_sent_total", "hook") == 1 }))
	if e := counter(t, l.reg, "osprey_alert_notifications_errors_total", "hook"); e != 2 {
		t.Fatalf("errors = %v, want 2", e)
	}
	if d := counter(t, l.reg, "osprey_alert_notifications_dropped_total", "hook"); d != 0 {
		t.Fatalf("dropped = %v, want 0", d)
	}
	reqs := l.rcv.requests()
	if string(reqs[0].Body) != string(reqs[2].Body) {
		t.Fatal("a retry changed the body")
	}
	if ev := l.events()[0]; ev.DeliveryError != "" {
		t.Fatalf("delivery error recorded after success: %q", ev.DeliveryError)
	}
}

func TestDeliveryFailureRecorded(t *testing.T) {
	l := newLifecycle(t, RuleInput{})
	l.rcv.failNext.Store(1000)
	l.observe(lagSnap(l.now(), 500))
	testenv.WaitFor(t, 5*time.Second, testenv.Until("delivery error on the event", func() bool {
		evs := l.events()
		return len(evs) == 1 && evs[0].DeliveryError != ""
	}))
	ev := l.events()[0]
	if !strings.Contains(ev.DeliveryError, "hook: ") || !strings.Contains(ev.DeliveryError, "500") {
		t.Fatalf("delivery error = %q", ev.DeliveryError)
	}
	if n := len(l.rcv.requests()); n != 4 {
		t.Fatalf("%d attempts, want MaxAttempts = 4", n)
	}
	if d := counter(t, l.reg, "osprey_alert_notifications_dropped_total", "hook"); d != 1 {
		t.Fatalf("dropped = %v, want 1", d)
	}
	if a := l.ev.Active(); len(a) != 1 || a[0].DeliveryError == "" {
		t.Fatalf("active = %+v", a)
	}
}

func TestDeadReceiverDoesNotBlockObserve(t *testing.T) {
	l := newLifecycle(t, RuleInput{Kind: KindBrokerDown}, func(o *Options) {
		o.QueueSize = 2
		o.SendTimeout = 10 * time.Second
	})
	l.rcv.block = make(chan struct{})
	b := newSnap("c1", l.now())
	for id := int32(1); id <= 12; id++ {
		b.broker(id, false)
	}
	start := time.Now()
	l.observe(b.build())
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Observe took %s with a dead receiver", took)
	}
	l.expectFiring(12)
	// One in flight, two queued, the rest dropped and recorded.
	testenv.WaitFor(t, 5*time.Second, testenv.Until("drops", func() bool { return counter(t, l.reg, "osprey_alert_notifications_dropped_total", "hook") >= 9 }))
	queueFull := 0
	for _, ev := range l.events() {
		if strings.Contains(ev.DeliveryError, "queue full") {
			queueFull++
		}
	}
	if queueFull < 9 {
		t.Fatalf("%d events record the drop, want at least 9", queueFull)
	}
	close(l.rcv.block)
}

func TestRestartKeepsWindowAlerts(t *testing.T) {
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "osprey.db")
	st := openTestStore(t, path)
	rcv := newReceiver(t)
	ch := mustChannel(t, st, "hook", ChannelWebhook, WebhookConfig{URL: rcv.URL})
	mustRule(t, st, RuleInput{Name: "status", Kind: KindLagStatus, Threshold: 2, ChannelIDs: []int64{ch}})
	stopped := func(i int64) *collector.Snapshot {
		return newSnap("c1", clock.Advance(15*time.Second)).topic("t", 1100+i*100).group("g", "Empty", 0, "t", [2]int64{1000, 1100 + i*100}).build()
	}
	ev1, _ := newTestEvaluator(t, st, clock)
	i := int64(0)
	for ; i < 10; i++ {
		if err := ev1.Observe(context.Background(), stopped(i)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, 5*time.Second, testenv.Until("STOP alert", func() bool { return len(rcv.requests()) == 1 }))
	ev1.Stop()

	// After a restart the window is empty: the alert must hold, not resolve.
	var queued atomic.Int64
	ev2, _ := newTestEvaluator(t, openTestStore(t, path), clock, countQueued(&queued))
	for ; i < 15; i++ {
		if err := ev2.Observe(context.Background(), stopped(i)); err != nil {
			t.Fatal(err)
		}
		if a := ev2.Active(); len(a) != 1 || a[0].State != "firing" {
			t.Fatalf("after restart, cycle %d: active = %+v", i, a)
		}
	}
	if n := queued.Load(); n != 0 {
		t.Fatalf("%d notifications queued after the restart, want none", n)
	}
	caughtUp := newSnap("c1", clock.Advance(15*time.Second)).topic("t", 3000).group("g", "Stable", 1, "t", [2]int64{3000, 3000}).build()
	if err := ev2.Observe(context.Background(), caughtUp); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, testenv.Until("resolved", func() bool { return len(rcv.requests()) == 2 }))
	if n := rcv.notifications(t)[1]; n.State != StateResolved {
		t.Fatalf("notification %+v", n)
	}
}

func TestPartialSnapshotDoesNotResolveLag(t *testing.T) {
	l := newLifecycle(t, RuleInput{})
	l.observe(lagSnap(l.now(), 500))
	l.expectFiring(1)
	// OffsetFetch failed: the group is missing from a partial snapshot.
	partial := newSnap("c1", l.now()).topic("orders", 1000).build()
	partial.Cluster.Partial = true
	partial.Cluster.Errors = []collector.PollError{{Source: "offsetFetch", Broker: 1, Message: "injected"}}
	l.observe(partial)
	l.expectFiring(1)
	// A complete snapshot without the group (its offsets were deleted): resolved.
	l.observe(newSnap("c1", l.now()).topic("orders", 1000).build())
	l.expectFiring(0)
	got := l.waitNotifications(2)
	if got[1].State != StateResolved {
		t.Fatalf("notification %+v", got[1])
	}
}

// A lag that becomes unknown (the partition's end offset could not be read) neither resolves a
// firing lag alert nor fires one; once known again it decides.
func TestUnknownLagNeitherFiresNorResolves(t *testing.T) {
	l := newLifecycle(t, RuleInput{})
	unknown := func() *collector.Snapshot {
		return newSnap("c1", l.now()).topic("orders", -1).group("billing", "Stable", 1, "orders", [2]int64{500, -1}).build()
	}
	l.observe(unknown())
	l.expectFiring(0)
	l.observe(lagSnap(l.now(), 500))
	l.expectFiring(1)
	l.observe(unknown())
	l.expectFiring(1)
	l.observe(lagSnap(l.now(), 0))
	l.expectFiring(0)
}

func TestPermanentFailuresAreNotRetried(t *testing.T) {
	l := newLifecycle(t, RuleInput{})
	l.rcv.failCode.Store(400)
	l.rcv.failNext.Store(1000)
	l.observe(lagSnap(l.now(), 500))
	testenv.WaitFor(t, 5*time.Second, testenv.Until("delivery error", func() bool { evs := l.events(); return len(evs) == 1 && evs[0].DeliveryError != "" }))
	if n := len(l.rcv.requests()); n != 1 {
		t.Fatalf("%d attempts after a 400, want 1", n)
	}
	if !strings.Contains(l.events()[0].DeliveryError, "400") {
		t.Fatalf("delivery error %q", l.events()[0].DeliveryError)
	}
}

func TestMisconfiguredAndDisabledChannels(t *testing.T) {
	h := &harness{t: t, st: newTestStore(t), clock: newFakeClock()}
	ctx := context.Background()
	// A row edited by hand into an invalid config: every notification records why.
	bad := &store.AlertChannel{Name: "broken", Type: "slack", Config: `{"url":"not a url"}`, Enabled: true}
	if err := h.st.CreateAlertChannel(ctx, bad); err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t)
	off := mustChannel(t, h.st, "off", ChannelWebhook, WebhookConfig{URL: rcv.URL})
	mustRule(t, h.st, RuleInput{Name: "b", Kind: KindBrokerDown, ChannelIDs: []int64{bad.ID, off}})
	var reg *prometheus.Registry
	h.ev, reg = newTestEvaluator(t, h.st, h.clock)
	svc := NewService(h.ev)
	disabled := false
	if _, err := svc.UpdateChannel(ctx, off, ChannelInput{Name: "off", Type: ChannelWebhook, Config: json.RawMessage(`{"url":"` + rcv.URL + `"}`), Enabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	h.observe(newSnap("c1", h.now()).broker(3, false).build())
	var evErr string
	testenv.WaitFor(t, 5*time.Second, testenv.Until("both failures recorded", func() bool {
		evs, _, err := h.st.AlertEvents(ctx, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		evErr = evs[0].DeliveryError
		return strings.Contains(evErr, "misconfigured") && strings.Contains(evErr, "disabled")
	}))
	if !strings.Contains(evErr, "broken: ") || !strings.Contains(evErr, "config.url") {
		t.Fatalf("delivery error %q", evErr)
	}
	if len(rcv.requests()) != 0 {
		t.Fatal("a disabled channel was sent to")
	}
	if e := counter(t, reg, "osprey_alert_notifications_errors_total", "broken"); e != 1 {
		t.Fatalf("errors = %v, want 1 (no retry of a config error)", e)
	}
	if a := svc.Active(); len(a) != 1 || a[0].DeliveryError != evErr {
		t.Fatalf("active = %+v", a)
	}
}

func TestOnNotifySeesFiringAndResolved(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	l := newLifecycle(t, RuleInput{}, func(o *Options) {
		o.OnNotify = func(n Notification) {
			mu.Lock()
			seen = append(seen, n.State)
			mu.Unlock()
		}
	})
	l.observe(lagSnap(l.now(), 600))
	l.observe(lagSnap(l.now(), 600))
	l.waitNotifications(1)
	l.observe(lagSnap(l.now(), 0))
	l.waitNotifications(2)
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != StateFiring+","+StateResolved {
		t.Fatalf("OnNotify saw %v", seen)
	}
}
