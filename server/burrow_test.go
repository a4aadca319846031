package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

// burrowIntervals is the window both Burrow and Osprey judge a partition over in these tests.
const burrowIntervals = 3

// burrowGet fetches base+path and decodes the JSON answer.
func burrowGet(base, path string) (int, map[string]any, error) {
	resp, err := http.Get(base + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("GET %s: %d %q: %w", path, resp.StatusCode, b, err)
	}
	return resp.StatusCode, out, nil
}

// burrowRuntime is Osprey's one-broker runtime cluster "rt" with a console over it, its collector
// driven by hand: poll takes one snapshot and hands it to the alert evaluator, one window sample.
type burrowRuntime struct {
	t         *testing.T
	svc       *service.Service
	ev        *alert.Evaluator
	bootstrap []string
	cl        *kgo.Client
	adm       *kadm.Client
	url       string
}

func newBurrowRuntime(t *testing.T) *burrowRuntime {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "osprey.db"), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ev, err := alert.New(alert.Options{Store: st, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ev.Stop)
	svc := service.New(service.Options{Store: st, Logger: quietLogger(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour, LogDirsInterval: time.Hour}})
	t.Cleanup(svc.Stop)
	bootstrap, err := svc.StartEmbedded(ctx, "rt", 1, false, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	srv := newTestServer(t, Options{Service: svc, Logger: quietLogger(), Alerts: alert.NewService(ev),
		Burrow: BurrowOptions{Intervals: burrowIntervals}})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &burrowRuntime{t: t, svc: svc, ev: ev, bootstrap: bootstrap, cl: cl, adm: kadm.NewClient(cl), url: hs.URL}
}

func (r *burrowRuntime) poll() *collector.Snapshot {
	r.t.Helper()
	snap, err := r.svc.PollNow(context.Background(), "rt")
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.ev.Observe(context.Background(), snap); err != nil {
		r.t.Fatal(err)
	}
	return snap
}

func (r *burrowRuntime) produce(topic string, n int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < n; i++ {
		if err := r.cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("v")}).FirstErr(); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *burrowRuntime) commit(group, topic string, at int64) {
	r.t.Helper()
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: topic, Partition: 0, At: at, LeaderEpoch: -1})
	if err := r.adm.CommitAllOffsets(context.Background(), group, offs); err != nil {
		r.t.Fatal(err)
	}
}

// startBurrow runs Debian's Burrow over the runtime cluster, with its storage window, refresh
// intervals and evaluation cache short enough for a test, and returns its base URL.
func startBurrow(t *testing.T, bootstrap []string) string {
	zkAddr, chroot := testenv.ZooKeeperChroot(t)
	port := testenv.FreePort(t)
	dir := t.TempDir()
	servers := `"` + strings.Join(bootstrap, `", "`) + `"`
	testenv.WriteFile(t, dir, "burrow.toml", fmt.Sprintf(`[general]
pidfile="%[1]s/burrow.pid"

[logging]
level="info"

[zookeeper]
servers=["%[2]s"]
timeout=6
root-path="%[3]s/burrow"

[client-profile.osprey]
client-id="burrow-test"
kafka-version="1.0.0"

[cluster.rt]
class-name="kafka"
servers=[%[4]s]
client-profile="osprey"
topic-refresh=1
offset-refresh=1

[consumer.rt]
class-name="kafka"
cluster="rt"
servers=[%[4]s]
client-profile="osprey"
start-latest=false

[storage.default]
class-name="inmemory"
workers=2
intervals=%[5]d
expire-group=604800
min-distance=1

[evaluator.default]
class-name="caching"
expire-cache=1

[httpserver.default]
address="127.0.0.1:%[6]d"
`, dir, zkAddr, chroot, servers, burrowIntervals, port))
	p := testenv.StartProgram(t, "burrow", dir, "Burrow", "--config-dir", dir)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	testenv.WaitFor(t, 60*time.Second, func() error {
		if done, log := p.Exited(); done {
			t.Fatalf("Burrow exited:\n%s", log)
		}
		code, body, err := burrowGet(base, "/v3/kafka")
		if err != nil || code != 200 {
			return fmt.Errorf("burrow not answering: %d %v %v", code, body, err)
		}
		return nil
	})
	return base
}

// TestBurrowAPIAgainstBurrow: Debian's Burrow and Osprey watch the same runtime cluster; for a group
// that is caught up (OK) and one that stopped while messages keep arriving (STOP, group ERR), their
// /v3/kafka answers agree field by field, except where docs/COMPAT.md says Osprey's evaluation differs
// (timestamps and lags of the window's samples, and `complete`, since Osprey samples per poll).
func TestBurrowAPIAgainstBurrow(t *testing.T) {
	r := newBurrowRuntime(t)
	ctx := context.Background()
	for _, topic := range []string{"ok-topic", "stop-topic"} {
		if resp, err := r.adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil || resp.Err != nil {
			t.Fatalf("create %s: %v %v", topic, err, resp.Err)
		}
	}
	r.produce("ok-topic", 5)
	r.produce("stop-topic", 10)
	burrow := startBurrow(t, r.bootstrap)

	// Burrow drops commits on topics whose offsets it has not fetched yet: wait for them first.
	testenv.WaitFor(t, 60*time.Second, func() error {
		for topic, end := range map[string]float64{"ok-topic": 5, "stop-topic": 10} {
			code, body, err := burrowGet(burrow, "/v3/kafka/rt/topic/"+topic)
			if err != nil || code != 200 || fmt.Sprint(body["offsets"]) != fmt.Sprint([]any{end}) {
				return fmt.Errorf("burrow's %s offsets: %d %v %v", topic, code, body, err)
			}
		}
		return nil
	})
	r.commit("ok-group", "ok-topic", 5)
	r.commit("stop-group", "stop-topic", 4)
	// The stopped group's topic keeps receiving messages over Osprey's window.
	for i := 0; i < burrowIntervals; i++ {
		r.produce("stop-topic", 1)
		r.poll()
	}
	const lag = 10 + burrowIntervals - 4 // log end 13, committed 4
	testenv.WaitFor(t, 60*time.Second, func() error {
		code, body, err := burrowGet(burrow, "/v3/kafka/rt/consumer/stop-group/lag")
		if err != nil || code != 200 {
			return fmt.Errorf("burrow's stop-group: %d %v %v", code, body, err)
		}
		if st := body["status"].(map[string]any); st["totallag"] != float64(lag) {
			return fmt.Errorf("burrow's stop-group lag %v, want %d", st["totallag"], lag)
		}
		code, body, err = burrowGet(burrow, "/v3/kafka/rt/consumer/ok-group/lag")
		if err != nil || code != 200 {
			return fmt.Errorf("burrow's ok-group: %d %v %v", code, body, err)
		}
		return nil
	})

	t.Run("lists", func(t *testing.T) { compareBurrowLists(t, burrow, r.url) })
	t.Run("topic offsets", func(t *testing.T) {
		compareBurrow(t, burrow, r.url, "/v3/kafka/rt/topic/stop-topic", "offsets")
	})
	t.Run("status", func(t *testing.T) {
		for _, g := range []string{"ok-group", "stop-group"} {
			for _, kind := range []string{"status", "lag"} {
				path := "/v3/kafka/rt/consumer/" + g + "/" + kind
				_, b, _ := burrowGet(burrow, path)
				_, o, _ := burrowGet(r.url, path)
				compareStatus(t, path, b, o)
			}
		}
		_, o, _ := burrowGet(r.url, "/v3/kafka/rt/consumer/stop-group/status")
		st := o["status"].(map[string]any)
		if st["status"] != "ERR" || len(st["partitions"].([]any)) != 1 ||
			st["partitions"].([]any)[0].(map[string]any)["status"] != "STOP" {
			t.Fatalf("osprey's stop-group status = %v, want ERR with stop-topic/0 STOP", st)
		}
	})
	t.Run("consumer detail", func(t *testing.T) {
		for _, g := range []string{"ok-group", "stop-group"} {
			path := "/v3/kafka/rt/consumer/" + g
			_, b, _ := burrowGet(burrow, path)
			_, o, _ := burrowGet(r.url, path)
			compareConsumerDetail(t, path, b, o)
		}
	})
	t.Run("warn, rewind and stall", func(t *testing.T) { compareWarnRewindStall(t, r, burrow) })
	t.Run("not found", func(t *testing.T) {
		for _, path := range []string{"/v3/kafka/rt/consumer/nope", "/v3/kafka/rt/consumer/nope/status",
			"/v3/kafka/nope/topic", "/v3/kafka/rt/topic/nope"} {
			compareBurrow(t, burrow, r.url, path, "error", "message")
		}
	})
}

// compareWarnRewindStall drives one group whose lag grows while it advances (WARN), one whose
// committed offset goes back (REWIND, group ERR) and one that commits the same offset behind the log
// end (STALL, group ERR) through a full window, and compares the answers.
// Burrow keeps one commit per min-distance (1 s) and calls a group STOP once the time since its last
// commit exceeds the window's span, so commits are paced 2 s apart and Burrow is read as soon as it
// has the last one. Each commit waits until Burrow has fetched the topic's new log end, since Burrow
// computes a commit's lag from the broker offset it holds when the commit arrives.
func compareWarnRewindStall(t *testing.T, r *burrowRuntime, burrow string) {
	ctx := context.Background()
	for _, topic := range []string{"warn-topic", "rewind-topic"} {
		if resp, err := r.adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil || resp.Err != nil {
			t.Fatalf("create %s: %v %v", topic, err, resp.Err)
		}
	}
	r.produce("warn-topic", 10)
	r.produce("rewind-topic", 20)
	waitBurrowEnd := func(topic string, end int64) {
		testenv.WaitFor(t, 60*time.Second, func() error {
			code, body, err := burrowGet(burrow, "/v3/kafka/rt/topic/"+topic)
			if err != nil || code != 200 || fmt.Sprint(body["offsets"]) != fmt.Sprint([]any{float64(end)}) {
				return fmt.Errorf("burrow's %s offsets: %d %v %v, want [%d]", topic, code, body, err, end)
			}
			return nil
		})
	}
	waitBurrowEnd("rewind-topic", 20)
	rewindAt := []int64{10, 12, 8}
	// Burrow judges STOP against the wall clock when asked (no commit for longer than the window's
	// span), so the span is wide enough for Burrow to catch up under a loaded test run.
	tick := time.NewTicker(4 * time.Second)
	defer tick.Stop()
	for i := 0; i < burrowIntervals; i++ {
		if i > 0 {
			<-tick.C
		}
		// warn-topic grows by 3 a round while the group advances by 1: lag 3, 5, 7 (never down, growing).
		r.produce("warn-topic", 3)
		end := int64(10 + 3*(i+1))
		waitBurrowEnd("warn-topic", end)
		r.commit("warn-group", "warn-topic", int64(10+i))
		r.commit("rewind-group", "rewind-topic", rewindAt[i])
		r.commit("stall-group", "rewind-topic", 15) // the same offset again with lag 5: STALL
		r.poll()
	}
	var b map[string]map[string]any
	testenv.WaitFor(t, 60*time.Second, func() error {
		b = map[string]map[string]any{}
		for _, g := range []string{"warn-group", "rewind-group", "stall-group"} {
			path := "/v3/kafka/rt/consumer/" + g + "/status"
			code, body, err := burrowGet(burrow, path)
			if err != nil || code != 200 {
				return fmt.Errorf("burrow's %s: %d %v %v", path, code, body, err)
			}
			b[g] = body
		}
		warn := b["warn-group"]["status"].(map[string]any)
		rewind := b["rewind-group"]["status"].(map[string]any)
		stall := b["stall-group"]["status"].(map[string]any)
		if warn["status"] != "WARN" || rewind["status"] != "ERR" || stall["status"] != "ERR" {
			return fmt.Errorf("burrow has warn-group %v, rewind-group %v, stall-group %v; want WARN, ERR, ERR", warn, rewind, stall)
		}
		// Burrow reads commits from __consumer_offsets on its own schedule: compare once it has the last ones.
		for g, st := range map[string]map[string]any{"warn-group": warn, "rewind-group": rewind, "stall-group": stall} {
			want := map[string]float64{"warn-group": float64(10 + burrowIntervals - 1), "rewind-group": float64(rewindAt[burrowIntervals-1]), "stall-group": 15}[g]
			ps, _ := st["partitions"].([]any)
			if len(ps) != 1 {
				return fmt.Errorf("burrow's %s partitions: %v", g, ps)
			}
			end, _ := ps[0].(map[string]any)["end"].(map[string]any)
			if end == nil || end["offset"] != want {
				return fmt.Errorf("burrow's %s end is %v, want offset %v", g, end, want)
			}
		}
		return nil
	})
	for g, want := range map[string]string{"warn-group": "WARN", "rewind-group": "REWIND", "stall-group": "STALL"} {
		path := "/v3/kafka/rt/consumer/" + g + "/status"
		_, o, err := burrowGet(r.url, path)
		if err != nil {
			t.Fatal(err)
		}
		compareStatus(t, path, b[g], o)
		ps := o["status"].(map[string]any)["partitions"].([]any)
		if len(ps) != 1 || ps[0].(map[string]any)["status"] != want {
			t.Errorf("osprey's %s partitions = %v, want one %s", g, ps, want)
		}
	}
}

// compareBurrow checks that both answer path with the same status code, request envelope and fields.
func compareBurrow(t *testing.T, burrow, osprey, path string, fields ...string) {
	t.Helper()
	bc, b, err := burrowGet(burrow, path)
	if err != nil {
		t.Fatal(err)
	}
	oc, o, err := burrowGet(osprey, path)
	if err != nil {
		t.Fatal(err)
	}
	if bc != oc {
		t.Errorf("%s: status %d from Burrow, %d from Osprey (%v / %v)", path, bc, oc, b, o)
	}
	for _, f := range append([]string{"error", "message", "request"}, fields...) {
		if fmt.Sprint(b[f]) != fmt.Sprint(o[f]) {
			t.Errorf("%s: %s is %v from Burrow, %v from Osprey", path, f, b[f], o[f])
		}
	}
}

// compareBurrowLists compares list answers as sets: Burrow's order is a Go map's.
func compareBurrowLists(t *testing.T, burrow, osprey string) {
	for path, field := range map[string]string{
		"/v3/kafka":                               "clusters",
		"/v3/kafka/rt/topic":                      "topics",
		"/v3/kafka/rt/consumer":                   "consumers",
		"/v3/kafka/rt/topic/stop-topic/consumers": "consumers",
	} {
		compareBurrow(t, burrow, osprey, path)
		_, b, _ := burrowGet(burrow, path)
		_, o, _ := burrowGet(osprey, path)
		if bs, os := sortedStrings(b[field]), sortedStrings(o[field]); !slices.Equal(bs, os) {
			t.Errorf("%s: %s are %v from Burrow, %v from Osprey", path, field, bs, os)
		}
	}
}

func sortedStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	slices.Sort(out)
	return out
}

// compareStatus compares a /status or /lag answer field by field. start/end timestamps and lags and
// `complete` differ by design (docs/COMPAT.md): Osprey's window holds polls, Burrow's commits.
func compareStatus(t *testing.T, path string, b, o map[string]any) {
	t.Helper()
	for _, f := range []string{"error", "message", "request"} {
		if fmt.Sprint(b[f]) != fmt.Sprint(o[f]) {
			t.Errorf("%s: %s is %v from Burrow, %v from Osprey", path, f, b[f], o[f])
		}
	}
	bs, os := b["status"].(map[string]any), o["status"].(map[string]any)
	for _, f := range []string{"cluster", "group", "status", "partition_count", "totallag"} {
		if fmt.Sprint(bs[f]) != fmt.Sprint(os[f]) {
			t.Errorf("%s: status.%s is %v from Burrow, %v from Osprey", path, f, bs[f], os[f])
		}
	}
	bp, op := bs["partitions"].([]any), os["partitions"].([]any)
	if len(bp) != len(op) {
		t.Fatalf("%s: %d partitions from Burrow, %d from Osprey", path, len(bp), len(op))
	}
	for i := range bp {
		comparePartitionStatus(t, fmt.Sprintf("%s partitions[%d]", path, i), bp[i].(map[string]any), op[i].(map[string]any))
	}
	comparePartitionStatus(t, path+" maxlag", bs["maxlag"].(map[string]any), os["maxlag"].(map[string]any))
}

func comparePartitionStatus(t *testing.T, where string, b, o map[string]any) {
	t.Helper()
	for _, f := range []string{"topic", "partition", "owner", "client_id", "status", "current_lag"} {
		if fmt.Sprint(b[f]) != fmt.Sprint(o[f]) {
			t.Errorf("%s: %s is %v from Burrow, %v from Osprey", where, f, b[f], o[f])
		}
	}
	for _, f := range []string{"start", "end"} {
		bo, _ := b[f].(map[string]any)
		oo, _ := o[f].(map[string]any)
		if bo == nil || oo == nil {
			t.Errorf("%s: %s is %v from Burrow, %v from Osprey", where, f, b[f], o[f])
			continue
		}
		if bo["offset"] != oo["offset"] {
			t.Errorf("%s: %s.offset is %v from Burrow, %v from Osprey", where, f, bo["offset"], oo["offset"])
		}
	}
	for _, f := range []string{"complete"} {
		if _, ok := o[f].(float64); !ok {
			t.Errorf("%s: Osprey's %s is %v, not a number", where, f, o[f])
		}
	}
}

// compareConsumerDetail compares /consumer/<group>: the same topics, partition arrays of the same
// length, the same owner, client id and current lag, a window of `intervals` slots whose newest
// entry has the same committed offset.
func compareConsumerDetail(t *testing.T, path string, b, o map[string]any) {
	t.Helper()
	for _, f := range []string{"error", "message", "request"} {
		if fmt.Sprint(b[f]) != fmt.Sprint(o[f]) {
			t.Errorf("%s: %s is %v from Burrow, %v from Osprey", path, f, b[f], o[f])
		}
	}
	bt, ot := b["topics"].(map[string]any), o["topics"].(map[string]any)
	if len(bt) != len(ot) {
		t.Fatalf("%s: topics %v from Burrow, %v from Osprey", path, bt, ot)
	}
	for topic, bv := range bt {
		bp, op := bv.([]any), ot[topic].([]any)
		if len(bp) != len(op) {
			t.Fatalf("%s: %s has %d partitions from Burrow, %d from Osprey", path, topic, len(bp), len(op))
		}
		for i := range bp {
			bpi, opi := bp[i].(map[string]any), op[i].(map[string]any)
			for _, f := range []string{"owner", "client_id", "current-lag"} {
				if fmt.Sprint(bpi[f]) != fmt.Sprint(opi[f]) {
					t.Errorf("%s: %s/%d %s is %v from Burrow, %v from Osprey", path, topic, i, f, bpi[f], opi[f])
				}
			}
			bo, oo := bpi["offsets"].([]any), opi["offsets"].([]any)
			if len(bo) != len(oo) || len(oo) != burrowIntervals {
				t.Fatalf("%s: %s/%d window of %d slots from Burrow, %d from Osprey", path, topic, i, len(bo), len(oo))
			}
			last := func(xs []any) any { return xs[len(xs)-1].(map[string]any)["offset"] }
			if last(bo) != last(oo) {
				t.Errorf("%s: %s/%d newest offset %v from Burrow, %v from Osprey", path, topic, i, last(bo), last(oo))
			}
		}
	}
}

// TestBurrowAPIAuth: the Burrow routes are open like the console's other reads unless
// compat.burrow.role asks for a role, and absent when disabled.
func TestBurrowAPIAuth(t *testing.T) {
	open := newTestServer(t, Options{Logger: quietLogger()})
	if code, body := get(t, open.Handler(), "/v3/kafka"); code != 200 || !strings.Contains(body, `"clusters":[]`) {
		t.Fatalf("open: /v3/kafka = %d %s", code, body)
	}
	guarded := newTestServer(t, Options{Logger: quietLogger(), Burrow: BurrowOptions{Role: "viewer"}})
	if code, body := get(t, guarded.Handler(), "/v3/kafka/rt/consumer"); code != 401 {
		t.Fatalf("viewer role, anonymous: /v3/kafka/rt/consumer = %d %s, want 401", code, body)
	}
	off := newTestServer(t, Options{Logger: quietLogger(), Burrow: BurrowOptions{Disabled: true}})
	if _, body := get(t, off.Handler(), "/v3/kafka"); strings.Contains(body, `"clusters"`) {
		t.Fatalf("disabled, /v3/kafka still answers %s", body)
	}
}
