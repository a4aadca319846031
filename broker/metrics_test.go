package broker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func scrape(t *testing.T, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("series %s not found in:\n%s", series, text)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetricsEndpoint(t *testing.T) {
	b := newTestBroker(t, func(c *Config) { c.MetricsListen = "127.0.0.1:0" })
	if b.MetricsAddr() == "" {
		t.Fatal("metrics endpoint not started")
	}
	produceFranz(t, b.Addr(), "metered", 25, kgo.AllowAutoTopicCreation())
	consumeAll(t, b.Addr(), "metered")
	text := scrape(t, b.MetricsAddr())
	l := `{broker_id="0"}`
	if v := metricValue(t, text, "osprey_broker_messages_in_total"+l); v != 25 {
		t.Errorf("messages in = %v, want 25", v)
	}
	if v := metricValue(t, text, `osprey_broker_topic_messages_in_total{broker_id="0",topic="metered"}`); v != 25 {
		t.Errorf("topic messages in = %v, want 25", v)
	}
	if v := metricValue(t, text, `osprey_broker_topic_bytes_out_total{broker_id="0",topic="metered"}`); v < 25*4 {
		t.Errorf("topic bytes out = %v", v)
	}
	if v := metricValue(t, text, "osprey_broker_bytes_in_total"+l); v < 25*4 {
		t.Errorf("bytes in = %v", v)
	}
	if v := metricValue(t, text, "osprey_broker_bytes_out_total"+l); v <= 0 {
		t.Errorf("bytes out = %v", v)
	}
	if v := metricValue(t, text, `osprey_broker_requests_total{api="Produce",broker_id="0",error_code="0"}`); v < 1 {
		t.Errorf("produce requests = %v", v)
	}
	if v := metricValue(t, text, `osprey_broker_request_duration_seconds_count{api="Metadata",broker_id="0"}`); v < 1 {
		t.Errorf("metadata latency samples = %v", v)
	}
	// 4 __consumer_offsets partitions + 1 auto-created partition.
	if v := metricValue(t, text, "osprey_broker_partitions"+l); v != 5 {
		t.Errorf("partitions = %v, want 5", v)
	}
	if v := metricValue(t, text, "osprey_broker_under_replicated_partitions"+l); v != 0 {
		t.Errorf("under-replicated = %v, want 0", v)
	}
	// An error code is counted under its own label.
	c := dialRaw(t, b.Addr())
	c.roundTrip(produceReq("no-such-topic", 0, testBatch(-1, 0, 0, 1)), 1)
	text = scrape(t, b.MetricsAddr())
	if v := metricValue(t, text, fmt.Sprintf(`osprey_broker_requests_total{api="Produce",broker_id="0",error_code="%d"}`, errUnknownTopicOrPart)); v != 1 {
		t.Errorf("produce UNKNOWN_TOPIC_OR_PARTITION count = %v, want 1", v)
	}
}
