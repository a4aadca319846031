package alert

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/store"
)

// newTestStore opens a fresh, migrated SQLite database in a temp dir.
func newTestStore(t *testing.T) *store.Store {
	t.Helper()
	return openTestStore(t, filepath.Join(t.TempDir(), "osprey.db"))
}

func openTestStore(t *testing.T, path string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: path, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type fakeClock = testenv.FakeClock

func newFakeClock() *fakeClock {
	return testenv.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

type evalOpt func(*Options)

// newTestEvaluator starts an evaluator over st with a fake clock and fast retries.
func newTestEvaluator(t *testing.T, st Store, clock *fakeClock, opts ...evalOpt) (*Evaluator, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	o := Options{
		Store: st, Logger: quietLogger(), Registerer: reg, PublicURL: "http://console.test",
		Now: clock.Now, BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
		SendTimeout: 2 * time.Second, MaxAttempts: 4,
	}
	for _, f := range opts {
		f(&o)
	}
	ev, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ev.Stop)
	return ev, reg
}

// receiver is a local HTTP endpoint that records what it gets.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	reqs     []recorded
	failNext atomic.Int32  // answer failCode to this many requests first
	failCode atomic.Int32  // 500 when 0
	block    chan struct{} // when set, handlers wait on it (a dead receiver)
	reply    string
}

type recorded struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{reply: `{"errcode":0,"errmsg":"ok"}`}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.block != nil {
			select {
			case <-r.block:
			case <-req.Context().Done():
				return
			}
		}
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{Method: req.Method, URL: req.URL.String(), Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		if r.failNext.Load() > 0 {
			r.failNext.Add(-1)
			code := int(r.failCode.Load())
			if code == 0 {
				code = http.StatusInternalServerError
			}
			http.Error(w, "refused", code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, r.reply)
	}))
	t.Cleanup(func() {
		if r.block != nil {
			select {
			case <-r.block:
			default:
				close(r.block)
			}
		}
		r.Close()
	})
	return r
}

func (r *receiver) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// notifications decodes the webhook bodies received so far.
func (r *receiver) notifications(t *testing.T) []Notification {
	t.Helper()
	var out []Notification
	for _, q := range r.requests() {
		var n Notification
		if err := json.Unmarshal(q.Body, &n); err != nil {
			t.Fatalf("webhook body is not a notification: %v: %s", err, q.Body)
		}
		out = append(out, n)
	}
	return out
}

// mustChannel stores an enabled channel and returns its id.
func mustChannel(t *testing.T, st *store.Store, name string, typ ChannelType, cfg any) int64 {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &store.AlertChannel{Name: name, Type: string(typ), Config: string(b), Enabled: true, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.CreateAlertChannel(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// mustRule validates and stores a rule and returns it.
func mustRule(t *testing.T, st *store.Store, in RuleInput) Rule {
	t.Helper()
	r, err := in.normalize()
	if err != nil {
		t.Fatal(err)
	}
	r.CreatedAt, r.UpdatedAt = time.Now(), time.Now()
	sr := r.toStore()
	if err := st.CreateAlertRule(context.Background(), sr); err != nil {
		t.Fatal(err)
	}
	r.ID = sr.ID
	return r
}

// Snapshot builders. Hand-built snapshots have no lookup index, which the
// evaluator does not use.

type snapB struct{ s *collector.Snapshot }

func newSnap(cluster string, at time.Time) *snapB {
	return &snapB{s: &collector.Snapshot{Cluster: collector.ClusterInfo{Name: cluster, Controller: 1, LastPoll: at}}}
}

func (b *snapB) broker(id int32, up bool) *snapB {
	br := collector.Broker{ID: id, Host: "127.0.0.1", Port: 9092 + id, Up: up}
	if !up {
		br.Error = "not in cluster metadata"
	}
	b.s.Brokers = append(b.s.Brokers, br)
	return b
}

// topic adds a topic whose partitions have the given end offsets and full ISR {1,2}.
func (b *snapB) topic(name string, ends ...int64) *snapB {
	t := collector.Topic{Name: name, MinISR: 1, ReplicationFactor: 2}
	for i, e := range ends {
		t.Partitions = append(t.Partitions, collector.Partition{Partition: int32(i), Leader: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, StartOffset: 0, EndOffset: e})
		if e >= 0 {
			t.EndOffsetSum += e
		}
	}
	b.s.Topics = append(b.s.Topics, t)
	return b
}

// group adds a group on one topic with (committed, end) per partition.
func (b *snapB) group(name, state string, members int, topic string, pos ...[2]int64) *snapB {
	g := collector.Group{Name: name, State: state}
	for i := 0; i < members; i++ {
		g.Members = append(g.Members, collector.Member{ID: "m" + string(rune('0'+i))})
	}
	// As the collector builds it: an unknown end makes the partition's lag -1, left out of the
	// topic's sum, which is -1 itself when no partition's lag is known.
	gt := collector.GroupTopic{Topic: topic, Lag: -1}
	for i, p := range pos {
		lag := int64(-1)
		if p[1] >= 0 {
			lag = max(p[1]-p[0], 0)
			gt.Lag = max(gt.Lag, 0) + lag
		}
		gt.CommittedSum += p[0]
		gt.Partitions = append(gt.Partitions, collector.GroupPartition{Partition: int32(i), Committed: p[0], End: p[1], Lag: lag})
	}
	g.Topics = append(g.Topics, gt)
	g.TotalLag = gt.Lag
	b.s.Groups = append(b.s.Groups, g)
	return b
}

func (b *snapB) lagSeconds(group string, secs float64) *snapB {
	for i := range b.s.Groups {
		if b.s.Groups[i].Name == group {
			for j := range b.s.Groups[i].Topics {
				b.s.Groups[i].Topics[j].LagSeconds = secs
			}
			b.s.Groups[i].LagSeconds = secs
		}
	}
	return b
}

func (b *snapB) build() *collector.Snapshot { return b.s }

// liveEnv is an evaluator watching a real collector on a real cluster, with a webhook receiver and an
// SMTP server as channels: the set-up of the end-to-end tests.
type liveEnv struct {
	t       *testing.T
	ctx     context.Context
	cluster string
	ac      *admin.Client
	col     *collector.Collector
	st      *store.Store
	rcv     *receiver
	smtp    *testSMTP
	hook    int64
	mail    int64
	ev      *Evaluator
}

func newLiveEnv(t *testing.T, ctx context.Context, cluster string, bootstrap []string) *liveEnv {
	t.Helper()
	ac, err := admin.New(admin.Config{Name: cluster, Bootstrap: bootstrap, Timeout: 5 * time.Second}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	col, err := collector.New(collector.Config{Cluster: cluster, CallTimeout: 5 * time.Second}, ac, nil, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	l := &liveEnv{t: t, ctx: ctx, cluster: cluster, ac: ac, col: col, st: newTestStore(t), rcv: newReceiver(t), smtp: newTestSMTP(t, "starttls")}
	l.hook = mustChannel(t, l.st, "hook", ChannelWebhook, WebhookConfig{URL: l.rcv.URL})
	l.mail = mustChannel(t, l.st, "mail", ChannelEmail, emailConfig(l.smtp, "starttls"))
	return l
}

// start runs the evaluator over the rules stored so far, linking to the console at publicURL.
func (l *liveEnv) start(publicURL string) {
	l.t.Helper()
	ev, err := New(Options{Store: l.st, Logger: quietLogger(), Registerer: prometheus.NewRegistry(), PublicURL: publicURL})
	if err != nil {
		l.t.Fatal(err)
	}
	ev.Watch(l.col)
	if err := ev.Start(l.ctx); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(ev.Stop)
	l.ev = ev
}

// poll runs one collection cycle and waits until the evaluator has seen it.
func (l *liveEnv) poll() *collector.Snapshot {
	l.t.Helper()
	s := l.col.PollNow(l.ctx)
	testenv.WaitFor(l.t, 5*time.Second, testenv.Until("evaluation of the snapshot", func() bool { return l.ev.observedSeq(l.cluster) >= s.Cluster.Sequence }))
	return s
}
