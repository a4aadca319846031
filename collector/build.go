package collector

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/osprey-kafka/osprey/admin"
)

// The snapshot and the samples built from a cycle's answers and the carried poll state.

// build assembles the snapshot from this cycle's answers and the carried state, in three steps:
// the topics (with their partitions, rates and each broker's share), the brokers, the groups.
// pollMu must be held.
func (c *Collector) build(md *admin.Metadata, offs offsetsRead, committed map[string]map[string]map[int32]int64, obsAt time.Time, brokerErr map[int32]string) *Snapshot {
	start, end := offs.start, offs.end
	b := &snapshotBuilder{c: c, st: &c.st, obsAt: obsAt, tallies: map[int32]*brokerTally{}, stable: offs.stable,
		s: &Snapshot{Cluster: ClusterInfo{Name: c.cfg.Cluster, ID: md.ClusterID, Controller: md.ControllerID}}}
	if q := c.st.q.info; q != nil {
		// KRaft: Metadata's controller id is a broker picked at random (it forwards to the real
		// one); the active controller is the quorum leader, which may be a controller-only node.
		b.s.Cluster.Controller = q.LeaderID
	}
	for _, br := range md.Brokers {
		b.tally(br.ID)
	}
	b.topics(md, start, end)
	b.brokers(md, brokerErr)
	b.groups(committed, end)
	return b.s
}

// offsetsRead is a cycle's ListOffsets answers: earliest, latest (the high watermark) and latest
// at read_committed (the last stable offset).
type offsetsRead struct {
	start, end, stable *admin.Offsets
}

// snapshotBuilder is what the steps of one build share; it lives for one build call, under pollMu.
type snapshotBuilder struct {
	c      *Collector
	stable *admin.Offsets // this cycle's last stable offsets
	st     *pollState
	obsAt  time.Time
	s      *Snapshot
	// tallies has every broker in metadata or named in a replica list.
	tallies map[int32]*brokerTally

	// Set by topics.
	clusterBrokers int                // the denominator of the broker spread (memberCount)
	dt             float64            // seconds since the previous cycle's offsets
	haveRate       bool               // there is a previous cycle to compute rates from
	history        map[string][]*ring // this cycle's log-end history, by topic and partition
	partSeen       map[partKey]partSeen
	layouts        []Layout // scratch, reused across topics
}

// brokerTally is one broker's share of the partitions.
type brokerTally struct {
	leaders, replicas int
	msgs              float64
}

func (b *snapshotBuilder) tally(id int32) *brokerTally {
	a := b.tallies[id]
	if a == nil {
		a = &brokerTally{}
		b.tallies[id] = a
	}
	return a
}

// topics builds every topic and adds it to the totals, then carries the log-end history, the
// partitions' first-seen state and the log ends forward for the next cycle.
func (b *snapshotBuilder) topics(md *admin.Metadata, start, end *admin.Offsets) {
	st := b.st
	b.clusterBrokers = b.c.memberCount(md, b.obsAt)
	b.dt = b.obsAt.Sub(st.prevEndAt).Seconds()
	b.haveRate = !st.prevEndAt.IsZero() && b.dt > 0
	b.history = make(map[string][]*ring, len(md.Topics))
	b.partSeen = make(map[partKey]partSeen, len(st.partSeen))
	b.s.Topics = make([]Topic, 0, len(md.Topics))
	for _, tm := range md.Topics {
		t := b.topic(tm, start.Offsets[tm.Name], end.Offsets[tm.Name])
		b.s.Topics = append(b.s.Topics, t)
		b.addToTotals(&t)
	}
	st.history = b.history   // topics that vanished drop their history
	st.partSeen = b.partSeen // and a topic created again under the same name starts afresh
	st.prevEnd, st.prevEndAt = end.Offsets, b.obsAt
}

// topic builds one topic: its partitions, their counts (starting partitions are counted apart from
// offline, under-replicated and under-min-ISR ones), offsets, message rate and CMAK's figures.
func (b *snapshotBuilder) topic(tm admin.TopicMetadata, starts, ends []int64) Topic {
	st := b.st
	t := Topic{Name: tm.Name, Internal: tm.Internal, MinISR: 1, SizeBytes: -1}
	if tm.Err != nil {
		t.Error = tm.Err.Error()
	}
	if n, ok := st.minISR[tm.Name]; ok {
		t.MinISR = n
	}
	t.CleanupPolicy = st.policy[tm.Name]
	prevEnds := st.prevEnd[tm.Name]
	oldRings := st.history[tm.Name]
	rings := make([]*ring, len(ends))
	sizes := st.partSize[tm.Name]
	b.layouts = b.layouts[:0]
	var msgs float64
	underReplicated := 0
	t.Partitions = make([]Partition, 0, len(tm.Partitions))
	for _, pm := range tm.Partitions {
		p := b.partition(&t, pm, starts, ends, sizes)
		p.Cleaner = b.partitionCleaner(tm.Name, &p)
		switch {
		case p.Starting:
			t.Starting++
		default:
			if p.Offline {
				t.Offline++
			}
			if p.UnderMinISR {
				t.UnderMinISR++
			}
			if p.UnderReplicated {
				underReplicated++
			}
		}
		t.ReplicationFactor = max(t.ReplicationFactor, len(pm.Replicas))
		if p.StartOffset >= 0 {
			t.StartOffsetSum += p.StartOffset
		}
		if p.EndOffset >= 0 {
			t.EndOffsetSum += p.EndOffset
			if p.StartOffset >= 0 {
				t.Messages += p.EndOffset - p.StartOffset
			}
		}
		msgs += b.logEnd(pm, p.EndOffset, oldRings, rings, prevEnds)
		if pm.Leader >= 0 {
			b.tally(pm.Leader).leaders++
		}
		for _, r := range pm.Replicas {
			b.tally(r).replicas++
		}
		b.layouts = append(b.layouts, Layout{Leader: pm.Leader, Replicas: pm.Replicas, ISR: pm.ISR})
		t.Partitions = append(t.Partitions, p)
	}
	b.history[tm.Name] = rings
	f := ComputeTopicFigures(b.layouts, b.clusterBrokers)
	t.Brokers, t.BrokerSpread, t.BrokerSkew, t.LeaderSkew, t.PreferredLeader =
		f.Brokers, f.BrokerSpread, f.BrokerSkew, f.LeaderSkew, f.PreferredLeader
	t.UnderReplicated = underReplicated // f's count includes starting partitions
	t.MsgsPerSec = msgs
	t.BytesPerSec = st.topicBps[tm.Name]
	t.Cleaner = topicCleaner(&t)
	return t
}

// partition builds partition pm of topic t: offsets, health flags, whether it is starting, and its
// size, which it adds to the topic's.
func (b *snapshotBuilder) partition(t *Topic, pm admin.PartitionMetadata, starts, ends []int64, sizes map[int32]int64) Partition {
	p := Partition{
		Partition: pm.Partition, Leader: pm.Leader, LeaderEpoch: pm.LeaderEpoch,
		Replicas: pm.Replicas, ISR: pm.ISR, OfflineReplicas: pm.Offline,
		StartOffset: at(starts, pm.Partition), EndOffset: at(ends, pm.Partition), SizeBytes: -1,
	}
	if pm.Err != nil {
		p.Error = pm.Err.Error()
	}
	p.Offline = pm.Leader < 0
	p.UnderReplicated = len(pm.ISR) < len(pm.Replicas)
	p.UnderMinISR = len(pm.ISR) < t.MinISR
	p.PreferredLeader = len(pm.Replicas) > 0 && pm.Replicas[0] == pm.Leader
	if sz, ok := sizes[pm.Partition]; ok {
		p.SizeBytes = sz
		if t.SizeBytes < 0 {
			t.SizeBytes = 0
		}
		t.SizeBytes += sz
	}
	p.Starting = b.c.starting(b.partSeen, t.Name, &p, b.obsAt)
	p.ISRChanges = b.isrChanges(partKey{t.Name, p.Partition}, pm.ISR)
	p.StableOffset = b.stable.Get(t.Name, pm.Partition)
	p.StableStuckSeconds, p.StableStuckWrites = b.stableStuck(partKey{t.Name, p.Partition}, p.StableOffset, p.EndOffset)
	return p
}

// stableStuck records the partition's last stable offset in this cycle's partSeen entry and returns
// for how long (seconds) it has stayed at this value while behind the high watermark — an open
// transaction holds it there — and how far the high watermark has moved on since (records written
// that read_committed consumers cannot reach). 0, 0 when the LSO is not behind (or unknown).
func (b *snapshotBuilder) stableStuck(key partKey, lso, hw int64) (float64, int64) {
	ps := b.partSeen[key]
	defer func() { b.partSeen[key] = ps }()
	if lso < 0 || hw < 0 || lso >= hw {
		ps.stableSince = time.Time{}
		return 0, 0
	}
	if ps.stableSince.IsZero() || ps.stable != lso {
		ps.stable, ps.stableSince, ps.stableHW = lso, b.obsAt, hw
	}
	return b.obsAt.Sub(ps.stableSince).Seconds(), max(hw-ps.stableHW, 0)
}

// isrChanges records the partition's ISR in this cycle's partSeen entry (set by starting) and
// returns how many times it changed within the flap window, this cycle included.
func (b *snapshotBuilder) isrChanges(key partKey, isr []int32) int {
	ps := b.partSeen[key]
	cur := slices.Clone(isr)
	slices.Sort(cur)
	if ps.isr != nil && !slices.Equal(ps.isr, cur) {
		ps.isrChanges = append(ps.isrChanges, b.obsAt)
	}
	ps.isr = cur
	cut := 0
	for cut < len(ps.isrChanges) && !ps.isrChanges[cut].After(b.obsAt.Add(-b.c.cfg.FlapWindow)) {
		cut++
	}
	ps.isrChanges = ps.isrChanges[cut:]
	b.partSeen[key] = ps
	return len(ps.isrChanges)
}

// logEnd records a partition's log end (end, -1 when unknown) in its history ring and returns its
// message rate since the previous cycle, which also counts for its leader. A new partition, or a
// log end that went back (the topic was recreated), starts a new ring; an unknown end keeps the
// old ring across the blip.
func (b *snapshotBuilder) logEnd(pm admin.PartitionMetadata, end int64, oldRings, rings []*ring, prevEnds []int64) float64 {
	if end < 0 {
		if int(pm.Partition) < len(oldRings) {
			rings[pm.Partition] = oldRings[pm.Partition]
		}
		return 0
	}
	var r *ring
	if int(pm.Partition) < len(oldRings) && oldRings[pm.Partition] != nil && oldRings[pm.Partition].newestEnd() <= end {
		r = oldRings[pm.Partition]
	} else {
		r = newRing(b.c.cfg.HistoryPoints)
	}
	r.add(b.obsAt, end)
	rings[pm.Partition] = r
	prev := at(prevEnds, pm.Partition)
	if !b.haveRate || prev < 0 || end <= prev {
		return 0
	}
	d := float64(end-prev) / b.dt
	if pm.Leader >= 0 {
		b.tally(pm.Leader).msgs += d
	}
	return d
}

// addToTotals adds topic t to the cluster's totals, and to the internal topics' when it is one.
func (b *snapshotBuilder) addToTotals(t *Topic) {
	tt := &b.s.Totals
	tt.Partitions += len(t.Partitions)
	tt.UnderReplicated += t.UnderReplicated
	tt.Offline += t.Offline
	tt.UnderMinISR += t.UnderMinISR
	tt.Starting += t.Starting
	tt.Messages += t.Messages
	tt.MsgsPerSec += t.MsgsPerSec
	tt.BytesPerSec += t.BytesPerSec
	if t.SizeBytes > 0 {
		tt.SizeBytes += t.SizeBytes
	}
	if t.Internal {
		in := &tt.Internal
		in.Topics++
		in.Partitions += len(t.Partitions)
		in.UnderReplicated += t.UnderReplicated
		in.Offline += t.Offline
		in.UnderMinISR += t.UnderMinISR
		in.Starting += t.Starting
		in.Messages += t.Messages
		in.SizeBytes += max(t.SizeBytes, 0)
		in.MsgsPerSec += t.MsgsPerSec
		in.BytesPerSec += t.BytesPerSec
	}
}

// brokers lists the brokers in metadata (up unless their requests failed), then every other id
// seen in replica lists or earlier cycles (down), forgetting those gone longer than
// ForgetBrokersAfter, and counts them.
func (b *snapshotBuilder) brokers(md *admin.Metadata, brokerErr map[int32]string) {
	st, s, obsAt := b.st, b.s, b.obsAt
	inMD := map[int32]bool{}
	for _, br := range md.Brokers {
		inMD[br.ID] = true
	}
	for id := range b.tallies { // in metadata or named in a replica list
		if _, ok := st.known[id]; !ok {
			st.known[id] = Broker{ID: id}
		}
		st.lastSeen[id] = obsAt
	}
	cfg := b.c.cfg
	for id, kb := range st.known {
		if cfg.ForgetBrokersAfter > 0 && obsAt.Sub(st.lastSeen[id]) > cfg.ForgetBrokersAfter {
			delete(st.known, id) // decommissioned: gone from metadata and every replica list
			delete(st.lastSeen, id)
			delete(st.brokerFirst, id)
			delete(st.brokerUp, id)
			continue
		}
		a := b.tally(id)
		br := kb
		br.Controller = id == b.s.Cluster.Controller
		br.Leaders, br.Replicas, br.MsgsPerSec = a.leaders, a.replicas, a.msgs
		br.BytesInPerSec = st.brokerBps[id]
		br.LogDirBytes = -1
		if v, ok := st.brokerBytes[id]; ok {
			br.LogDirBytes = v
		}
		switch {
		case !inMD[id]:
			br.Up, br.Error = false, "not in cluster metadata"
		case brokerErr[id] != "":
			br.Up, br.Error = false, brokerErr[id]
		default:
			br.Up = true
		}
		if _, ok := st.brokerFirst[id]; !ok {
			st.brokerFirst[id] = obsAt
		}
		if br.Up {
			st.brokerUp[id] = true
		}
		br.Starting = !br.Up && !st.brokerUp[id] && obsAt.Sub(st.brokerFirst[id]) < cfg.StartingGrace
		s.Brokers = append(s.Brokers, br)
		s.Totals.Replicas += br.Replicas
		if br.Up {
			s.Totals.BrokersUp++
		}
		if br.Starting {
			s.Totals.BrokersStarting++
		}
	}
	s.Cluster.Starting = s.Totals.Starting > 0 || s.Totals.BrokersStarting > 0
	s.Totals.Brokers = len(s.Brokers)
	s.Totals.Topics = len(s.Topics)
}

// groups builds each group from its last description and this cycle's committed offsets.
func (b *snapshotBuilder) groups(committed map[string]map[string]map[int32]int64, end *admin.Offsets) {
	st, s := b.st, b.s
	s.Groups = make([]Group, 0, len(st.groups))
	tracks := make(map[catchKey]*catchTrack, len(st.catchUp))
	for _, lg := range st.groups {
		g := Group{Name: lg.Name, State: lg.State, ProtocolType: lg.ProtocolType, Coordinator: lg.Coordinator, Type: cmp.Or(lg.Type, "classic")}
		owner := map[string]map[int32]string{}
		if d, ok := st.descs[lg.Name]; ok {
			owner = describeGroup(&g, d)
		}
		lagKnown := len(committed[lg.Name]) == 0 // no committed offsets: nothing to lag behind
		var topics []GroupTopic
		if g.Type == "share" {
			g.Share = &ShareGroupFigures{}
			for topic, parts := range st.shareOffsets[lg.Name] {
				topics = append(topics, b.shareGroupTopic(lg.Name, topic, parts, owner[topic], end, g.Share))
			}
			lagKnown = len(topics) == 0
		} else {
			for topic, parts := range committed[lg.Name] {
				topics = append(topics, b.groupTopic(topic, parts, owner[topic], end))
			}
		}
		for _, gt := range topics {
			if gt.Lag >= 0 {
				lagKnown = true
				g.TotalLag += gt.Lag
			}
			g.LagSeconds = max(g.LagSeconds, gt.LagSeconds)
			g.Topics = append(g.Topics, gt)
		}
		sort.Slice(g.Topics, func(i, j int) bool { return g.Topics[i].Topic < g.Topics[j].Topic })
		b.catchUp(&g, tracks)
		if lagKnown {
			s.Totals.Lag += g.TotalLag
		} else {
			g.TotalLag = -1 // no topic's lag is known
		}
		s.Groups = append(s.Groups, g)
	}
	s.Totals.Groups = len(s.Groups)
	st.catchUp = tracks // groups and topics gone since the last cycle are dropped
}

// catchUp adds this cycle's positions to the group's tracks (carried into tracks) and sets the
// estimates of each of its topics and of the group as a whole. A topic with a partition whose end
// offset is unknown adds no position this cycle (its sums would jump); the group's sums then
// leave that topic out as well, so the whole-group track is skipped for the cycle.
func (b *snapshotBuilder) catchUp(g *Group, tracks map[catchKey]*catchTrack) {
	window := b.c.cfg.CatchUpWindow
	track := func(k catchKey) *catchTrack {
		t := b.st.catchUp[k]
		if t == nil {
			t = &catchTrack{}
		}
		tracks[k] = t
		return t
	}
	var all catchObs
	allKnown := len(g.Topics) > 0
	for i := range g.Topics {
		gt := &g.Topics[i]
		t := track(catchKey{g.Name, gt.Topic})
		o := catchObs{at: b.obsAt}
		known := len(gt.Partitions) > 0
		for _, p := range gt.Partitions {
			if p.End < 0 || p.Committed < 0 { // a share-partition not initialised yet has no position
				known = false
				break
			}
			o.committed += p.Committed
			o.end += max(p.End, p.Committed)
		}
		if known {
			t.observe(o, window)
			all.committed += o.committed
			all.end += o.end
		} else {
			allKnown = false
		}
		gt.CatchUp = t.estimate(gt.Lag, b.obsAt)
	}
	t := track(catchKey{g.Name, ""})
	if allKnown {
		all.at = b.obsAt
		t.observe(all, window)
	}
	lag := g.TotalLag
	if !allKnown {
		lag = -1
	}
	g.CatchUp = t.estimate(lag, b.obsAt)
}

// describeGroup fills g from its description and returns which member owns each assigned
// partition (topic → partition → member id).
func describeGroup(g *Group, d admin.GroupDescription) map[string]map[int32]string {
	owner := map[string]map[int32]string{}
	g.State, g.ProtocolType, g.Protocol = d.State, d.ProtocolType, d.Protocol
	if d.Type == "consumer" || d.Type == "share" {
		g.Type, g.GroupEpoch, g.AssignmentEpoch, g.Assignor = d.Type, d.GroupEpoch, d.AssignmentEpoch, d.Assignor
	}
	if d.Err != nil {
		g.Error = d.Err.Error()
	}
	for _, m := range d.Members {
		mem := Member{ID: m.ID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost, Rack: m.Rack, Epoch: m.Epoch,
			Target: topicPartitions(m.Target), SubscribedTopics: m.SubscribedTopics, SubscribedRegex: m.SubscribedRegex,
			Reconciling: m.Reconciling}
		for topic, ps := range m.Assignment {
			mem.Assignment = append(mem.Assignment, TopicPartitions{Topic: topic, Partitions: ps})
			if owner[topic] == nil {
				owner[topic] = map[int32]string{}
			}
			for _, p := range ps {
				owner[topic][p] = m.ID
			}
		}
		sort.Slice(mem.Assignment, func(i, j int) bool { return mem.Assignment[i].Topic < mem.Assignment[j].Topic })
		g.Members = append(g.Members, mem)
	}
	return owner
}

// topicPartitions lists an assignment by topic name, sorted (nil when empty).
func topicPartitions(a map[string][]int32) []TopicPartitions {
	var out []TopicPartitions
	for topic, ps := range a {
		out = append(out, TopicPartitions{Topic: topic, Partitions: ps})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

// groupTopic is a group's lag on one topic from its committed offsets (partition → offset). A
// partition whose end offset is unknown has an unknown lag (-1): it is left out of the sums, and a
// topic with no known partition lag has an unknown lag itself.
func (b *snapshotBuilder) groupTopic(topic string, parts map[int32]int64, owner map[int32]string, end *admin.Offsets) GroupTopic {
	gt := GroupTopic{Topic: topic, Partitions: make([]GroupPartition, 0, len(parts)), Lag: -1}
	rings := b.history[topic]
	for p, off := range parts {
		gp := GroupPartition{Partition: p, Committed: off, End: at(end.Offsets[topic], p), Lag: -1, Member: owner[p],
			Stable: b.stable.Get(topic, p), StableLag: -1}
		if gp.Stable >= 0 {
			gp.StableLag = max(gp.Stable-off, 0)
		}
		gt.CommittedSum += off
		if gp.End >= 0 {
			gp.Lag = max(gp.End-off, 0)
			gt.Lag = max(gt.Lag, 0) + gp.Lag
			if gp.Lag > 0 && int(p) < len(rings) {
				gp.LagSeconds = rings[p].lagSeconds(off, b.obsAt)
			}
			gt.LagSeconds = max(gt.LagSeconds, gp.LagSeconds)
		}
		gt.Partitions = append(gt.Partitions, gp)
	}
	sort.Slice(gt.Partitions, func(i, j int) bool { return gt.Partitions[i].Partition < gt.Partitions[j].Partition })
	return gt
}

// starting records partition p of topic in seen (this cycle's map) and reports whether it is
// starting: offline, under-replicated or under min ISR, never healthy since it was first seen, and
// first seen less than StartingGrace ago. pollMu must be held.
func (c *Collector) starting(seen map[partKey]partSeen, topic string, p *Partition, obsAt time.Time) bool {
	key := partKey{topic, p.Partition}
	ps, ok := c.st.partSeen[key]
	if !ok {
		ps = partSeen{first: obsAt}
	}
	degraded := p.Offline || p.UnderReplicated || p.UnderMinISR
	if !degraded {
		ps.healthy = true
	}
	seen[key] = ps
	return degraded && !ps.healthy && obsAt.Sub(ps.first) < c.cfg.StartingGrace
}

// memberCount is the number of brokers the snapshot will list: those in metadata, those named in a
// replica list (down but still holding replicas) and those seen earlier and not yet forgotten. It
// is the denominator of the broker spread, so a topic on a down broker never spreads over more
// than 100% of the cluster. pollMu must be held.
func (c *Collector) memberCount(md *admin.Metadata, obsAt time.Time) int {
	ids := map[int32]bool{}
	for _, b := range md.Brokers {
		ids[b.ID] = true
	}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			for _, r := range p.Replicas {
				ids[r] = true
			}
		}
	}
	for id := range c.st.known {
		if c.cfg.ForgetBrokersAfter <= 0 || obsAt.Sub(c.st.lastSeen[id]) <= c.cfg.ForgetBrokersAfter {
			ids[id] = true
		}
	}
	return len(ids)
}

func at(s []int64, p int32) int64 {
	if p < 0 || int(p) >= len(s) {
		return -1
	}
	return s[p]
}

func buildSamples(s *Snapshot) *Samples {
	out := &Samples{Cluster: s.Cluster.Name, Time: s.Cluster.LastPoll}
	out.Topics = make([]TopicSample, 0, len(s.Topics))
	for _, t := range s.Topics {
		out.Topics = append(out.Topics, TopicSample{Topic: t.Name, EndOffsetSum: t.EndOffsetSum, StartOffsetSum: t.StartOffsetSum, SizeBytes: t.SizeBytes, MsgsPerSec: t.MsgsPerSec, BytesPerSec: t.BytesPerSec})
	}
	for _, g := range s.Groups {
		for _, gt := range g.Topics {
			if gt.Lag < 0 {
				continue // unknown lag: a gap in the series, not a -1
			}
			out.Groups = append(out.Groups, GroupTopicSample{Group: g.Name, Topic: gt.Topic, Lag: gt.Lag, LagSeconds: gt.LagSeconds, CommittedSum: gt.CommittedSum})
		}
	}
	for _, b := range s.Brokers {
		out.Brokers = append(out.Brokers, BrokerSample{Broker: b.ID, Leaders: b.Leaders, Replicas: b.Replicas, LogDirBytes: b.LogDirBytes, MsgsPerSec: b.MsgsPerSec, BytesInPerSec: b.BytesInPerSec, Up: b.Up})
	}
	// The cluster's series follow the console's totals: internal topics left out.
	tt := s.Totals.UserTopics()
	out.Quorum = quorumSample(s.Cluster.Quorum)
	out.LogDirs = storageSamples(s.Storage)
	out.Totals = ClusterSample{Brokers: tt.Brokers, BrokersUp: tt.BrokersUp, Topics: tt.Topics, Partitions: tt.Partitions, UnderReplicated: tt.UnderReplicated, Offline: tt.Offline, UnderMinISR: tt.UnderMinISR, Groups: tt.Groups, Lag: tt.Lag, MsgsPerSec: tt.MsgsPerSec, BytesPerSec: tt.BytesPerSec, SizeBytes: tt.SizeBytes}
	return out
}
