package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

// TestKafkaExporterMetrics: kafka_exporter's families, names, help texts and labels, served from the
// snapshot on their own path (every cluster with a cluster label, or ?cluster= alone with
// kafka_exporter's labels only), and the series bound with its counter.
func TestKafkaExporterMetrics(t *testing.T) {
	f := newOpsFixture(t)
	seedLaggingGroup(t, f.kc.ListenAddrs(), "orders", "billing", 10, 4)
	if _, err := f.svc.PollNow(context.Background(), "fake"); err != nil {
		t.Fatal(err)
	}
	h := newTestServer(t, Options{Service: f.svc, Logger: quietLogger()}).Handler()

	code, all := get(t, h, "/metrics/kafka-exporter")
	if code != 200 {
		t.Fatalf("/metrics/kafka-exporter = %d %s", code, all)
	}
	for _, l := range []string{
		`# HELP kafka_brokers Number of Brokers in the Kafka Cluster.`,
		`# TYPE kafka_brokers gauge`,
		`kafka_brokers{cluster="fake"} 3`,
		`kafka_topic_partitions{cluster="fake",topic="orders"} 4`,
		`kafka_topic_partition_current_offset{cluster="fake",partition="0",topic="orders"} 10`,
		`kafka_topic_partition_oldest_offset{cluster="fake",partition="0",topic="orders"} 0`,
		`kafka_topic_partition_in_sync_replica{cluster="fake",partition="0",topic="orders"} 3`,
		`kafka_topic_partition_replicas{cluster="fake",partition="0",topic="orders"} 3`,
		`kafka_topic_partition_leader_is_preferred{cluster="fake",partition="0",topic="orders"} 1`,
		`kafka_topic_partition_under_replicated_partition{cluster="fake",partition="0",topic="orders"} 0`,
		`# HELP kafka_consumergroup_lag Current Approximate Lag of a ConsumerGroup at Topic/Partition`,
		`kafka_consumergroup_current_offset{cluster="fake",consumergroup="billing",partition="0",topic="orders"} 4`,
		`kafka_consumergroup_current_offset_sum{cluster="fake",consumergroup="billing",topic="orders"} 4`,
		`kafka_consumergroup_lag{cluster="fake",consumergroup="billing",partition="0",topic="orders"} 6`,
		`kafka_consumergroup_lag_sum{cluster="fake",consumergroup="billing",topic="orders"} 6`,
		`kafka_consumergroup_members{cluster="fake",consumergroup="billing"} 0`,
	} {
		metricsHaveLine(t, all, l)
	}
	if !strings.Contains(all, "\nkafka_broker_info{address=\"127.0.0.1:") || !strings.Contains(all, "\nkafka_topic_partition_leader{cluster=\"fake\",partition=\"0\",topic=\"orders\"} ") {
		t.Fatal("kafka_broker_info or kafka_topic_partition_leader missing")
	}
	if strings.Contains(all, "\nosprey_cluster_") {
		t.Fatal("the kafka_exporter path serves Osprey's own families")
	}

	// One cluster: exactly kafka_exporter's labels.
	code, one := get(t, h, "/metrics/kafka-exporter?cluster=fake")
	if code != 200 {
		t.Fatalf("?cluster=fake = %d", code)
	}
	metricsHaveLine(t, one, `kafka_brokers 3`)
	metricsHaveLine(t, one, `kafka_consumergroup_lag{consumergroup="billing",partition="0",topic="orders"} 6`)
	if code, _ := get(t, h, "/metrics/kafka-exporter?cluster=nope"); code != 404 {
		t.Fatalf("?cluster=nope = %d, want 404", code)
	}

	// The bound: what it leaves out is counted, on both paths.
	small := newTestServer(t, Options{Service: f.svc, Logger: quietLogger(), KafkaExporter: KafkaExporterOptions{MaxSeries: 5}})
	_, capped := get(t, small.Handler(), "/metrics/kafka-exporter")
	if n := strings.Count(capped, "\nkafka_"); n != 5 {
		t.Fatalf("%d kafka_ series under a bound of 5", n)
	}
	_, own := get(t, small.Handler(), "/metrics")
	if !strings.Contains(own, "\nosprey_kafka_exporter_series_dropped_total{cluster=\"fake\"} ") ||
		strings.Contains(own, "osprey_kafka_exporter_series_dropped_total{cluster=\"fake\"} 0\n") {
		t.Fatalf("the dropped series are not counted:\n%s", own)
	}

	// Merged into /metrics, and no path of their own.
	merged := newTestServer(t, Options{Service: f.svc, Logger: quietLogger(), KafkaExporter: KafkaExporterOptions{Path: "/metrics"}})
	_, m := get(t, merged.Handler(), "/metrics")
	metricsHaveLine(t, m, `kafka_consumergroup_lag_sum{cluster="fake",consumergroup="billing",topic="orders"} 6`)
	metricsHaveLine(t, m, `osprey_group_total_lag{cluster="fake",group="billing"} 6`)
	if code, body := get(t, merged.Handler(), "/metrics/kafka-exporter"); strings.Contains(body, "kafka_brokers") {
		t.Fatalf("merged, /metrics/kafka-exporter still answers %d with the families", code)
	}
	off := newTestServer(t, Options{Service: f.svc, Logger: quietLogger(), KafkaExporter: KafkaExporterOptions{Disabled: true}})
	if _, body := get(t, off.Handler(), "/metrics/kafka-exporter"); strings.Contains(body, "kafka_brokers") {
		t.Fatal("disabled, the families are still served")
	}
}

// TestKafkaExporterWithPrometheus: Debian's Prometheus scrapes the kafka_exporter path of a running
// console, and `sum by (consumergroup) (kafka_consumergroup_lag)` gives the lag the console's API shows.
func TestKafkaExporterWithPrometheus(t *testing.T) {
	f := newOpsFixture(t)
	seedLaggingGroup(t, f.kc.ListenAddrs(), "orders", "billing", 10, 4)
	seedLaggingGroup(t, f.kc.ListenAddrs(), "payments", "audit", 7, 7)
	if _, err := f.svc.PollNow(context.Background(), "fake"); err != nil {
		t.Fatal(err)
	}
	console := httptest.NewServer(newTestServer(t, Options{Service: f.svc, Logger: quietLogger()}).Handler())
	t.Cleanup(console.Close)

	// What the console's own API shows.
	want := map[string]float64{}
	for _, g := range []string{"billing", "audit"} {
		var detail struct {
			Lag float64 `json:"lag"`
		}
		getJSON(t, console.URL+"/api/v1/clusters/fake/groups/"+g, &detail)
		want[g] = detail.Lag
	}
	if want["billing"] != 6 || want["audit"] != 0 {
		t.Fatalf("the console's API shows lags %v, want billing 6 and audit 0", want)
	}

	dir := t.TempDir()
	port := testenv.FreePort(t)
	target := strings.TrimPrefix(console.URL, "http://")
	testenv.WriteFile(t, dir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: kafka
    metrics_path: /metrics/kafka-exporter
    params:
      cluster: [fake]
    static_configs:
      - targets: ["%s"]
`, target))
	prom := testenv.StartProgram(t, "prometheus", dir, "prometheus", "--config.file="+dir+"/prometheus.yml",
		"--storage.tsdb.path="+dir+"/data", fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))

	api := fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=", port) + url.QueryEscape(`sum by (consumergroup) (kafka_consumergroup_lag)`)
	testenv.WaitFor(t, 90*time.Second, func() error {
		if done, log := prom.Exited(); done {
			t.Fatalf("prometheus exited:\n%s", log)
		}
		got, err := promVector(api)
		if err != nil {
			return err
		}
		for g, v := range want {
			if got[g] != v || len(got) != len(want) {
				return fmt.Errorf("prometheus answers %v, want %v", got, want)
			}
		}
		return nil
	})
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// promVector runs an instant query through Prometheus' HTTP API and returns consumergroup → value.
func promVector(u string) (map[string]float64, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decoding the query answer: %w", err)
	}
	if out.Status != "success" {
		return nil, fmt.Errorf("query: %s %s", out.Status, out.Error)
	}
	got := map[string]float64{}
	for _, r := range out.Data.Result {
		s, _ := r.Value[1].(string)
		var v float64
		if _, err := fmt.Sscan(s, &v); err != nil {
			return nil, fmt.Errorf("value %q: %w", s, err)
		}
		got[r.Metric["consumergroup"]] = v
	}
	return got, nil
}
