package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/server/service"
)

// This file serves the metric families danielqsj/kafka_exporter publishes (kafka_brokers,
// kafka_topic_partition_*, kafka_consumergroup_* …) with its names, help texts and label order, read
// from the same snapshots as the osprey_* families, so Grafana dashboards and alert rules written for
// kafka_exporter keep working when Osprey replaces it.

// DefaultKafkaExporterPath is where the kafka_exporter-compatible families are served unless
// configured otherwise.
const DefaultKafkaExporterPath = "/metrics/kafka-exporter"

// DefaultKafkaExporterMaxSeries bounds one scrape of the kafka_exporter-compatible families.
const DefaultKafkaExporterMaxSeries = 200000

// KafkaExporterOptions configure the kafka_exporter-compatible metrics.
type KafkaExporterOptions struct {
	// Disabled serves none of them.
	Disabled bool
	// Path is where they are served (DefaultKafkaExporterPath when empty); "/metrics" merges them
	// into the console's own /metrics.
	Path string
	// ClusterLabel names the label that carries the cluster's name when several clusters are served
	// in one scrape (kafka_exporter's `--kafka.labels cluster=<name>`); "cluster" when empty. A scrape
	// of Path?cluster=<name> serves that cluster alone without it, exactly as kafka_exporter does.
	ClusterLabel string
	// MaxSeries bounds the series of one scrape (DefaultKafkaExporterMaxSeries when 0); what the
	// bound leaves out is counted in osprey_kafka_exporter_series_dropped_total.
	MaxSeries int
}

func (o KafkaExporterOptions) withDefaults() KafkaExporterOptions {
	if o.Path == "" {
		o.Path = DefaultKafkaExporterPath
	}
	if o.ClusterLabel == "" {
		o.ClusterLabel = "cluster"
	}
	if o.MaxSeries <= 0 {
		o.MaxSeries = DefaultKafkaExporterMaxSeries
	}
	return o
}

// merged reports whether the families go into /metrics instead of a path of their own.
func (o KafkaExporterOptions) merged() bool {
	return !o.Disabled && o.withDefaults().Path == "/metrics"
}

// kxDescs are one label layout's descriptors: with the cluster label first, or without it.
type kxDescs struct {
	brokers, brokerInfo, topicPartitions, currentOffset, oldestOffset, leader, replicas, isr,
	preferred, underReplicated, groupOffset, groupOffsetSum, groupLag, groupLagSum, groupMembers *prometheus.Desc
}

func newKXDescs(clusterLabel string) *kxDescs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		if clusterLabel != "" {
			labels = append([]string{clusterLabel}, labels...)
		}
		return prometheus.NewDesc(name, help, labels, nil)
	}
	// Names, help texts and label order as kafka_exporter.go declares them.
	return &kxDescs{
		brokers:         d("kafka_brokers", "Number of Brokers in the Kafka Cluster."),
		brokerInfo:      d("kafka_broker_info", "Information about the Kafka Broker.", "id", "address"),
		topicPartitions: d("kafka_topic_partitions", "Number of partitions for this Topic", "topic"),
		currentOffset:   d("kafka_topic_partition_current_offset", "Current Offset of a Broker at Topic/Partition", "topic", "partition"),
		oldestOffset:    d("kafka_topic_partition_oldest_offset", "Oldest Offset of a Broker at Topic/Partition", "topic", "partition"),
		leader:          d("kafka_topic_partition_leader", "Leader Broker ID of this Topic/Partition", "topic", "partition"),
		replicas:        d("kafka_topic_partition_replicas", "Number of Replicas for this Topic/Partition", "topic", "partition"),
		isr:             d("kafka_topic_partition_in_sync_replica", "Number of In-Sync Replicas for this Topic/Partition", "topic", "partition"),
		preferred:       d("kafka_topic_partition_leader_is_preferred", "1 if Topic/Partition is using the Preferred Broker", "topic", "partition"),
		underReplicated: d("kafka_topic_partition_under_replicated_partition", "1 if Topic/Partition is under Replicated", "topic", "partition"),
		groupOffset:     d("kafka_consumergroup_current_offset", "Current Offset of a ConsumerGroup at Topic/Partition", "consumergroup", "topic", "partition"),
		groupOffsetSum:  d("kafka_consumergroup_current_offset_sum", "Current Offset of a ConsumerGroup at Topic for all partitions", "consumergroup", "topic"),
		groupLag:        d("kafka_consumergroup_lag", "Current Approximate Lag of a ConsumerGroup at Topic/Partition", "consumergroup", "topic", "partition"),
		groupLagSum:     d("kafka_consumergroup_lag_sum", "Current Approximate Lag of a ConsumerGroup at Topic for all partitions", "consumergroup", "topic"),
		groupMembers:    d("kafka_consumergroup_members", "Amount of members in a consumer group", "consumergroup"),
	}
}

func (d *kxDescs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.brokers, d.brokerInfo, d.topicPartitions, d.currentOffset, d.oldestOffset, d.leader,
		d.replicas, d.isr, d.preferred, d.underReplicated, d.groupOffset, d.groupOffsetSum, d.groupLag, d.groupLagSum, d.groupMembers}
}

// kafkaExporter holds what every scrape shares: the two label layouts and the drop counter.
type kafkaExporter struct {
	svc      *service.Service
	opts     KafkaExporterOptions
	labelled *kxDescs // every cluster, each series with the cluster label
	bare     *kxDescs // one cluster, kafka_exporter's own labels
	// dropped is registered in the console's registry (/metrics) and on the compat path.
	dropped *prometheus.CounterVec
}

func newKafkaExporter(svc *service.Service, opts KafkaExporterOptions) *kafkaExporter {
	opts = opts.withDefaults()
	return &kafkaExporter{
		svc: svc, opts: opts, labelled: newKXDescs(opts.ClusterLabel), bare: newKXDescs(""),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "osprey_kafka_exporter_series_dropped_total",
			Help: "kafka_exporter-compatible series left out of scrapes by the series bound (compat.kafkaExporter.maxSeries), by cluster.",
		}, []string{"cluster"}),
	}
}

// kxCollector is one scrape's view: every cluster (labelled) or one (bare).
type kxCollector struct {
	kx      *kafkaExporter
	d       *kxDescs
	cluster string // "" for every cluster
}

func (c *kxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.d.all() {
		ch <- d
	}
}

// Collect reads snapshots only; it never blocks on a cluster.
func (c *kxCollector) Collect(ch chan<- prometheus.Metric) {
	e := &kxEmitter{ch: ch, budget: c.kx.opts.MaxSeries}
	names := []string{c.cluster}
	if c.cluster == "" {
		names = names[:0]
		for _, sum := range c.kx.svc.Clusters() {
			names = append(names, sum.Name)
		}
	}
	for _, name := range names {
		snap, err := c.kx.svc.Snapshot(name)
		if err != nil || snap == nil { // removed meanwhile, or never polled: no figures to give
			continue
		}
		e.dropped = 0
		if c.cluster == "" {
			e.prefix = []string{name}
		}
		c.collectSnapshot(e, snap)
		if e.dropped > 0 {
			c.kx.dropped.WithLabelValues(name).Add(float64(e.dropped))
		}
	}
}

// kxEmitter sends gauges until the scrape's budget is spent, then counts what it leaves out.
type kxEmitter struct {
	ch      chan<- prometheus.Metric
	prefix  []string // the cluster label's value, or nothing
	budget  int
	dropped int
}

func (e *kxEmitter) gauge(d *prometheus.Desc, v float64, labels ...string) {
	if e.budget <= 0 {
		e.dropped++
		return
	}
	e.budget--
	if len(e.prefix) > 0 {
		labels = append(append(make([]string, 0, len(labels)+1), e.prefix...), labels...)
	}
	e.ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func (c *kxCollector) collectSnapshot(e *kxEmitter, snap *collector.Snapshot) {
	d := c.d
	up := 0
	for _, b := range snap.Brokers {
		if b.Up {
			up++
		}
	}
	// kafka_exporter counts and lists the brokers its client knows from metadata: the live ones.
	e.gauge(d.brokers, float64(up))
	for _, b := range snap.Brokers {
		if b.Up {
			e.gauge(d.brokerInfo, 1, strconv.Itoa(int(b.ID)), b.Host+":"+strconv.Itoa(int(b.Port)))
		}
	}
	for i := range snap.Topics {
		c.collectTopic(e, &snap.Topics[i])
	}
	for i := range snap.Groups {
		c.collectGroup(e, &snap.Groups[i])
	}
}

func (c *kxCollector) collectTopic(e *kxEmitter, t *collector.Topic) {
	d := c.d
	e.gauge(d.topicPartitions, float64(len(t.Partitions)), t.Name)
	for _, p := range t.Partitions {
		part := strconv.Itoa(int(p.Partition))
		if p.Leader >= 0 {
			e.gauge(d.leader, float64(p.Leader), t.Name, part)
		}
		// Offsets the poll could not read are left out, as kafka_exporter leaves out what it failed to get.
		if p.EndOffset >= 0 {
			e.gauge(d.currentOffset, float64(p.EndOffset), t.Name, part)
		}
		if p.StartOffset >= 0 {
			e.gauge(d.oldestOffset, float64(p.StartOffset), t.Name, part)
		}
		e.gauge(d.replicas, float64(len(p.Replicas)), t.Name, part)
		e.gauge(d.isr, float64(len(p.ISR)), t.Name, part)
		e.gauge(d.preferred, boolValue(p.Leader >= 0 && len(p.Replicas) > 0 && p.Leader == p.Replicas[0]), t.Name, part)
		e.gauge(d.underReplicated, boolValue(len(p.ISR) < len(p.Replicas)), t.Name, part)
	}
}

func (c *kxCollector) collectGroup(e *kxEmitter, g *collector.Group) {
	d := c.d
	e.gauge(d.groupMembers, float64(len(g.Members)), g.Name)
	for _, gt := range g.Topics {
		// kafka_exporter skips a topic on which the group has no committed offset at all.
		consumed := false
		for _, p := range gt.Partitions {
			consumed = consumed || p.Committed >= 0
		}
		if !consumed {
			continue
		}
		var offsetSum, lagSum int64
		for _, p := range gt.Partitions {
			part := strconv.Itoa(int(p.Partition))
			offsetSum += p.Committed
			e.gauge(d.groupOffset, float64(p.Committed), g.Name, gt.Topic, part)
			switch {
			case p.Committed < 0: // no commit on this partition: kafka_exporter reports -1
				e.gauge(d.groupLag, -1, g.Name, gt.Topic, part)
			case p.End >= 0 && p.Lag >= 0:
				lagSum += p.Lag
				e.gauge(d.groupLag, float64(p.Lag), g.Name, gt.Topic, part)
			}
		}
		e.gauge(d.groupOffsetSum, float64(offsetSum), g.Name, gt.Topic)
		e.gauge(d.groupLagSum, float64(lagSum), g.Name, gt.Topic)
	}
}

// handler answers the compat path: every cluster with the cluster label, or ?cluster=<name> alone
// with kafka_exporter's own labels.
func (kx *kafkaExporter) handler(s *Server) gin.HandlerFunc {
	all := prometheus.NewRegistry()
	all.MustRegister(&kxCollector{kx: kx, d: kx.labelled}, kx.dropped)
	allHandler := promhttp.HandlerFor(all, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: slogPrinter{s}})
	return func(c *gin.Context) {
		name := c.Query("cluster")
		if name == "" {
			allHandler.ServeHTTP(c.Writer, c.Request)
			return
		}
		if _, err := kx.svc.Snapshot(name); err != nil {
			writeError(c, http.StatusNotFound, "cluster_not_found", "no cluster named "+strconv.Quote(name))
			return
		}
		// A registry per request: the descriptors are the same, the cluster differs.
		one := prometheus.NewRegistry()
		one.MustRegister(&kxCollector{kx: kx, d: kx.bare, cluster: name}, kx.dropped)
		promhttp.HandlerFor(one, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: slogPrinter{s}}).
			ServeHTTP(c.Writer, c.Request)
	}
}
