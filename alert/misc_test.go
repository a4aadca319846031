package alert

import (
	"context"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

func TestRuleValidation(t *testing.T) {
	cases := []struct {
		in     RuleInput
		fields []string
	}{
		{RuleInput{Name: "a", Kind: KindLagMessages, Threshold: 10}, nil},
		{RuleInput{Name: "a", Kind: KindLagSeconds}, []string{"threshold"}},
		{RuleInput{Name: "a", Kind: KindLagStatus, Threshold: 3}, []string{"threshold"}},
		{RuleInput{Name: "a", Kind: KindLagStatus, WindowSamples: 2}, []string{"windowSamples"}},
		{RuleInput{Name: "a", Kind: KindGroupInactive, WindowSamples: 101}, []string{"windowSamples"}},
		{RuleInput{Name: "a", Kind: KindBrokerDown, Group: "g", Threshold: 1}, []string{"group", "threshold"}},
		{RuleInput{Name: "a", Kind: KindUnderReplicated, Topic: "t-*", Threshold: 3}, nil},
		{RuleInput{Name: "a", Kind: KindControllerChanged, WindowSamples: 1}, nil},
		{RuleInput{Name: "a", Kind: KindZooKeeperDown, Topic: "x"}, []string{"topic"}},
		{RuleInput{Name: "a", Kind: KindTopicRateZero, Cluster: "[a-"}, []string{"cluster"}},
		{RuleInput{Name: "a", Kind: KindLagMessages, Severity: "page", ForSeconds: -1, CooldownSeconds: 8 * 24 * 3600}, []string{"severity", "forSeconds", "cooldownSeconds"}},
		{RuleInput{Name: "a", Kind: KindLagMessages, ChannelIDs: []int64{0}}, []string{"channelIds"}},
	}
	for _, c := range cases {
		_, err := c.in.normalize()
		var got []string
		if err != nil {
			for _, p := range err.(*ValidationError).Problems {
				got = append(got, p.Field)
			}
		}
		if !reflect.DeepEqual(got, c.fields) {
			t.Errorf("%+v: problems %v, want %v (%v)", c.in, got, c.fields, err)
		}
	}
	r, err := RuleInput{Name: " lag ", Kind: KindLagStatus, ChannelIDs: []int64{3, 1, 3}}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "lag" || r.WindowSamples != DefaultWindowSamples || r.Severity != SeverityWarning || !r.Enabled ||
		r.Cluster != "*" || !reflect.DeepEqual(r.ChannelIDs, []int64{1, 3}) {
		t.Fatalf("defaults: %+v", r)
	}
	back := ruleFromStore(*r.toStore())
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("store round trip\n got %+v\nwant %+v", back, r)
	}
}

func TestReloadPicksUpStoreChanges(t *testing.T) {
	h := newHarness(t)
	down := func() *collector.Snapshot { return newSnap("c1", h.now()).broker(1, false).build() }
	h.observe(down())
	h.expectFiring(0)
	r := mustRule(t, h.st, RuleInput{Name: "b", Kind: KindBrokerDown})
	h.observe(down())
	h.expectFiring(0) // not reloaded yet
	if err := h.ev.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.observe(down())
	h.expectFiring(1)
	if err := h.st.DeleteAlertRule(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.ev.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.expectFiring(0)
}

func TestPeriodicReload(t *testing.T) {
	st := newTestStore(t)
	clock := newFakeClock()
	ev, _ := newTestEvaluator(t, st, clock, func(o *Options) { o.ReloadInterval = 20 * time.Millisecond })
	mustRule(t, st, RuleInput{Name: "b", Kind: KindBrokerDown})
	testenv.WaitFor(t, 5*time.Second, testenv.Until("periodic reload", func() bool {
		if err := ev.Observe(context.Background(), newSnap("c1", clock.Now()).broker(1, false).build()); err != nil {
			t.Fatal(err)
		}
		return len(ev.Active()) == 1
	}))
}

// fakeSource hands out one channel per subscription.
type fakeSource struct {
	mu     sync.Mutex
	ch     chan *collector.Snapshot
	closed bool
}

func (f *fakeSource) Subscribe(buffer int) (<-chan *collector.Snapshot, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ch = make(chan *collector.Snapshot, buffer)
	var once sync.Once
	return f.ch, func() {
		once.Do(func() {
			f.mu.Lock()
			f.closed = true
			f.mu.Unlock()
		})
	}
}

func (f *fakeSource) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

func TestWatch(t *testing.T) {
	st := newTestStore(t)
	mustRule(t, st, RuleInput{Name: "b", Kind: KindBrokerDown})
	clock := newFakeClock()
	ev, err := New(Options{Store: st, Logger: quietLogger(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	early := &fakeSource{}
	ev.Watch(early) // before Start: subscribed at Start
	if err := ev.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ev.Stop()
	late := &fakeSource{}
	unwatch := ev.Watch(late)
	early.ch <- newSnap("a", clock.Now()).broker(1, false).build()
	late.ch <- newSnap("b", clock.Now()).broker(1, false).build()
	testenv.WaitFor(t, 5*time.Second, testenv.Until("both clusters evaluated", func() bool { return len(ev.Active()) == 2 }))
	var clusters []string
	for _, a := range ev.Active() {
		clusters = append(clusters, a.Cluster)
	}
	sort.Strings(clusters)
	if !reflect.DeepEqual(clusters, []string{"a", "b"}) {
		t.Fatalf("clusters %v", clusters)
	}
	unwatch()
	if !late.isClosed() {
		t.Fatal("unwatch did not unsubscribe")
	}
	ev.Stop()
	testenv.WaitFor(t, 5*time.Second, testenv.Until("unsubscribe at Stop", early.isClosed))
	if err := ev.Start(context.Background()); err == nil {
		t.Fatal("second Start accepted")
	}
}

func TestObserveBeforeStart(t *testing.T) {
	ev, err := New(Options{Store: newTestStore(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Observe(context.Background(), newSnap("c", time.Now()).build()); err == nil {
		t.Fatal("Observe before Start accepted")
	}
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a store accepted")
	}
}

func TestTruncateUTF8(t *testing.T) {
	s := "ab飞书cd"
	for n := 0; n <= len(s)+2; n++ {
		got := truncateUTF8(s, n)
		if len(got) > n || !utf8.ValidString(got) {
			t.Fatalf("truncate(%d) = %q", n, got)
		}
	}
}
