package alert

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/collector"
)

// finding is one subject for which a rule's condition holds (or, when
// unknown is set, whose data is missing this cycle so its state is kept).
type finding struct {
	labels  map[string]string // subject labels; part of the fingerprint
	subject string            // human-readable subject
	value   float64
	summary string
	samples any // JSON-able detail stored on the event
	unknown bool
}

// evalContext is what a rule sees: the snapshot, the cluster's history and
// whether an alert is already firing (for hysteresis).
type evalContext struct {
	snap    *collector.Snapshot
	hist    *clusterHistory
	cluster string
	firing  func(labels map[string]string) bool
}

// Bounds on what one alert carries, so an event's samples stay well inside
// a MySQL TEXT column (64 KiB).
const (
	maxListed       = 20 // partitions/topics listed in a summary or samples
	maxWindowParts  = 10 // partitions whose window samples are kept
	maxShownSamples = 20 // window samples kept per partition
)

func evaluate(r Rule, c evalContext) []finding {
	if out, ok := evalQuorum(r, c); ok {
		return out
	}
	switch r.Kind {
	case KindLagMessages, KindLagSeconds:
		return evalLag(r, c)
	case KindLagStatus:
		return evalLagStatus(r, c)
	case KindGroupInactive:
		return evalGroupInactive(r, c)
	case KindBrokerDown:
		return evalBrokerDown(c)
	case KindUnderReplicated, KindOfflinePartitions, KindUnderMinISR:
		return evalPartitions(r, c)
	case KindControllerChanged:
		return evalController(r, c)
	case KindZooKeeperDown:
		return evalZooKeeper(c)
	case KindClusterUnreachable:
		return evalUnreachable(c)
	case KindTopicRateZero:
		return evalTopicRate(r, c)
	case KindCatchUpTime, KindLagGrowing:
		return evalCatchUp(r, c)
	case KindISRFlapping:
		return evalFlapping(r, c)
	case KindDiskFull:
		return evalDiskFull(r, c)
	case KindLSOStuck, KindTransactionHanging:
		return evalStableOffsets(r, c)
	case KindCleanerDirty:
		return evalCleanerDirty(r, c)
	case KindAuthFailures:
		return evalAuthFailures(r, c)
	case KindPrincipalThrottled:
		return evalPrincipalThrottled(r, c)
	case KindReconcilingStuck:
		return evalReconcilingStuck(r, c)
	case KindShareArchivedGrowing:
		return evalShareArchived(r, c)
	}
	return nil
}

func groupTopicLabels(g, t string) map[string]string {
	return map[string]string{"group": g, "topic": t}
}

type partLag struct {
	Partition int32   `json:"partition"`
	Committed int64   `json:"committed"`
	End       int64   `json:"end"`
	Lag       int64   `json:"lag"`
	LagSec    float64 `json:"lagSeconds,omitempty"`
	Status    string  `json:"status,omitempty"`
}

type lagSamples struct {
	Partitions []partLag    `json:"partitions"`
	History    []LagSample  `json:"history,omitempty"` // the group's lag on the topic, oldest first
	Window     []windowPart `json:"window,omitempty"`
}

type windowPart struct {
	Partition int32       `json:"partition"`
	Status    string      `json:"status"`
	Samples   []LagSample `json:"samples"`
}

// topPartitions returns the partitions with the largest lag first, at most maxListed.
func topPartitions(gt collector.GroupTopic) []partLag {
	out := make([]partLag, 0, len(gt.Partitions))
	for _, p := range gt.Partitions {
		out = append(out, partLag{Partition: p.Partition, Committed: p.Committed, End: p.End, Lag: p.Lag, LagSec: p.LagSeconds})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Lag > out[j].Lag })
	if len(out) > maxListed {
		out = out[:maxListed]
	}
	return out
}

func unknownLag(gt collector.GroupTopic) bool {
	for _, p := range gt.Partitions {
		if p.Lag < 0 || p.End < 0 {
			return true
		}
	}
	return false
}

func evalLag(r Rule, c evalContext) []finding {
	var out []finding
	for _, g := range c.snap.Groups {
		if !match(r.Group, g.Name) {
			continue
		}
		for _, gt := range g.Topics {
			if !match(r.Topic, gt.Topic) {
				continue
			}
			labels := groupTopicLabels(g.Name, gt.Topic)
			var v float64
			var what string
			if r.Kind == KindLagSeconds {
				v = gt.LagSeconds
				what = fmt.Sprintf("lag %s behind (threshold %s)", fmtSeconds(v), fmtSeconds(r.Threshold))
			} else {
				v = float64(gt.Lag)
				what = fmt.Sprintf("lag %d messages (threshold %s)", gt.Lag, fmtNum(r.Threshold))
			}
			f := finding{labels: labels, subject: "group " + g.Name + " / topic " + gt.Topic, value: v}
			if v > r.Threshold {
				f.summary = fmt.Sprintf("Consumer group %s on topic %s: %s", g.Name, gt.Topic, what)
				s := lagSamples{Partitions: topPartitions(gt)}
				if h := c.hist.groupTopics[gtKey{g.Name, gt.Topic}]; h != nil {
					s.History = h.Last(max(r.WindowSamples, DefaultWindowSamples))
				}
				f.samples = s
				out = append(out, f)
			} else if unknownLag(gt) {
				f.unknown = true // part of the lag is unknown: neither fire nor resolve
				out = append(out, f)
			}
		}
	}
	return out
}

func evalLagStatus(r Rule, c evalContext) []finding {
	minLevel := max(int(r.Threshold), 1)
	var out []finding
	for _, g := range c.snap.Groups {
		if !match(r.Group, g.Name) {
			continue
		}
		for _, gt := range g.Topics {
			if !match(r.Topic, gt.Topic) {
				continue
			}
			worst := StatusOK
			var bad []windowPart
			incomplete := false
			for _, p := range gt.Partitions {
				h := c.hist.parts[gtpKey{g.Name, gt.Topic, p.Partition}]
				if p.Lag != 0 && (h == nil || h.Len() < r.WindowSamples) {
					incomplete = true // after a restart, or a new partition; no lag is OK for sure
				}
				if h == nil {
					continue
				}
				samples := h.Last(r.WindowSamples)
				st := PartitionStatus(samples, r.WindowSamples)
				if st > worst {
					worst = st
				}
				if st != StatusOK {
					shown := samples
					if len(shown) > maxShownSamples {
						shown = shown[len(shown)-maxShownSamples:]
					}
					bad = append(bad, windowPart{Partition: p.Partition, Status: st.String(), Samples: shown})
				}
			}
			if worst.Level() < minLevel {
				labels := groupTopicLabels(g.Name, gt.Topic)
				if incomplete && c.firing(labels) {
					// Too little history to judge (the evaluator restarted):
					// keep a firing alert rather than resolve it falsely.
					out = append(out, finding{labels: labels, unknown: true})
				}
				continue
			}
			sort.SliceStable(bad, func(i, j int) bool { return statusRank(bad[i].Status) > statusRank(bad[j].Status) })
			var parts []string
			for i, b := range bad {
				if i == maxListed {
					parts = append(parts, fmt.Sprintf("and %d more", len(bad)-maxListed))
					break
				}
				lag := int64(0)
				if n := len(b.Samples); n > 0 {
					lag = b.Samples[n-1].Lag
				}
				parts = append(parts, fmt.Sprintf("partition %d %s (lag %d)", b.Partition, b.Status, lag))
			}
			if len(bad) > maxWindowParts {
				bad = bad[:maxWindowParts]
			}
			out = append(out, finding{
				labels: groupTopicLabels(g.Name, gt.Topic), subject: "group " + g.Name + " / topic " + gt.Topic,
				value: float64(worst.Level()),
				summary: fmt.Sprintf("Consumer group %s on topic %s is %s (worst partition %s over the last %d samples): %s",
					g.Name, gt.Topic, GroupStatusName(worst), worst, r.WindowSamples, strings.Join(parts, ", ")),
				samples: lagSamples{Partitions: topPartitions(gt), Window: bad},
			})
		}
	}
	return out
}

func statusRank(s string) int {
	for st := StatusStop; st >= StatusOK; st-- {
		if st.String() == s {
			return int(st)
		}
	}
	return 0
}

type inactiveSamples struct {
	State   string       `json:"state"`
	Members int          `json:"members"`
	LagNow  int64        `json:"lag"`
	LagThen int64        `json:"lagWindowAgo"`
	Topics  []topicLagAt `json:"topics"`
}

type topicLagAt struct {
	Topic   string      `json:"topic"`
	History []LagSample `json:"history"`
}

func evalGroupInactive(r Rule, c evalContext) []finding {
	var out []finding
	for _, g := range c.snap.Groups {
		if !match(r.Group, g.Name) {
			continue
		}
		labels := map[string]string{"group": g.Name}
		f := finding{labels: labels, subject: "group " + g.Name}
		if g.State == "" || g.Error != "" {
			f.unknown = true // no description this cycle
			out = append(out, f)
			continue
		}
		if len(g.Members) > 0 || (g.State != "Empty" && g.State != "Dead") {
			continue
		}
		var now, then int64
		full := true
		s := inactiveSamples{State: g.State}
		for _, gt := range g.Topics {
			if !match(r.Topic, gt.Topic) {
				continue
			}
			if unknownLag(gt) {
				full = false
			}
			now += gt.Lag
			h := c.hist.groupTopics[gtKey{g.Name, gt.Topic}]
			if h == nil || h.Len() < r.WindowSamples {
				full = false
				continue
			}
			w := h.Last(r.WindowSamples)
			then += w[0].Lag
			if len(s.Topics) < maxListed {
				s.Topics = append(s.Topics, topicLagAt{Topic: gt.Topic, History: w})
			}
		}
		s.LagNow, s.LagThen = now, then
		f.value = float64(now)
		grows := full && now > then
		switch {
		case float64(now) > r.Threshold && (grows || c.firing(labels)):
			// Once firing it stays firing while the group is empty and lagging,
			// even when production pauses, so a bursty producer does not flap it.
			f.summary = fmt.Sprintf("Consumer group %s has no active members (state %s) and its lag grows: %d messages now, %d %d samples ago",
				g.Name, g.State, now, then, r.WindowSamples)
			f.samples = s
			out = append(out, f)
		case !full && float64(now) > r.Threshold:
			f.unknown = true // not enough history yet
			out = append(out, f)
		}
	}
	return out
}

type brokerSample struct {
	Broker int32  `json:"broker"`
	Host   string `json:"host"`
	Port   int32  `json:"port"`
	Error  string `json:"error,omitempty"`
}

func evalBrokerDown(c evalContext) []finding {
	var out []finding
	for _, b := range c.snap.Brokers {
		if b.Up || b.Starting { // a broker still registering is not down (collector.Config.StartingGrace)
			continue
		}
		id := strconv.Itoa(int(b.ID))
		why := b.Error
		if why == "" {
			why = "down"
		}
		addr := ""
		if b.Host != "" {
			addr = fmt.Sprintf(" (%s:%d)", b.Host, b.Port)
		}
		out = append(out, finding{
			labels: map[string]string{"broker": id}, subject: "broker " + id, value: 1,
			summary: fmt.Sprintf("Broker %d%s is down: %s", b.ID, addr, why),
			samples: brokerSample{Broker: b.ID, Host: b.Host, Port: b.Port, Error: b.Error},
		})
	}
	return out
}

type partSample struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Leader    int32   `json:"leader"`
	Replicas  []int32 `json:"replicas"`
	ISR       []int32 `json:"isr"`
	MinISR    int     `json:"minIsr,omitempty"`
}

type partitionsSamples struct {
	Count      int          `json:"count"`
	Topics     int          `json:"topics"`
	Partitions []partSample `json:"partitions"`
}

func evalPartitions(r Rule, c evalContext) []finding {
	var s partitionsSamples
	var names []string
	for _, t := range c.snap.Topics {
		if !match(r.Topic, t.Name) {
			continue
		}
		n := 0
		for _, p := range t.Partitions {
			if p.Starting { // leaders of a new topic or cluster being elected: not an outage yet
				continue
			}
			var hit bool
			switch r.Kind {
			case KindUnderReplicated:
				hit = p.UnderReplicated
			case KindOfflinePartitions:
				hit = p.Offline
			case KindUnderMinISR:
				hit = p.UnderMinISR
			}
			if !hit {
				continue
			}
			n++
			if len(s.Partitions) < maxListed*5 {
				s.Partitions = append(s.Partitions, partSample{Topic: t.Name, Partition: p.Partition, Leader: p.Leader, Replicas: p.Replicas, ISR: p.ISR, MinISR: t.MinISR})
			}
		}
		if n > 0 {
			s.Count += n
			s.Topics++
			if len(names) < maxListed {
				names = append(names, fmt.Sprintf("%s (%d)", t.Name, n))
			}
		}
	}
	if float64(s.Count) <= r.Threshold {
		return nil
	}
	what := map[Kind]string{
		KindUnderReplicated:   "under-replicated",
		KindOfflinePartitions: "offline (no leader)",
		KindUnderMinISR:       "below min.insync.replicas",
	}[r.Kind]
	if s.Topics > len(names) {
		names = append(names, fmt.Sprintf("and %d more topics", s.Topics-len(names)))
	}
	return []finding{{
		labels: map[string]string{}, subject: "cluster " + c.cluster, value: float64(s.Count),
		summary: fmt.Sprintf("%d partitions in %d topics are %s (threshold %s): %s",
			s.Count, s.Topics, what, fmtNum(r.Threshold), strings.Join(names, ", ")),
		samples: s,
	}}
}

type controllerSamples struct {
	Controllers []int32 `json:"controllers"` // oldest first, -1 unknown
	Current     int32   `json:"current"`
}

func evalController(r Rule, c evalContext) []finding {
	ids := c.hist.controllers.Last(r.WindowSamples + 1)
	var known []int32
	for _, id := range ids {
		if id >= 0 {
			known = append(known, id)
		}
	}
	var from, to int32 = -1, -1
	changes := 0
	for i := 1; i < len(known); i++ {
		if known[i] != known[i-1] {
			changes++
			from, to = known[i-1], known[i]
		}
	}
	if changes == 0 {
		return nil
	}
	what := fmt.Sprintf("The controller moved from broker %d to broker %d", from, to)
	if c.snap.Cluster.KRaft { // the quorum leader, which may be a controller-only node
		what = fmt.Sprintf("The active controller (KRaft quorum leader) moved from node %d to node %d", from, to)
	}
	return []finding{{
		labels: map[string]string{}, subject: "cluster " + c.cluster, value: float64(to),
		summary: fmt.Sprintf("%s (%d changes in the last %d samples)", what, changes, r.WindowSamples),
		samples: controllerSamples{Controllers: ids, Current: c.snap.Cluster.Controller},
	}}
}

type zkSamples struct {
	Servers          []string   `json:"servers"`
	Connected        bool       `json:"connected"`
	UnreachableSince *time.Time `json:"unreachableSince,omitempty"`
	Error            string     `json:"error,omitempty"`
}

func evalZooKeeper(c evalContext) []finding {
	z := c.snap.Cluster.ZooKeeper
	if z == nil || (z.Connected && z.Error == "") {
		return nil
	}
	why := z.Error
	if why == "" {
		why = "not connected"
	}
	since := ""
	if z.UnreachableSince != nil {
		since = " since " + z.UnreachableSince.UTC().Format(time.RFC3339)
	}
	return []finding{{
		labels: map[string]string{}, subject: "ZooKeeper " + strings.Join(z.Servers, ","), value: 1,
		summary: fmt.Sprintf("ZooKeeper (%s) is unreachable%s: %s", strings.Join(z.Servers, ","), since, why),
		samples: zkSamples{Servers: z.Servers, Connected: z.Connected, UnreachableSince: z.UnreachableSince, Error: z.Error},
	}}
}

type unreachableSamples struct {
	StaleSince time.Time `json:"staleSince"`
	Error      string    `json:"error,omitempty"`
}

// evalUnreachable fires while no broker of the cluster answers: the snapshot keeps the last
// picture and says since when it is stale.
func evalUnreachable(c evalContext) []finding {
	since := c.snap.Cluster.StaleSince
	if since == nil {
		return nil
	}
	why := "no broker answers"
	if errs := c.snap.Cluster.Errors; len(errs) > 0 {
		why = errs[0].Message
	}
	return []finding{{
		labels: map[string]string{}, subject: "cluster " + c.cluster, value: 1,
		summary: fmt.Sprintf("Cluster %s is unreachable (stale since %s): %s", c.cluster, since.UTC().Format(time.RFC3339), why),
		samples: unreachableSamples{StaleSince: *since, Error: why},
	}}
}

type rateSamples struct {
	Points []topicPoint `json:"points"`
}

func evalTopicRate(r Rule, c evalContext) []finding {
	var out []finding
	for _, t := range c.snap.Topics {
		if !match(r.Topic, t.Name) || (r.Topic == "*" && strings.HasPrefix(t.Name, "__")) {
			continue // internal topics only when named explicitly
		}
		labels := map[string]string{"topic": t.Name}
		h := c.hist.topics[t.Name]
		if h == nil {
			continue
		}
		pts := h.Last(r.WindowSamples)
		firing := c.firing(labels)
		if len(pts) < r.WindowSamples {
			if firing { // too little history (restart): keep the alert as it is
				out = append(out, finding{labels: labels, unknown: true})
			}
			continue
		}
		if !c.hist.produced[t.Name] && !firing {
			continue
		}
		zero, known := true, true
		for i, p := range pts {
			if !p.Known {
				known = false
				break
			}
			if i > 0 && p.EndSum > pts[i-1].EndSum {
				zero = false
			}
		}
		f := finding{labels: labels, subject: "topic " + t.Name}
		switch {
		case !known:
			if firing {
				f.unknown = true
				out = append(out, f)
			}
		case zero:
			f.summary = fmt.Sprintf("Topic %s received no messages over the last %d samples (since %s); it had been receiving messages",
				t.Name, r.WindowSamples, pts[0].At.UTC().Format("2006-01-02 15:04:05 MST"))
			f.samples = rateSamples{Points: pts}
			out = append(out, f)
		}
	}
	return out
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func fmtSeconds(v float64) string {
	if v < 120 {
		return strconv.FormatFloat(v, 'f', 1, 64) + " s"
	}
	if v < 7200 {
		return strconv.FormatFloat(v/60, 'f', 1, 64) + " min"
	}
	return strconv.FormatFloat(v/3600, 'f', 1, 64) + " h"
}
