package server

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/server/endpoints/events"
	"github.com/osprey-kafka/osprey/server/service"
)

// This file gathers what GET /metrics (the health area) serves: the console's own metrics (HTTP,
// Go runtime, process) and the collected cluster figures, read from the latest snapshots at scrape
// time (no Kafka call), in a registry owned by the Server so that several Servers (tests) never
// share series.

// extras is the Server's metrics registry and event hub, built in New.
type extras struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	hub      *events.Hub
	kx       *kafkaExporter
}

func (s *Server) ext() *extras { return s.extras }

func newExtras(s *Server) *extras {
	x := &extras{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "osprey_http_requests_total", Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "osprey_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern (event streams excluded).",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		hub: events.NewHub(s.opts.Logger),
	}
	x.reg.MustRegister(x.requests, x.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&clusterCollector{svc: s.svc, limits: defaultSeriesLimits},
		x.hub.Metrics())
	x.reg.MustRegister(databaseMetrics(s.svc)...)
	x.kx = newKafkaExporter(s.svc, s.opts.KafkaExporter)
	x.reg.MustRegister(x.kx.dropped)
	if s.opts.KafkaExporter.merged() {
		x.reg.MustRegister(&kxCollector{kx: x.kx, d: x.kx.labelled})
	}
	return x
}

// databaseMetrics report the console's database as its sample writes see it (all zero without one).
func databaseMetrics(svc *service.Service) []prometheus.Collector {
	status := func() service.DatabaseStatus {
		if st := svc.DatabaseStatus(); st != nil {
			return *st
		}
		return service.DatabaseStatus{Available: true}
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "osprey_database_available",
			Help: "1 while the console's writes reach its database, 0 while they fail."}, func() float64 {
			if status().Available {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "osprey_samples_buffered",
			Help: "Cycles of time-series samples waiting in memory for the database."}, func() float64 { return float64(status().Buffered) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "osprey_samples_dropped_total",
			Help: "Cycles of time-series samples dropped because the buffer was full while the database did not answer."},
			func() float64 { return float64(status().Dropped) }),
	}
}

// knownMethods bounds the method label: anything else is "other".
var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

// metricsMiddleware counts and times every request by its route pattern (never the raw path, which
// would make a series per topic name). Install it with engine.Use before the routes.
func (s *Server) metricsMiddleware() gin.HandlerFunc {
	x := s.ext()
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		method := c.Request.Method
		if !knownMethods[method] {
			method = "other"
		}
		x.requests.WithLabelValues(method, route, strconv.Itoa(c.Writer.Status())).Inc()
		if route != events.Route {
			x.latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		}
	}
}

// seriesLimits bound the per-cluster series of the cluster collector, so a cluster with 100,000
// topics or 5,000 groups cannot flood Prometheus. Topics and group×topic pairs are taken in name
// order (stable between scrapes); osprey_metrics_series_dropped says how many were left out.
type seriesLimits struct {
	topics      int
	groups      int
	groupTopics int
}

var defaultSeriesLimits = seriesLimits{topics: 2000, groups: 5000, groupTopics: 10000}

// clusterCollector turns every cluster's latest snapshot into metrics at scrape time.
type clusterCollector struct {
	svc    *service.Service
	limits seriesLimits
}

func metricDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("osprey_"+name, help, labels, nil)
}

var (
	dClusterUp       = metricDesc("cluster_snapshot_available", "1 when the cluster has been polled at least once.", "cluster")
	dPartial         = metricDesc("cluster_poll_partial", "1 when part of the last poll failed.", "cluster")
	dPollDuration    = metricDesc("cluster_poll_duration_seconds", "Duration of the last poll cycle.", "cluster")
	dLastPoll        = metricDesc("cluster_last_poll_timestamp_seconds", "Unix time of the last poll.", "cluster")
	dSequence        = metricDesc("cluster_snapshot_sequence", "Sequence number of the latest snapshot.", "cluster")
	dBrokers         = metricDesc("cluster_brokers", "Brokers known.", "cluster")
	dBrokersUp       = metricDesc("cluster_brokers_up", "Brokers up.", "cluster")
	dController      = metricDesc("cluster_controller_id", "Id of the active controller (-1 unknown).", "cluster")
	dTopics          = metricDesc("cluster_topics", "Topics.", "cluster")
	dPartitions      = metricDesc("cluster_partitions", "Partitions.", "cluster")
	dUnderReplicated = metricDesc("cluster_under_replicated_partitions", "Partitions whose ISR is smaller than their replica set.", "cluster")
	dOffline         = metricDesc("cluster_offline_partitions", "Partitions without a leader.", "cluster")
	dUnderMinISR     = metricDesc("cluster_under_min_isr_partitions", "Partitions whose ISR is below min.insync.replicas.", "cluster")
	dClusterMsgs     = metricDesc("cluster_messages_per_second", "Messages produced per second over the cluster.", "cluster")
	dClusterBytes    = metricDesc("cluster_bytes_per_second", "Bytes written per second over the cluster.", "cluster")
	dClusterLag      = metricDesc("cluster_consumer_lag", "Sum of every group's lag.", "cluster")
	dBrokerUp        = metricDesc("broker_up", "1 when the broker answered the last poll.", "cluster", "broker")
	dBrokerLeaders   = metricDesc("broker_leader_partitions", "Partitions the broker leads.", "cluster", "broker")
	dBrokerReplicas  = metricDesc("broker_replica_partitions", "Replicas the broker holds.", "cluster", "broker")
	dBrokerLogBytes  = metricDesc("broker_log_dir_bytes", "Bytes in the broker's log directories.", "cluster", "broker")
	dTopicPartitions = metricDesc("topic_partitions", "Partitions of the topic.", "cluster", "topic")
	dTopicUnderRepl  = metricDesc("topic_under_replicated_partitions", "Under-replicated partitions of the topic.", "cluster", "topic")
	dTopicMsgs       = metricDesc("topic_messages_per_second", "Messages produced per second to the topic.", "cluster", "topic")
	dTopicBytes      = metricDesc("topic_bytes_per_second", "Bytes written per second to the topic.", "cluster", "topic")
	dTopicLeaderSkew = metricDesc("topic_leader_skew_percent", "Leader skew of the topic (CMAK definition).", "cluster", "topic")
	dGroupLag        = metricDesc("group_lag", "Messages the group has not consumed, per topic.", "cluster", "group", "topic")
	dGroupLagSeconds = metricDesc("group_lag_seconds", "Estimated seconds the group is behind, per topic.", "cluster", "group", "topic")
	dGroupTotalLag   = metricDesc("group_total_lag", "Messages the group has not consumed, over its topics.", "cluster", "group")
	dGroupMembers    = metricDesc("group_members", "Members of the group.", "cluster", "group")
	dDroppedSeries   = metricDesc("metrics_series_dropped", "Series left out of this scrapeMetrics by the cardinality bounds.", "cluster", "kind")
	allDescs         = []*prometheus.Desc{dClusterUp, dPartial, dPollDuration, dLastPoll, dSequence, dBrokers, dBrokersUp,
		dController, dTopics, dPartitions, dUnderReplicated, dOffline, dUnderMinISR, dClusterMsgs, dClusterBytes, dClusterLag,
		dBrokerUp, dBrokerLeaders, dBrokerReplicas, dBrokerLogBytes, dTopicPartitions, dTopicUnderRepl, dTopicMsgs, dTopicBytes,
		dTopicLeaderSkew, dGroupLag, dGroupLagSeconds, dGroupTotalLag, dGroupMembers, dDroppedSeries}
)

func (cc *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect reads snapshots only; it never blocks on a cluster.
func (cc *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	for _, sum := range cc.svc.Clusters() {
		snap, err := cc.svc.Snapshot(sum.Name)
		if err != nil { // removed between the two calls
			continue
		}
		if snap == nil {
			ch <- constGauge(dClusterUp, 0, sum.Name)
			continue
		}
		ch <- constGauge(dClusterUp, 1, sum.Name)
		cc.collectSnapshot(ch, sum.Name, snap)
	}
}

func constGauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (cc *clusterCollector) collectSnapshot(ch chan<- prometheus.Metric, name string, snap *collector.Snapshot) {
	t := snap.Totals
	ci := snap.Cluster
	ch <- constGauge(dPartial, boolValue(ci.Partial), name)
	ch <- constGauge(dPollDuration, ci.PollDuration.Seconds(), name)
	ch <- constGauge(dLastPoll, float64(ci.LastPoll.UnixMilli())/1000, name)
	ch <- constGauge(dSequence, float64(ci.Sequence), name)
	ch <- constGauge(dBrokers, float64(t.Brokers), name)
	ch <- constGauge(dBrokersUp, float64(t.BrokersUp), name)
	ch <- constGauge(dController, float64(ci.Controller), name)
	ch <- constGauge(dTopics, float64(t.Topics), name)
	ch <- constGauge(dPartitions, float64(t.Partitions), name)
	ch <- constGauge(dUnderReplicated, float64(t.UnderReplicated), name)
	ch <- constGauge(dOffline, float64(t.Offline), name)
	ch <- constGauge(dUnderMinISR, float64(t.UnderMinISR), name)
	ch <- constGauge(dClusterMsgs, t.MsgsPerSec, name)
	ch <- constGauge(dClusterBytes, t.BytesPerSec, name)
	ch <- constGauge(dClusterLag, float64(t.Lag), name)
	for _, b := range snap.Brokers {
		id := strconv.Itoa(int(b.ID))
		ch <- constGauge(dBrokerUp, boolValue(b.Up), name, id)
		ch <- constGauge(dBrokerLeaders, float64(b.Leaders), name, id)
		ch <- constGauge(dBrokerReplicas, float64(b.Replicas), name, id)
		if b.LogDirBytes >= 0 {
			ch <- constGauge(dBrokerLogBytes, float64(b.LogDirBytes), name, id)
		}
	}
	topics := snap.Topics
	if dropped := len(topics) - cc.limits.topics; dropped > 0 {
		topics = topics[:cc.limits.topics]
		ch <- constGauge(dDroppedSeries, float64(dropped), name, "topic")
	}
	for _, tp := range topics {
		ch <- constGauge(dTopicPartitions, float64(len(tp.Partitions)), name, tp.Name)
		ch <- constGauge(dTopicUnderRepl, float64(tp.UnderReplicated), name, tp.Name)
		ch <- constGauge(dTopicMsgs, tp.MsgsPerSec, name, tp.Name)
		ch <- constGauge(dTopicBytes, tp.BytesPerSec, name, tp.Name)
		ch <- constGauge(dTopicLeaderSkew, tp.LeaderSkew, name, tp.Name)
	}
	groups := snap.Groups
	if n := len(groups) - cc.limits.groups; n > 0 {
		groups = groups[:cc.limits.groups]
		ch <- constGauge(dDroppedSeries, float64(n), name, "group")
	}
	budget, dropped := cc.limits.groupTopics, 0
	for _, g := range groups {
		if g.TotalLag >= 0 { // -1 is "unknown": no sample, rather than a -1 lag
			ch <- constGauge(dGroupTotalLag, float64(g.TotalLag), name, g.Name)
		}
		ch <- constGauge(dGroupMembers, float64(len(g.Members)), name, g.Name)
		for _, gt := range g.Topics {
			if budget == 0 {
				dropped++
				continue
			}
			budget--
			if gt.Lag >= 0 { // unknown: no sample
				ch <- constGauge(dGroupLag, float64(gt.Lag), name, g.Name, gt.Topic)
				ch <- constGauge(dGroupLagSeconds, gt.LagSeconds, name, g.Name, gt.Topic)
			}
		}
	}
	if dropped > 0 {
		ch <- constGauge(dDroppedSeries, float64(dropped), name, "group_topic")
	}
}
