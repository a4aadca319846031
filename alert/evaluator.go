package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/store"
)

// Store is the part of *store.Store the alert package uses.
type Store interface {
	AlertRules(ctx context.Context) ([]store.AlertRule, error)
	AlertRule(ctx context.Context, id int64) (store.AlertRule, error)
	CreateAlertRule(ctx context.Context, r *store.AlertRule) error
	UpdateAlertRule(ctx context.Context, r *store.AlertRule) error
	DeleteAlertRule(ctx context.Context, id int64) error
	AlertChannels(ctx context.Context) ([]store.AlertChannel, error)
	AlertChannel(ctx context.Context, id int64) (store.AlertChannel, error)
	CreateAlertChannel(ctx context.Context, c *store.AlertChannel) error
	UpdateAlertChannel(ctx context.Context, c *store.AlertChannel) error
	DeleteAlertChannel(ctx context.Context, id int64) error
	CreateAlertEvent(ctx context.Context, e *store.AlertEvent) error
	UpdateAlertEvent(ctx context.Context, e *store.AlertEvent) error
	FiringAlertEvents(ctx context.Context) ([]store.AlertEvent, error)
	AlertEvents(ctx context.Context, limit, offset int) ([]store.AlertEvent, int64, error)
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string) error
}

var _ Store = (*store.Store)(nil)

// Source publishes a cluster's snapshots; *collector.Collector is one.
type Source interface {
	Subscribe(buffer int) (<-chan *collector.Snapshot, func())
}

// Options configure an Evaluator; zero values take the defaults.
type Options struct {
	Store  Store // required
	Logger *slog.Logger
	// Registerer receives the delivery metrics (a private registry when nil;
	// never the global one implicitly).
	Registerer prometheus.Registerer
	// PublicURL is the console's base URL for links in messages.
	PublicURL string
	// Now is the clock (time.Now); tests inject a fake one.
	Now func() time.Time
	// HTTPClient sends webhook and robot notifications (15 s timeout).
	HTTPClient *http.Client
	// ReloadInterval re-reads rules and channels from the store (1 min).
	ReloadInterval time.Duration
	// QueueSize bounds each channel's queue (100).
	QueueSize int
	// MaxAttempts bounds delivery attempts per notification (5).
	MaxAttempts int
	// BackoffBase and BackoffMax shape the retry delays: base, 2×base, … up to max (1 s, 30 s).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// SendTimeout bounds one delivery attempt (10 s).
	SendTimeout time.Duration
	// StoreTimeout bounds one database call made by the evaluator (10 s).
	StoreTimeout time.Duration
	// ResolvedRetention keeps resolved alerts in memory, so late delivery
	// results still reach their event (15 min).
	ResolvedRetention time.Duration
	// OnNotify, when set, sees every notification as it is queued (the console pushes them to browsers
	// over SSE). It is called with the evaluator's lock held: it must not block or call back.
	OnNotify func(Notification)
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReloadInterval, time.Minute)
	def(&o.BackoffBase, time.Second)
	def(&o.BackoffMax, 30*time.Second)
	def(&o.SendTimeout, 10*time.Second)
	def(&o.StoreTimeout, 10*time.Second)
	def(&o.ResolvedRetention, 15*time.Minute)
	if o.QueueSize <= 0 {
		o.QueueSize = 100
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	return o
}

type alertState int

const (
	statePending alertState = iota + 1
	stateFiring
	stateResolved
)

func (s alertState) String() string {
	switch s {
	case statePending:
		return "pending"
	case stateFiring:
		return "firing"
	case stateResolved:
		return "resolved"
	}
	return "inactive"
}

// alertEntry is one alert's state. Guarded by Evaluator.mu.
type alertEntry struct {
	fp      string
	rule    Rule // as of the last evaluation
	cluster string
	labels  map[string]string
	subject string
	state   alertState
	value   float64
	summary string
	samples any

	activeAt, firedAt, resolvedAt, lastSentAt time.Time
	notifications                             int
	notifiedValue                             float64   // value at the last notification (escalation)
	seenAt                                    time.Time // when the condition last held

	event        *store.AlertEvent // nil until fired (or when creating it failed)
	deliveryErrs map[int64]string  // per channel, latest outcome
}

// Evaluator runs the rules over each cluster's snapshots and drives alert
// state and notifications. Lifecycle: New does no I/O; Start loads rules,
// channels and firing alerts, then launches the workers; Stop cancels and
// waits. Observe is safe for concurrent use.
type Evaluator struct {
	opts  Options
	store Store
	log   *slog.Logger
	disp  *dispatcher

	runMu   sync.Mutex // guards started, ctx, cancel, sources
	started bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	sources []*watch

	reloadMu sync.Mutex // serialises Reload, so an older read never overwrites a newer one

	mu           sync.Mutex // guards everything below
	loaded       bool
	rules        map[int64]Rule
	ruleOrder    []int64
	channels     map[int64]store.AlertChannel
	historyCap   int
	clusters     map[string]*clusterHistory
	alerts       map[string]*alertEntry // by fingerprint
	lastResolved map[string]time.Time   // fingerprint → when it last resolved (cool-down)
	// Pending alerts outlive a restart: their hold resumes (see restorePending).
	restoredPending map[string]pendingRecord // by fingerprint, until their cluster's first evaluation
	pendingSaved    bool                     // the stored pending set is not empty
}

type watch struct {
	src    Source
	cancel func() // unsubscribes; set once running
}

// New builds an Evaluator; it does no I/O.
func New(opts Options) (*Evaluator, error) {
	if opts.Store == nil {
		return nil, errors.New("alert: a store is required")
	}
	opts = opts.withDefaults()
	log := opts.Logger.With("component", "alert")
	return &Evaluator{
		opts: opts, store: opts.Store, log: log,
		disp: newDispatcher(dispatchConfig{
			queueSize: opts.QueueSize, maxAttempts: opts.MaxAttempts,
			backoffBase: opts.BackoffBase, backoffMax: opts.BackoffMax, sendTimeout: opts.SendTimeout,
		}, opts.Registerer, log),
		rules: map[int64]Rule{}, channels: map[int64]store.AlertChannel{},
		historyCap: DefaultWindowSamples, clusters: map[string]*clusterHistory{},
		alerts: map[string]*alertEntry{}, lastResolved: map[string]time.Time{},
		restoredPending: map[string]pendingRecord{},
	}, nil
}

// Start loads rules and channels, reloads the alerts still firing (so a
// restart neither repeats nor forgets a notification), starts the delivery
// workers, the periodic reload and the watched sources, and returns.
func (e *Evaluator) Start(ctx context.Context) error {
	e.runMu.Lock()
	defer e.runMu.Unlock()
	if e.started {
		return errors.New("alert: evaluator already started")
	}
	if err := e.Reload(ctx); err != nil {
		return err
	}
	if err := e.restore(ctx, ""); err != nil {
		return err
	}
	if err := e.restorePending(ctx); err != nil {
		e.log.Warn("pending alerts not restored: their holds start again", "err", err)
	}
	e.ctx, e.cancel = context.WithCancel(ctx) // ctx bounds the lifetime as Stop does
	e.started = true
	e.disp.start(e.ctx)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.reloadLoop(e.ctx)
	}()
	for _, w := range e.sources {
		e.runWatch(w)
	}
	return nil
}

// Stop cancels the workers and waits for them. Notifications still queued
// or being retried are abandoned (counted as dropped when in a retry).
func (e *Evaluator) Stop() {
	e.runMu.Lock()
	cancel := e.cancel
	e.runMu.Unlock()
	if cancel != nil {
		cancel()
	}
	e.wg.Wait()
	e.disp.wait()
}

// Watch evaluates every snapshot src publishes, from Start (or now, if
// started) until Stop or until the returned function is called.
func (e *Evaluator) Watch(src Source) (unwatch func()) {
	e.runMu.Lock()
	defer e.runMu.Unlock()
	w := &watch{src: src}
	e.sources = append(e.sources, w)
	if e.started {
		e.runWatch(w)
	}
	return func() {
		e.runMu.Lock()
		defer e.runMu.Unlock()
		for i, x := range e.sources {
			if x == w {
				e.sources = append(e.sources[:i], e.sources[i+1:]...)
				break
			}
		}
		if w.cancel != nil {
			w.cancel()
		}
	}
}

// runWatch subscribes w and evaluates its snapshots. runMu must be held.
func (e *Evaluator) runWatch(w *watch) {
	ch, cancel := w.src.Subscribe(1)
	w.cancel = cancel
	ctx := e.ctx
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case s, ok := <-ch:
				if !ok {
					return
				}
				if err := e.Observe(ctx, s); err != nil {
					e.log.Warn("evaluating alerts", "cluster", s.Cluster.Name, "err", err)
				}
			}
		}
	}()
}

func (e *Evaluator) reloadLoop(ctx context.Context) {
	t := time.NewTicker(e.opts.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.Reload(ctx); err != nil {
				e.log.Warn("reloading alert rules", "err", err)
			}
		}
	}
}

func (e *Evaluator) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.opts.StoreTimeout)
}

// Reload re-reads rules and channels from the store now. Alerts of rules
// that were deleted or disabled are resolved without a notification.
func (e *Evaluator) Reload(ctx context.Context) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	sctx, cancel := e.storeCtx(ctx)
	defer cancel()
	srules, err := e.store.AlertRules(sctx)
	if err != nil {
		return fmt.Errorf("loading alert rules: %w", err)
	}
	schans, err := e.store.AlertChannels(sctx)
	if err != nil {
		return fmt.Errorf("loading alert channels: %w", err)
	}
	rules := make(map[int64]Rule, len(srules))
	order := make([]int64, 0, len(srules))
	capacity := DefaultWindowSamples
	for _, sr := range srules {
		r := ruleFromStore(sr)
		rules[r.ID] = r
		order = append(order, r.ID)
		if r.Enabled && r.WindowSamples > capacity {
			capacity = min(r.WindowSamples, MaxWindowSamples)
		}
	}
	chans := make(map[int64]store.AlertChannel, len(schans))
	for _, c := range schans {
		chans[c.ID] = c
		if !c.Enabled {
			continue
		}
		s, err := NewSender(ChannelType(c.Type), json.RawMessage(c.Config), e.opts.HTTPClient, e.opts.Now)
		if err != nil {
			s = brokenSender{err: fmt.Errorf("channel %q is misconfigured: %w", c.Name, err)}
		}
		e.disp.setChannel(c.ID, c.Name, ChannelType(c.Type), s)
	}
	for id := range e.disp.channelIDs() {
		if c, ok := chans[id]; !ok || !c.Enabled {
			e.disp.removeChannel(id)
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.rules, e.ruleOrder, e.channels, e.historyCap, e.loaded = rules, order, chans, capacity, true
	now := e.opts.Now()
	var errs []error
	for fp, a := range e.alerts {
		r, ok := rules[a.rule.ID]
		if ok && r.Enabled {
			continue
		}
		switch a.state {
		case statePending:
			delete(e.alerts, fp)
		case stateFiring:
			a.state, a.resolvedAt = stateResolved, now
			a.summary += " (rule deleted or disabled)"
			if err := e.syncEvent(ctx, a); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// TakeOver makes this console evaluate cluster's alerts from now on (it took over the cluster's lease
// from another console sharing the database): the alerts it kept of that cluster are replaced by
// those the store has firing, so an alert the previous holder notified is not notified again.
func (e *Evaluator) TakeOver(ctx context.Context, cluster string) error {
	e.Forget(cluster)
	return e.restore(ctx, cluster)
}

// Forget drops what this console keeps of cluster's alerts, writing nothing: another console (the
// holder of the cluster's lease) evaluates them now and owns their rows.
func (e *Evaluator) Forget(cluster string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for fp, a := range e.alerts {
		if a.cluster == cluster {
			delete(e.alerts, fp)
		}
	}
}

// restore reloads firing alerts from the store (of one cluster, or of all when cluster is ""), and
// the recent resolutions for the cool-down.
func (e *Evaluator) restore(ctx context.Context, cluster string) error {
	sctx, cancel := e.storeCtx(ctx)
	defer cancel()
	firing, err := e.store.FiringAlertEvents(sctx)
	if err != nil {
		return fmt.Errorf("loading firing alerts: %w", err)
	}
	recent, _, err := e.store.AlertEvents(sctx, 1000, 0)
	if err != nil {
		return fmt.Errorf("loading recent alerts: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range recent {
		if ev.State == "resolved" && ev.ResolvedAt != nil && ev.ResolvedAt.After(e.lastResolved[ev.Fingerprint]) {
			e.lastResolved[ev.Fingerprint] = *ev.ResolvedAt
		}
	}
	now := e.opts.Now()
	var errs []error
	for _, ev := range firing {
		if cluster != "" && ev.Cluster != cluster {
			continue
		}
		a := &alertEntry{
			fp: ev.Fingerprint, cluster: ev.Cluster, subject: ev.Subject, state: stateFiring,
			summary: ev.Summary, activeAt: ev.StartedAt, firedAt: ev.StartedAt, lastSentAt: ev.StartedAt,
			notifications: ev.Notifications, event: &ev, deliveryErrs: map[int64]string{},
		}
		if ev.LastNotifiedAt != nil {
			a.lastSentAt = *ev.LastNotifiedAt
		}
		_ = json.Unmarshal([]byte(ev.Labels), &a.labels)
		var ss storedSamples
		if json.Unmarshal([]byte(ev.Samples), &ss) == nil {
			a.value, a.samples = ss.Value, ss.Data
			a.notifiedValue = ss.Value
		}
		r, ok := e.rules[ev.RuleID]
		if !ok || !r.Enabled {
			a.rule = Rule{ID: ev.RuleID, Severity: Severity(ev.Severity)}
			a.state, a.resolvedAt = stateResolved, now
			a.summary += " (rule deleted or disabled)"
			if err := e.syncEvent(ctx, a); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		a.rule = r
		if old, dup := e.alerts[a.fp]; dup && old.event != nil {
			// Two firing rows for one fingerprint (a crash between writes): keep the newest.
			old.state, old.resolvedAt = stateResolved, now
			if err := e.syncEvent(ctx, old); err != nil {
				errs = append(errs, err)
			}
		}
		e.alerts[a.fp] = a
	}
	return errors.Join(errs...)
}

// Observe evaluates every enabled rule whose cluster pattern matches s's
// cluster, advances the alerts' states and queues their notifications. It
// never waits for delivery. Start must have been called (it loads the
// rules); a returned error reports store failures, the evaluation itself
// went on.
//
// A snapshot another console polled (Shared) is not evaluated: the holder of the cluster's lease does.
func (e *Evaluator) Observe(ctx context.Context, s *collector.Snapshot) error {
	if s == nil || s.Cluster.Shared {
		return nil
	}
	now := e.opts.Now()
	// States advance on the poll's own time, so a hold counts whole poll intervals: a slow poll
	// (its calls to a broker that just died time out) does not start the hold late and make the
	// alert fire one cycle after "for" has passed.
	at := s.Cluster.LastPoll
	if at.IsZero() {
		at = now
	}
	name := s.Cluster.Name
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.loaded {
		return errors.New("alert: Observe before Start")
	}
	h := e.clusters[name]
	if h == nil {
		h = newClusterHistory()
		e.clusters[name] = h
	}
	h.record(s, at, e.historyCap)
	seen := map[string]bool{}
	var errs []error
	for _, id := range e.ruleOrder {
		r := e.rules[id]
		if !r.Enabled || !match(r.Cluster, name) {
			continue
		}
		firing := func(labels map[string]string) bool {
			a := e.alerts[fingerprint(r.ID, name, labels)]
			return a != nil && a.state == stateFiring
		}
		for _, f := range evaluate(r, evalContext{snap: s, hist: h, cluster: name, firing: firing}) {
			fp := fingerprint(r.ID, name, f.labels)
			seen[fp] = true
			if f.unknown {
				continue // data missing this cycle: keep the alert as it is
			}
			if err := e.activate(ctx, r, name, fp, f, at); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for fp, a := range e.alerts {
		if a.cluster != name || seen[fp] {
			continue
		}
		if s.Cluster.Partial && a.rule.Kind.usesGroup() {
			// A failed OffsetFetch or group listing drops groups from a
			// partial snapshot: their absence is no evidence of recovery.
			continue
		}
		if err := e.deactivate(ctx, fp, a, at); err != nil {
			errs = append(errs, err)
		}
	}
	e.gc(now)
	for fp, p := range e.restoredPending {
		if p.Cluster == name { // not pending any more
			delete(e.restoredPending, fp)
		}
	}
	if err := e.savePending(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// activate advances an alert whose condition holds. e.mu must be held.
func (e *Evaluator) activate(ctx context.Context, r Rule, cluster, fp string, f finding, now time.Time) error {
	a := e.alerts[fp]
	if a == nil || a.state == stateResolved {
		activeAt := now
		if p, ok := e.restoredPending[fp]; ok {
			activeAt = p.resumedAt(now)
			delete(e.restoredPending, fp)
		}
		a = &alertEntry{fp: fp, cluster: cluster, labels: f.labels, state: statePending, activeAt: activeAt, deliveryErrs: map[int64]string{}}
		e.alerts[fp] = a
	}
	a.seenAt = now
	a.rule, a.labels, a.subject, a.value, a.summary, a.samples = r, f.labels, f.subject, f.value, f.summary, f.samples
	switch a.state {
	case statePending:
		if now.Sub(a.activeAt) < r.forDur() {
			return nil
		}
		// The hold alone decides when the alert fires, so the console shows it firing within
		// "for" plus one evaluation. The cool-down after the last resolution only holds back the
		// notification (a flapping condition does not page twice); it goes out once the cool-down
		// ends, if the alert is still firing.
		a.state, a.firedAt = stateFiring, now
		if e.coolingDown(fp, r, now) {
			return e.syncEvent(ctx, a)
		}
		return e.notify(ctx, a, sendState, now)
	case stateFiring:
		if a.notifications == 0 { // fired during a cool-down: nobody has been told yet
			if e.coolingDown(fp, r, now) {
				if a.event == nil {
					return e.syncEvent(ctx, a)
				}
				return nil
			}
			return e.notify(ctx, a, sendState, now)
		}
		if r.Kind.escalates() && a.value > a.notifiedValue {
			// Worse than what people were told (WARN → ERR): tell them now, not at the next reminder.
			return e.notify(ctx, a, sendEscalation, now)
		}
		if r.RepeatSeconds > 0 && now.Sub(a.lastSentAt) >= r.repeatDur() {
			return e.notify(ctx, a, sendReminder, now)
		}
		if a.event == nil { // creating it failed earlier: try again
			return e.syncEvent(ctx, a)
		}
	}
	return nil
}

// deactivate advances an alert whose condition no longer holds. e.mu must be held.
func (e *Evaluator) deactivate(ctx context.Context, fp string, a *alertEntry, now time.Time) error {
	switch a.state {
	case statePending:
		delete(e.alerts, fp)
	case stateFiring:
		a.state, a.resolvedAt = stateResolved, now
		e.lastResolved[fp] = now
		if a.notifications == 0 { // never announced (cool-down): its resolution is not news either
			return e.syncEvent(ctx, a)
		}
		return e.notify(ctx, a, sendState, now)
	}
	return nil
}

// coolingDown reports whether fp resolved less than the rule's cool-down ago. e.mu must be held.
func (e *Evaluator) coolingDown(fp string, r Rule, now time.Time) bool {
	t, ok := e.lastResolved[fp]
	return ok && now.Sub(t) < r.cooldownDur()
}

// gc forgets resolved alerts after the retention and cool-down marks older
// than the longest possible cool-down. e.mu must be held.
func (e *Evaluator) gc(now time.Time) {
	for fp, a := range e.alerts {
		if a.state == stateResolved && now.Sub(a.resolvedAt) > e.opts.ResolvedRetention {
			delete(e.alerts, fp)
		}
	}
	for fp, t := range e.lastResolved {
		if now.Sub(t) > maxDuration*time.Second {
			delete(e.lastResolved, fp)
		}
	}
}

// sendKind says why a notification goes out.
type sendKind int

const (
	sendState      sendKind = iota // fired or resolved
	sendReminder                   // still firing, repeat interval passed
	sendEscalation                 // still firing, and worse than last told
)

// notify records a notification on the alert's event and queues it to the
// rule's channels. e.mu must be held.
func (e *Evaluator) notify(ctx context.Context, a *alertEntry, why sendKind, now time.Time) error {
	a.lastSentAt = now
	a.notifications++
	a.notifiedValue = a.value
	// The event is written first so the notification carries its id.
	err := e.syncEvent(ctx, a)
	n := e.notification(a, why)
	if e.opts.OnNotify != nil {
		e.opts.OnNotify(n)
	}
	var eventID int64
	if a.event != nil {
		eventID = a.event.ID
	}
	queueFailed := false
	for _, ch := range a.rule.ChannelIDs {
		chID := ch
		if qerr := e.disp.enqueue(chID, n, e.deliveryDone(a.fp, eventID, chID)); qerr != nil {
			a.deliveryErrs[chID] = qerr.Error()
			queueFailed = true
		} else {
			delete(a.deliveryErrs, chID)
		}
	}
	if queueFailed {
		err = errors.Join(err, e.syncEvent(ctx, a))
	}
	return err
}

// deliveryDone records a delivery outcome on the alert's event; called by a
// channel worker.
func (e *Evaluator) deliveryDone(fp string, eventID, channelID int64) deliveryResult {
	return func(derr error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		a := e.alerts[fp]
		if a == nil || a.event == nil || a.event.ID != eventID {
			if derr != nil {
				e.log.Warn("alert delivery failed after the alert was forgotten", "fingerprint", fp, "event", eventID, "err", derr)
			}
			return
		}
		prev, had := a.deliveryErrs[channelID]
		if derr == nil {
			if !had {
				return // nothing to clear
			}
			delete(a.deliveryErrs, channelID)
		} else {
			if had && prev == derr.Error() {
				return
			}
			a.deliveryErrs[channelID] = derr.Error()
		}
		// The worker's context may be ending (Stop): the store call has its own deadline.
		if err := e.syncEvent(context.Background(), a); err != nil {
			e.log.Warn("recording a delivery result", "fingerprint", fp, "err", err)
		}
	}
}

// storedSamples is the alert_events.samples JSON.
type storedSamples struct {
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Data      any     `json:"data,omitempty"`
	Truncated bool    `json:"truncated,omitempty"` // data left out: too large
}

// maxSamplesBytes keeps alert_events.samples inside a MySQL TEXT column.
const maxSamplesBytes = 60000

// syncEvent writes the alert's event row (creating it when it fires). e.mu must be held.
func (e *Evaluator) syncEvent(ctx context.Context, a *alertEntry) error {
	labels, _ := json.Marshal(a.labels)
	samples, err := json.Marshal(storedSamples{Value: a.value, Threshold: a.rule.Threshold, Data: a.samples})
	if err != nil || len(samples) > maxSamplesBytes {
		samples, _ = json.Marshal(storedSamples{Value: a.value, Threshold: a.rule.Threshold, Truncated: true})
	}
	create := a.event == nil
	if create {
		if a.state != stateFiring && a.state != stateResolved {
			return nil
		}
		a.event = &store.AlertEvent{RuleID: a.rule.ID, Fingerprint: a.fp, Cluster: a.cluster, StartedAt: a.activeAt.UTC()}
	}
	ev := a.event
	ev.State = "firing"
	if a.state == stateResolved {
		ev.State = "resolved"
		t := a.resolvedAt.UTC()
		ev.ResolvedAt = &t
	}
	if a.rule.Severity != "" {
		ev.Severity = string(a.rule.Severity)
	}
	if a.subject != "" {
		ev.Subject = truncateUTF8(a.subject, 512) // the column's size
	}
	ev.Summary, ev.Labels, ev.Samples = a.summary, string(labels), string(samples)
	if !a.lastSentAt.IsZero() {
		t := a.lastSentAt.UTC()
		ev.LastNotifiedAt = &t
	}
	ev.Notifications = a.notifications
	ev.DeliveryError = joinDeliveryErrors(a.deliveryErrs, e.channels)
	sctx, cancel := e.storeCtx(ctx)
	defer cancel()
	if create {
		if err := e.store.CreateAlertEvent(sctx, ev); err != nil {
			a.event = nil
			return fmt.Errorf("recording alert %s: %w", a.fp[:12], err)
		}
		return nil
	}
	if err := e.store.UpdateAlertEvent(sctx, ev); err != nil {
		return fmt.Errorf("updating alert event %d: %w", ev.ID, err)
	}
	return nil
}

func joinDeliveryErrors(errs map[int64]string, chans map[int64]store.AlertChannel) string {
	if len(errs) == 0 {
		return ""
	}
	ids := make([]int64, 0, len(errs))
	for id := range errs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	parts := make([]string, len(ids))
	for i, id := range ids {
		name := chans[id].Name
		if name == "" {
			name = "#" + strconv.FormatInt(id, 10)
		}
		parts[i] = name + ": " + errs[id]
	}
	return strings.Join(parts, "; ")
}

func (e *Evaluator) notification(a *alertEntry, why sendKind) Notification {
	firing := a.state == stateFiring
	n := Notification{
		State: StateFiring, Reminder: why == sendReminder && firing, Escalated: why == sendEscalation && firing,
		RuleID: a.rule.ID, RuleName: a.rule.Name, Kind: a.rule.Kind, Severity: a.rule.Severity,
		Cluster: a.cluster, Subject: a.subject, Labels: a.labels, Value: a.value, Threshold: a.rule.Threshold,
		Summary: a.summary, StartedAt: a.activeAt.UTC(), Link: consoleLink(e.opts.PublicURL, a.cluster, a.labels),
		Fingerprint: a.fp,
	}
	if a.state == stateResolved {
		n.State = StateResolved
		t := a.resolvedAt.UTC()
		n.ResolvedAt = &t
		// Value and summary are the last ones seen while firing; say so.
		n.Summary = fmt.Sprintf("Resolved after %s. While firing: %s", a.resolvedAt.Sub(a.activeAt).Round(time.Second), a.summary)
	}
	if a.event != nil {
		n.EventID = a.event.ID
	}
	if a.samples != nil {
		n.Samples, _ = json.Marshal(a.samples)
	}
	return n
}

// fingerprint identifies an alert: rule, cluster and subject labels.
func fingerprint(ruleID int64, cluster string, labels map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%s", ruleID, cluster, sortedLabels(labels))
	return hex.EncodeToString(h.Sum(nil))
}

// ActiveAlert is a pending or firing alert as the API shows it.
type ActiveAlert struct {
	Fingerprint string            `json:"fingerprint"`
	RuleID      int64             `json:"ruleId"`
	RuleName    string            `json:"ruleName"`
	Kind        Kind              `json:"kind"`
	State       string            `json:"state"` // pending or firing
	Severity    Severity          `json:"severity"`
	Cluster     string            `json:"cluster"`
	Subject     string            `json:"subject"`
	Labels      map[string]string `json:"labels"`
	Value       float64           `json:"value"`
	Threshold   float64           `json:"threshold"`
	Summary     string            `json:"summary"`
	// ActiveAt is when the condition was first seen (the hold began); the same moment as an event's startedAt.
	ActiveAt time.Time `json:"activeAt"`
	// FiresAt, for a pending alert, is when its hold ends: it fires at the first evaluation from then on.
	FiresAt *time.Time `json:"firesAt,omitempty"`
	// FiredAt is when a firing alert's hold ended.
	FiredAt *time.Time `json:"firedAt,omitempty"`
	// QuietUntil, for a firing alert nobody was told about yet, is when its cool-down ends and the
	// notification goes out (if it still fires).
	QuietUntil    *time.Time `json:"quietUntil,omitempty"`
	LastNotified  *time.Time `json:"lastNotifiedAt,omitempty"`
	Notifications int        `json:"notifications"`
	EventID       int64      `json:"eventId,omitempty"`
	DeliveryError string     `json:"deliveryError,omitempty"`
	Link          string     `json:"link,omitempty"`
}

// Active lists pending and firing alerts, firing first, then by start time.
func (e *Evaluator) Active() []ActiveAlert {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]ActiveAlert, 0, len(e.alerts))
	for _, a := range e.alerts {
		if a.state != statePending && a.state != stateFiring {
			continue
		}
		x := ActiveAlert{
			Fingerprint: a.fp, RuleID: a.rule.ID, RuleName: a.rule.Name, Kind: a.rule.Kind, State: a.state.String(),
			Severity: a.rule.Severity, Cluster: a.cluster, Subject: a.subject, Labels: a.labels, Value: a.value,
			Threshold: a.rule.Threshold, Summary: a.summary, ActiveAt: a.activeAt, Notifications: a.notifications,
			DeliveryError: joinDeliveryErrors(a.deliveryErrs, e.channels), Link: consoleLink(e.opts.PublicURL, a.cluster, a.labels),
		}
		if a.state == stateFiring {
			t := a.firedAt
			x.FiredAt = &t
			if r, ok := e.lastResolved[a.fp]; ok && a.notifications == 0 {
				q := r.Add(a.rule.cooldownDur())
				x.QuietUntil = &q
			}
		} else {
			t := a.activeAt.Add(a.rule.forDur())
			x.FiresAt = &t
		}
		if !a.lastSentAt.IsZero() {
			t := a.lastSentAt
			x.LastNotified = &t
		}
		if a.event != nil {
			x.EventID = a.event.ID
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].State != out[j].State {
			return out[i].State == "firing"
		}
		if !out[i].ActiveAt.Equal(out[j].ActiveAt) {
			return out[i].ActiveAt.Before(out[j].ActiveAt)
		}
		return out[i].Fingerprint < out[j].Fingerprint
	})
	return out
}

// brokenSender stands in for a channel whose stored config no longer
// validates, so the failure is recorded on each event.
type brokenSender struct{ err error }

func (b brokenSender) Send(context.Context, Notification) error { return &permanentError{b.err} }
