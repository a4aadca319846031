package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	apidecl "github.com/osprey-kafka/osprey/server/api"
	"github.com/osprey-kafka/osprey/server/endpoints/health"
	"github.com/osprey-kafka/osprey/server/endpoints/operations"
	"github.com/osprey-kafka/osprey/server/service"
)

// seedLaggingGroup produces n records to topic partition 0 and commits offset committed for group.
func seedLaggingGroup(t *testing.T, addrs []string, topic, group string, n, committed int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < n; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: topic, Partition: 0, At: int64(committed), LeaderEpoch: -1})
	if err := kadm.NewClient(cl).CommitAllOffsets(ctx, group, offs); err != nil {
		t.Fatal(err)
	}
}

func scrapeMetrics(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics = %d %s", rec.Code, rec.Body.String())
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func metricsHaveLine(t *testing.T, body, line string) {
	t.Helper()
	for _, l := range strings.Split(body, "\n") {
		if l == line {
			return
		}
	}
	t.Fatalf("metrics lack %q", line)
}

func TestMetricsFromSnapshots(t *testing.T) {
	f := newOpsFixture(t)
	seedLaggingGroup(t, f.kc.ListenAddrs(), "orders", "billing", 10, 4)
	if _, err := f.svc.PollNow(context.Background(), "fake"); err != nil {
		t.Fatal(err)
	}
	// A cluster never polled is listed as unavailable, not silently missing.
	if err := f.svc.AddCluster(context.Background(), service.ClusterSpec{Name: "down", Admin: admin.Config{Bootstrap: []string{"127.0.0.1:1"}}}); err != nil {
		t.Fatal(err)
	}
	e := gin.New()
	e.Use(f.srv.metricsMiddleware())
	f.srv.mountAreas(e, func(r *apidecl.Registry) { health.Declare(r, f.srv.healthOptions()) })
	f.srv.mountAreas(e, func(r *apidecl.Registry) { operations.Declare(r, f.svc) })
	for i := 0; i < 3; i++ {
		opsCall(t, e, "GET", "/api/v1/clusters/fake/reassignments", "", "")
	}
	opsCall(t, e, "GET", "/api/v1/clusters/nope/reassignments", "", "")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/no/such/page/for/topic-x", nil))

	body := scrapeMetrics(t, e)
	for _, l := range []string{
		`osprey_cluster_snapshot_available{cluster="fake"} 1`,
		`osprey_cluster_snapshot_available{cluster="down"} 0`,
		`osprey_cluster_brokers{cluster="fake"} 3`,
		`osprey_cluster_brokers_up{cluster="fake"} 3`,
		`osprey_cluster_topics{cluster="fake"} 2`,
		`osprey_cluster_under_replicated_partitions{cluster="fake"} 0`,
		`osprey_cluster_offline_partitions{cluster="fake"} 0`,
		`osprey_broker_up{broker="0",cluster="fake"} 1`,
		`osprey_topic_partitions{cluster="fake",topic="orders"} 4`,
		`osprey_group_lag{cluster="fake",group="billing",topic="orders"} 6`,
		`osprey_group_total_lag{cluster="fake",group="billing"} 6`,
		`osprey_http_requests_total{method="GET",route="/api/v1/clusters/:cluster/reassignments",status="200"} 3`,
		`osprey_http_requests_total{method="GET",route="/api/v1/clusters/:cluster/reassignments",status="404"} 1`,
		`osprey_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`osprey_sse_clients 0`,
	} {
		metricsHaveLine(t, body, l)
	}
	for _, prefix := range []string{"osprey_cluster_controller_id{cluster=\"fake\"} ", "osprey_cluster_last_poll_timestamp_seconds{cluster=\"fake\"} ",
		"osprey_cluster_poll_duration_seconds{cluster=\"fake\"} ", "osprey_group_lag_seconds{", "osprey_topic_messages_per_second{",
		"osprey_topic_bytes_per_second{", "osprey_cluster_under_min_isr_partitions{", "osprey_http_request_duration_seconds_bucket{",
		"go_goroutines ", "process_open_fds "} {
		if !strings.Contains(body, "\n"+prefix) {
			t.Fatalf("metrics lack %s…", prefix)
		}
	}
	if strings.Contains(body, "topic-x") || strings.Contains(body, `cluster="nope"`) {
		t.Fatal("a raw path or unknown name became a label value")
	}
	// Two Servers never share series: the second one's registry saw no request.
	other := newTestServer(t, Options{Service: f.svc, Logger: quietLogger()})
	e2 := gin.New()
	other.mountAreas(e2, func(r *apidecl.Registry) { health.Declare(r, other.healthOptions()) })
	if strings.Contains(scrapeMetrics(t, e2), "osprey_http_requests_total{") {
		t.Fatal("a new Server's registry already counts requests")
	}
}

func TestMetricsCardinalityBounds(t *testing.T) {
	f := newOpsFixture(t)
	seedLaggingGroup(t, f.kc.ListenAddrs(), "orders", "a", 3, 1)
	seedLaggingGroup(t, f.kc.ListenAddrs(), "payments", "b", 3, 1)
	if _, err := f.svc.PollNow(context.Background(), "fake"); err != nil {
		t.Fatal(err)
	}
	full := &clusterCollector{svc: f.svc, limits: defaultSeriesLimits}
	if n := len(gatherSeries(t, full, "osprey_topic_partitions")); n != 2 {
		t.Fatalf("%d topic series, want 2", n)
	}
	if n := len(gatherSeries(t, full, "osprey_group_lag")); n != 2 {
		t.Fatalf("%d group×topic series, want 2", n)
	}
	small := &clusterCollector{svc: f.svc, limits: seriesLimits{topics: 1, groups: 1, groupTopics: 0}}
	if n := len(gatherSeries(t, small, "osprey_topic_partitions")); n != 1 {
		t.Fatalf("%d topic series under a bound of 1", n)
	}
	if n := len(gatherSeries(t, small, "osprey_group_lag")); n != 0 {
		t.Fatalf("%d group×topic series under a bound of 0", n)
	}
	dropped := gatherSeries(t, small, "osprey_metrics_series_dropped")
	want := map[string]float64{"group": 1, "group_topic": 1, "topic": 1}
	if len(dropped) != len(want) {
		t.Fatalf("dropped-series gauges = %v, want %v", dropped, want)
	}
	for kind, v := range want {
		if dropped[`cluster="fake",kind="`+kind+`"`] != v {
			t.Fatalf("dropped-series gauges = %v, want %v", dropped, want)
		}
	}
}

// gatherSeries collects c through a pedantic registry (which checks every metric against its
// description) and returns the series of one metric as "labels" → value.
func gatherSeries(t *testing.T, c prometheus.Collector, name string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, lp.GetName()+`="`+lp.GetValue()+`"`)
			}
			out[strings.Join(ls, ",")] = m.GetGauge().GetValue()
		}
	}
	return out
}
