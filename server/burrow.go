package server

import (
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/collector"
)

// This file serves LinkedIn Burrow's v3 read API (/v3/kafka/…) with Burrow's JSON shapes and status
// names, from the latest snapshots and the alert evaluator's window of lag samples, so scripts and
// dashboards that read Burrow keep working when Osprey replaces it. docs/COMPAT.md lists where the
// answers differ from Burrow's and why.

// DefaultBurrowIntervals is the window, in samples, a partition's status is judged over (Burrow's
// storage `intervals`, whose default is also 10).
const DefaultBurrowIntervals = alert.DefaultWindowSamples

// BurrowOptions configure the Burrow-compatible API.
type BurrowOptions struct {
	// Disabled serves none of it.
	Disabled bool
	// Role is the least role a caller needs; "" leaves it open like the console's other reads (and
	// like Burrow, which has no authentication).
	Role string
	// Intervals is the window in samples (DefaultBurrowIntervals when 0).
	Intervals int
	// OffsetRefresh and TopicRefresh are shown as the cluster module's offset-refresh and
	// topic-refresh (seconds): how often Osprey polls offsets and metadata.
	OffsetRefresh, TopicRefresh time.Duration
}

// The answers, as Burrow 1.2's httpserver/structs.go and protocol package declare them.
type (
	burrowRequestInfo struct {
		URI  string `json:"url"`
		Host string `json:"host"`
	}
	burrowError struct {
		Error   bool              `json:"error"`
		Message string            `json:"message"`
		Request burrowRequestInfo `json:"request"`
	}
	burrowClusterList struct {
		Error    bool              `json:"error"`
		Message  string            `json:"message"`
		Clusters []string          `json:"clusters"`
		Request  burrowRequestInfo `json:"request"`
	}
	burrowClientProfile struct {
		Name         string `json:"name"`
		ClientID     string `json:"client-id"`
		KafkaVersion string `json:"kafka-version"`
		TLS          *struct {
			Name string `json:"name"`
		} `json:"tls"`
		SASL *struct {
			Name string `json:"name"`
		} `json:"sasl"`
	}
	burrowClusterModule struct {
		ClassName     string              `json:"class-name"`
		Servers       []string            `json:"servers"`
		ClientProfile burrowClientProfile `json:"client-profile"`
		TopicRefresh  int64               `json:"topic-refresh"`
		OffsetRefresh int64               `json:"offset-refresh"`
	}
	burrowModuleDetail struct {
		Error   bool                `json:"error"`
		Message string              `json:"message"`
		Module  burrowClusterModule `json:"module"`
		Request burrowRequestInfo   `json:"request"`
	}
	burrowTopicList struct {
		Error   bool              `json:"error"`
		Message string            `json:"message"`
		Topics  []string          `json:"topics"`
		Request burrowRequestInfo `json:"request"`
	}
	burrowTopicDetail struct {
		Error   bool              `json:"error"`
		Message string            `json:"message"`
		Offsets []int64           `json:"offsets"`
		Request burrowRequestInfo `json:"request"`
	}
	burrowConsumerList struct {
		Error     bool              `json:"error"`
		Message   string            `json:"message"`
		Consumers []string          `json:"consumers"`
		Request   burrowRequestInfo `json:"request"`
	}
	burrowOffset struct {
		Offset    int64  `json:"offset"`
		Timestamp int64  `json:"timestamp"` // Unix milliseconds
		Lag       uint64 `json:"lag"`
	}
	burrowConsumerPartition struct {
		Offsets    []*burrowOffset `json:"offsets"`
		Owner      string          `json:"owner"`
		ClientID   string          `json:"client_id"`
		CurrentLag uint64          `json:"current-lag"`
	}
	burrowConsumerDetail struct {
		Error   bool                                  `json:"error"`
		Message string                                `json:"message"`
		Topics  map[string][]*burrowConsumerPartition `json:"topics"`
		Request burrowRequestInfo                     `json:"request"`
	}
	burrowPartitionStatus struct {
		Topic      string        `json:"topic"`
		Partition  int32         `json:"partition"`
		Owner      string        `json:"owner"`
		ClientID   string        `json:"client_id"`
		Status     string        `json:"status"`
		Start      *burrowOffset `json:"start"`
		End        *burrowOffset `json:"end"`
		CurrentLag uint64        `json:"current_lag"`
		Complete   float32       `json:"complete"`
	}
	burrowGroupStatus struct {
		Cluster         string                   `json:"cluster"`
		Group           string                   `json:"group"`
		Status          string                   `json:"status"`
		Complete        float32                  `json:"complete"`
		Partitions      []*burrowPartitionStatus `json:"partitions"`
		TotalPartitions int                      `json:"partition_count"`
		Maxlag          *burrowPartitionStatus   `json:"maxlag"`
		TotalLag        uint64                   `json:"totallag"`
	}
	burrowConsumerStatus struct {
		Error   bool              `json:"error"`
		Message string            `json:"message"`
		Status  burrowGroupStatus `json:"status"`
		Request burrowRequestInfo `json:"request"`
	}
)

// burrowAPI answers the /v3/kafka routes.
type burrowAPI struct {
	s    *Server
	opts BurrowOptions
	host string
}

func (s *Server) mountBurrow(e *gin.Engine) {
	o := s.opts.Burrow
	if o.Disabled {
		return
	}
	if o.Intervals <= 0 {
		o.Intervals = DefaultBurrowIntervals
	}
	host, _ := os.Hostname() // Burrow names the answering host the same way
	b := &burrowAPI{s: s, opts: o, host: host}
	g := e.Group("/v3/kafka")
	if o.Role != "" {
		g.Use(s.require(o.Role, "burrow.read"))
	}
	g.GET("", b.clusters)
	g.GET("/:cluster", b.cluster)
	g.GET("/:cluster/topic", b.topics)
	g.GET("/:cluster/topic/:topic", b.topic)
	g.GET("/:cluster/topic/:topic/consumers", b.topicConsumers)
	g.GET("/:cluster/consumer", b.consumers)
	g.GET("/:cluster/consumer/:group", b.consumer)
	g.GET("/:cluster/consumer/:group/status", func(c *gin.Context) { b.status(c, false) })
	g.GET("/:cluster/consumer/:group/lag", func(c *gin.Context) { b.status(c, true) })
}

func (b *burrowAPI) info(c *gin.Context) burrowRequestInfo {
	return burrowRequestInfo{URI: c.Request.URL.Path, Host: b.host}
}

func (b *burrowAPI) fail(c *gin.Context, status int, msg string) {
	c.JSON(status, burrowError{Error: true, Message: msg, Request: b.info(c)})
}

// snapshot is the cluster's latest snapshot; it answers Burrow's 404 itself when there is none.
func (b *burrowAPI) snapshot(c *gin.Context, notFound string) *collector.Snapshot {
	snap, err := b.s.svc.Snapshot(c.Param("cluster"))
	if err != nil || snap == nil {
		b.fail(c, http.StatusNotFound, notFound)
		return nil
	}
	return snap
}

func (b *burrowAPI) clusters(c *gin.Context) {
	names := []string{}
	for _, sum := range b.s.svc.Clusters() {
		names = append(names, sum.Name)
	}
	c.JSON(http.StatusOK, burrowClusterList{Message: "cluster list returned", Clusters: names, Request: b.info(c)})
}

func (b *burrowAPI) cluster(c *gin.Context) {
	for _, sum := range b.s.svc.Clusters() {
		if sum.Name != c.Param("cluster") {
			continue
		}
		servers := sum.BootstrapServers
		if servers == nil {
			servers = []string{}
		}
		c.JSON(http.StatusOK, burrowModuleDetail{Message: "cluster module detail returned", Request: b.info(c),
			Module: burrowClusterModule{ClassName: "kafka", Servers: servers,
				ClientProfile: burrowClientProfile{Name: "osprey", ClientID: "osprey"},
				TopicRefresh:  int64(b.opts.TopicRefresh / time.Second), OffsetRefresh: int64(b.opts.OffsetRefresh / time.Second)}})
		return
	}
	b.fail(c, http.StatusNotFound, "cluster module not found")
}

func (b *burrowAPI) topics(c *gin.Context) {
	snap := b.snapshot(c, "cluster not found")
	if snap == nil {
		return
	}
	names := make([]string, 0, len(snap.Topics))
	for _, t := range snap.Topics {
		names = append(names, t.Name)
	}
	c.JSON(http.StatusOK, burrowTopicList{Message: "topic list returned", Topics: names, Request: b.info(c)})
}

func (b *burrowAPI) topic(c *gin.Context) {
	snap := b.snapshot(c, "cluster or topic not found")
	if snap == nil {
		return
	}
	t, ok := snap.Topic(c.Param("topic"))
	if !ok {
		b.fail(c, http.StatusNotFound, "cluster or topic not found")
		return
	}
	offsets := make([]int64, 0, len(t.Partitions))
	for _, p := range t.Partitions {
		offsets = append(offsets, p.EndOffset)
	}
	c.JSON(http.StatusOK, burrowTopicDetail{Message: "topic offsets returned", Offsets: offsets, Request: b.info(c)})
}

func (b *burrowAPI) topicConsumers(c *gin.Context) {
	snap := b.snapshot(c, "cluster not found")
	if snap == nil {
		return
	}
	topic := c.Param("topic")
	names := []string{}
	for i := range snap.Groups {
		for _, gt := range snap.Groups[i].Topics {
			if gt.Topic == topic && committedAny(gt) {
				names = append(names, snap.Groups[i].Name)
				break
			}
		}
	}
	c.JSON(http.StatusOK, burrowConsumerList{Message: "consumers of topic returned", Consumers: names, Request: b.info(c)})
}

// committedAny: Burrow learns of a group from its commits, so a group shows on a topic only once it
// committed an offset there.
func committedAny(gt collector.GroupTopic) bool {
	for _, p := range gt.Partitions {
		if p.Committed >= 0 {
			return true
		}
	}
	return false
}

func burrowKnows(g *collector.Group) bool {
	for _, gt := range g.Topics {
		if committedAny(gt) {
			return true
		}
	}
	return false
}

func (b *burrowAPI) consumers(c *gin.Context) {
	snap := b.snapshot(c, "cluster not found")
	if snap == nil {
		return
	}
	names := []string{}
	for i := range snap.Groups {
		if burrowKnows(&snap.Groups[i]) {
			names = append(names, snap.Groups[i].Name)
		}
	}
	c.JSON(http.StatusOK, burrowConsumerList{Message: "consumer list returned", Consumers: names, Request: b.info(c)})
}

// group is the named group when Burrow would know it; it answers the 404 itself otherwise.
func (b *burrowAPI) group(c *gin.Context) (*collector.Snapshot, *collector.Group) {
	snap := b.snapshot(c, "cluster or consumer not found")
	if snap == nil {
		return nil, nil
	}
	g, ok := snap.Group(c.Param("group"))
	if !ok || !burrowKnows(g) {
		b.fail(c, http.StatusNotFound, "cluster or consumer not found")
		return nil, nil
	}
	return snap, g
}

func (b *burrowAPI) consumer(c *gin.Context) {
	snap, g := b.group(c)
	if g == nil {
		return
	}
	w := b.window(snap.Cluster.Name, g)
	topics := map[string][]*burrowConsumerPartition{}
	for _, gt := range g.Topics {
		if !committedAny(gt) {
			continue
		}
		n := len(gt.Partitions)
		if t, ok := snap.Topic(gt.Topic); ok {
			n = max(n, len(t.Partitions))
		}
		// Indexed by partition id, as Burrow's array is.
		parts := make([]*burrowConsumerPartition, n)
		for i := range parts {
			parts[i] = &burrowConsumerPartition{Offsets: make([]*burrowOffset, b.opts.Intervals)}
		}
		for _, p := range gt.Partitions {
			if int(p.Partition) >= n {
				continue
			}
			cp := parts[p.Partition]
			cp.Owner, cp.ClientID = memberOf(g, p.Member)
			cp.CurrentLag = currentLag(p)
			cp.Offsets = w.offsets(gt.Topic, p.Partition, b.opts.Intervals)
		}
		topics[gt.Topic] = parts
	}
	c.JSON(http.StatusOK, burrowConsumerDetail{Message: "consumer detail returned", Topics: topics, Request: b.info(c)})
}

func (b *burrowAPI) status(c *gin.Context, all bool) {
	cluster, name := c.Param("cluster"), c.Param("group")
	snap, err := b.s.svc.Snapshot(cluster)
	var g *collector.Group
	if err == nil && snap != nil {
		if found, ok := snap.Group(name); ok && burrowKnows(found) {
			g = found
		}
	}
	if g == nil {
		// Burrow answers an unknown group with a NOTFOUND status (and 404), not with an error.
		c.JSON(http.StatusNotFound, burrowConsumerStatus{Message: "consumer status returned", Request: b.info(c),
			Status: burrowGroupStatus{Cluster: cluster, Group: name, Status: "NOTFOUND", Complete: 1,
				Partitions: []*burrowPartitionStatus{}}})
		return
	}
	st := b.evaluate(cluster, g)
	if !all { // /status lists only the partitions that are not OK
		bad := []*burrowPartitionStatus{}
		for _, p := range st.Partitions {
			if p.Status != "OK" {
				bad = append(bad, p)
			}
		}
		st.Partitions = bad
	}
	c.JSON(http.StatusOK, burrowConsumerStatus{Message: "consumer status returned", Status: st, Request: b.info(c)})
}

// evaluate is Burrow's group status from Osprey's per-partition evaluation: the group is the worst
// partition (STOP, STALL and REWIND count as ERR), complete is the share of partitions with a full
// window, maxlag the partition with the largest current lag.
func (b *burrowAPI) evaluate(cluster string, g *collector.Group) burrowGroupStatus {
	w := b.window(cluster, g)
	st := burrowGroupStatus{Cluster: cluster, Group: g.Name, Partitions: []*burrowPartitionStatus{}}
	worst, complete := alert.StatusOK, 0
	for _, gt := range g.Topics {
		if !committedAny(gt) {
			continue
		}
		for _, p := range gt.Partitions {
			ps := &burrowPartitionStatus{Topic: gt.Topic, Partition: p.Partition, Status: "OK", CurrentLag: currentLag(p)}
			ps.Owner, ps.ClientID = memberOf(g, p.Member)
			if h, ok := w.parts[gtp{gt.Topic, p.Partition}]; ok && len(h.Samples) > 0 {
				ps.Status = h.Status.String()
				worst = max(worst, h.Status)
				ps.Start, ps.End = burrowSample(h.Samples[0]), burrowSample(h.Samples[len(h.Samples)-1])
				ps.Complete = min(float32(len(h.Samples))/float32(b.opts.Intervals), 1)
			}
			if ps.Complete == 1 {
				complete++
			}
			st.TotalLag += ps.CurrentLag
			if st.Maxlag == nil || ps.CurrentLag > st.Maxlag.CurrentLag {
				st.Maxlag = ps
			}
			st.Partitions = append(st.Partitions, ps)
		}
	}
	st.TotalPartitions = len(st.Partitions)
	st.Status = alert.GroupStatusName(worst)
	if st.TotalPartitions > 0 {
		st.Complete = float32(complete) / float32(st.TotalPartitions)
	}
	return st
}

type gtp struct {
	topic     string
	partition int32
}

// groupWindow is a group's evaluated window per partition.
type groupWindow struct {
	parts map[gtp]alert.PartitionHistory
}

func (b *burrowAPI) window(cluster string, g *collector.Group) groupWindow {
	w := groupWindow{parts: map[gtp]alert.PartitionHistory{}}
	if b.s.opts.Alerts == nil {
		return w
	}
	hist, _ := b.s.opts.Alerts.GroupHistory(cluster, g.Name, b.opts.Intervals)
	for _, h := range hist {
		w.parts[gtp{h.Topic, h.Partition}] = h
	}
	return w
}

// offsets is Burrow's ring of a partition's offsets: intervals slots, oldest first, unfilled slots
// null at the start.
func (w groupWindow) offsets(topic string, partition int32, intervals int) []*burrowOffset {
	out := make([]*burrowOffset, intervals)
	h := w.parts[gtp{topic, partition}].Samples
	if len(h) > intervals {
		h = h[len(h)-intervals:]
	}
	for i, s := range h {
		out[intervals-len(h)+i] = burrowSample(s)
	}
	return out
}

func burrowSample(s alert.LagSample) *burrowOffset {
	return &burrowOffset{Offset: s.Committed, Timestamp: s.At.UnixMilli(), Lag: uint64(max(s.Lag, 0))}
}

// currentLag is Burrow's current lag: unsigned, zero when unknown or when the committed offset is
// ahead of the last end offset seen.
func currentLag(p collector.GroupPartition) uint64 {
	if p.Committed < 0 || p.End < 0 || p.Lag < 0 {
		return 0
	}
	return uint64(p.Lag)
}

// memberOf is Burrow's owner (the member's client host) and client id of the member assigned a partition.
func memberOf(g *collector.Group, id string) (owner, clientID string) {
	if id == "" {
		return "", ""
	}
	for _, m := range g.Members {
		if m.ID == id {
			return m.ClientHost, m.ClientID
		}
	}
	return "", ""
}
