package broker

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// brokerMetrics are one broker's Prometheus metrics, in a registry of its
// own so that several brokers can live in one process.
type brokerMetrics struct {
	reg *prometheus.Registry

	bytesIn, bytesOut prometheus.Counter
	messagesIn        prometheus.Counter
	topicBytesIn      *prometheus.CounterVec
	topicMessagesIn   *prometheus.CounterVec
	topicBytesOut     *prometheus.CounterVec
	requests          *prometheus.CounterVec
	latency           *prometheus.HistogramVec
	partitions        prometheus.Gauge
	connections       prometheus.Gauge
	groups            prometheus.Gauge
	// Client quota throttling (quota.go), by quota (produce, fetch), user
	// and client id: what a console shows as "principal being throttled".
	throttleSeconds   *prometheus.CounterVec
	throttledRequests *prometheus.CounterVec
	// sec keeps the same authentication and throttle counts as plain numbers, for
	// Broker.SecurityStats (security_stats.go).
	sec *securityStats
}

func newBrokerMetrics(brokerID int32) *brokerMetrics {
	labels := prometheus.Labels{"broker_id": strconv.Itoa(int(brokerID))}
	f := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "osprey", Subsystem: "broker", Name: name, Help: help, ConstLabels: labels}
	}
	m := &brokerMetrics{
		sec:             &securityStats{},
		reg:             prometheus.NewRegistry(),
		bytesIn:         prometheus.NewCounter(prometheus.CounterOpts(f("bytes_in_total", "Bytes received from clients (whole frames)."))),
		bytesOut:        prometheus.NewCounter(prometheus.CounterOpts(f("bytes_out_total", "Bytes sent to clients (whole frames)."))),
		messagesIn:      prometheus.NewCounter(prometheus.CounterOpts(f("messages_in_total", "Records appended by producers."))),
		topicBytesIn:    prometheus.NewCounterVec(prometheus.CounterOpts(f("topic_bytes_in_total", "Record bytes appended, by topic.")), []string{"topic"}),
		topicMessagesIn: prometheus.NewCounterVec(prometheus.CounterOpts(f("topic_messages_in_total", "Records appended, by topic.")), []string{"topic"}),
		topicBytesOut:   prometheus.NewCounterVec(prometheus.CounterOpts(f("topic_bytes_out_total", "Record bytes sent to fetchers, by topic.")), []string{"topic"}),
		requests:        prometheus.NewCounterVec(prometheus.CounterOpts(f("requests_total", "Requests answered, by API and error code (a request with several partition errors counts once per distinct code).")), []string{"api", "error_code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "osprey", Subsystem: "broker",
			Name: "request_duration_seconds", Help: "Time from request read to response queued, by API.", ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"api"}),
		partitions:  prometheus.NewGauge(prometheus.GaugeOpts(f("partitions", "Partition replicas hosted by this broker."))),
		connections: prometheus.NewGauge(prometheus.GaugeOpts(f("connections", "Open client connections."))),
		groups:      prometheus.NewGauge(prometheus.GaugeOpts(f("consumer_groups", "Consumer groups coordinated by this broker."))),
		throttleSeconds: prometheus.NewCounterVec(prometheus.CounterOpts(f("client_quota_throttle_seconds_total",
			"Throttle time given to clients over their quota, by quota (produce, fetch), user and client id.")), []string{"quota", "user", "client_id"}),
		throttledRequests: prometheus.NewCounterVec(prometheus.CounterOpts(f("client_quota_throttled_requests_total",
			"Requests throttled for going over a client quota, by quota (produce, fetch), user and client id.")), []string{"quota", "user", "client_id"}),
	}
	m.reg.MustRegister(m.bytesIn, m.bytesOut, m.messagesIn, m.topicBytesIn, m.topicMessagesIn, m.topicBytesOut, m.requests, m.latency,
		m.partitions, m.connections, m.groups, m.throttleSeconds, m.throttledRequests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// registerClusterGauges adds gauges computed from the cluster view at
// scrape time.
func (m *brokerMetrics) registerClusterGauges(brokerID int32, view func() ClusterView) {
	labels := prometheus.Labels{"broker_id": strconv.Itoa(int(brokerID))}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "osprey", Subsystem: "broker",
		Name: "under_replicated_partitions", Help: "Partitions led by this broker whose ISR is smaller than the replica set.",
		ConstLabels: labels}, func() float64 {
		v := view()
		if v == nil {
			return 0
		}
		n := 0
		for _, t := range v.Topics() {
			for _, p := range t.Partitions {
				if p.Leader == brokerID && len(p.ISR) < len(p.Replicas) {
					n++
				}
			}
		}
		return float64(n)
	}))
}

// observeThrottle counts one throttled request and its throttle time.
func (m *brokerMetrics) observeThrottle(quota, user, clientID string, d time.Duration) {
	m.throttleSeconds.WithLabelValues(quota, user, clientID).Add(d.Seconds())
	m.throttledRequests.WithLabelValues(quota, user, clientID).Inc()
	m.sec.throttled(user, clientID, d)
}
