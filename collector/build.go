package collector

import (
	"sort"
	"time"

	"github.com/osprey-kafka/osprey/admin"
)

// The snapshot and the samples built from a cycle's answers and the carried poll state.

// build assembles the snapshot from this cycle's answers and the carried state.
func (c *Collector) build(md *admin.Metadata, start, end *admin.Offsets, committed map[string]map[string]map[int32]int64, obsAt time.Time, brokerErr map[int32]string) *Snapshot {
	st := &c.st
	s := &Snapshot{Cluster: ClusterInfo{Name: c.cfg.Cluster, ID: md.ClusterID, Controller: md.ControllerID}}
	type bacc struct {
		leaders, replicas int
		msgs              float64
	}
	bstats := map[int32]*bacc{}
	bget := func(id int32) *bacc {
		a := bstats[id]
		if a == nil {
			a = &bacc{}
			bstats[id] = a
		}
		return a
	}
	for _, b := range md.Brokers {
		bget(b.ID)
	}
	clusterBrokers := c.memberCount(md, obsAt)
	dt := obsAt.Sub(st.prevEndAt).Seconds()
	haveRate := !st.prevEndAt.IsZero() && dt > 0
	history := make(map[string][]*ring, len(md.Topics))
	partSeenNow := make(map[partKey]partSeen, len(st.partSeen))
	s.Topics = make([]Topic, 0, len(md.Topics))
	var layouts []Layout
	for _, tm := range md.Topics {
		t := Topic{Name: tm.Name, Internal: tm.Internal, MinISR: 1, SizeBytes: -1}
		if tm.Err != nil {
			t.Error = tm.Err.Error()
		}
		if n, ok := st.minISR[tm.Name]; ok {
			t.MinISR = n
		}
		starts, ends := start.Offsets[tm.Name], end.Offsets[tm.Name]
		prevEnds := st.prevEnd[tm.Name]
		oldRings := st.history[tm.Name]
		rings := make([]*ring, len(ends))
		sizes := st.partSize[tm.Name]
		layouts = layouts[:0] // scratch, reused across topics
		var msgs float64
		underReplicated := 0
		t.Partitions = make([]Partition, 0, len(tm.Partitions))
		for _, pm := range tm.Partitions {
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
			p.Starting = c.starting(partSeenNow, tm.Name, &p, obsAt)
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
				var r *ring
				if int(pm.Partition) < len(oldRings) && oldRings[pm.Partition] != nil && oldRings[pm.Partition].newestEnd() <= p.EndOffset {
					r = oldRings[pm.Partition]
				} else { // new partition, or the log end went back (topic recreated)
					r = newRing(c.cfg.HistoryPoints)
				}
				r.add(obsAt, p.EndOffset)
				rings[pm.Partition] = r
				if prev := at(prevEnds, pm.Partition); haveRate && prev >= 0 && p.EndOffset > prev {
					d := float64(p.EndOffset-prev) / dt
					msgs += d
					if pm.Leader >= 0 {
						bget(pm.Leader).msgs += d
					}
				}
			} else if int(pm.Partition) < len(oldRings) {
				rings[pm.Partition] = oldRings[pm.Partition] // keep history across a blip
			}
			if pm.Leader >= 0 {
				bget(pm.Leader).leaders++
			}
			for _, r := range pm.Replicas {
				bget(r).replicas++
			}
			layouts = append(layouts, Layout{Leader: pm.Leader, Replicas: pm.Replicas, ISR: pm.ISR})
			t.Partitions = append(t.Partitions, p)
		}
		history[tm.Name] = rings
		f := ComputeTopicFigures(layouts, clusterBrokers)
		t.Brokers, t.BrokerSpread, t.BrokerSkew, t.LeaderSkew, t.PreferredLeader =
			f.Brokers, f.BrokerSpread, f.BrokerSkew, f.LeaderSkew, f.PreferredLeader
		t.UnderReplicated = underReplicated // f's count includes starting partitions
		t.MsgsPerSec = msgs
		t.BytesPerSec = st.topicBps[tm.Name]
		s.Topics = append(s.Topics, t)

		s.Totals.Partitions += len(t.Partitions)
		s.Totals.UnderReplicated += t.UnderReplicated
		s.Totals.Offline += t.Offline
		s.Totals.UnderMinISR += t.UnderMinISR
		s.Totals.Starting += t.Starting
		s.Totals.Messages += t.Messages
		s.Totals.MsgsPerSec += t.MsgsPerSec
		s.Totals.BytesPerSec += t.BytesPerSec
		if t.SizeBytes > 0 {
			s.Totals.SizeBytes += t.SizeBytes
		}
		if t.Internal {
			in := &s.Totals.Internal
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
	st.history = history      // topics that vanished drop their history
	st.partSeen = partSeenNow // and a topic created again under the same name starts afresh
	st.prevEnd, st.prevEndAt = end.Offsets, obsAt

	// Brokers: in metadata (up unless their requests failed), then every other
	// id seen in replica lists or earlier cycles (down).
	inMD := map[int32]bool{}
	for _, b := range md.Brokers {
		inMD[b.ID] = true
	}
	for id := range bstats { // in metadata or named in a replica list
		if _, ok := st.known[id]; !ok {
			st.known[id] = Broker{ID: id}
		}
		st.lastSeen[id] = obsAt
	}
	for id, kb := range st.known {
		if c.cfg.ForgetBrokersAfter > 0 && obsAt.Sub(st.lastSeen[id]) > c.cfg.ForgetBrokersAfter {
			delete(st.known, id) // decommissioned: gone from metadata and every replica list
			delete(st.lastSeen, id)
			delete(st.brokerFirst, id)
			delete(st.brokerUp, id)
			continue
		}
		a := bget(id)
		b := kb
		b.Controller = id == md.ControllerID
		b.Leaders, b.Replicas, b.MsgsPerSec = a.leaders, a.replicas, a.msgs
		b.BytesInPerSec = st.brokerBps[id]
		b.LogDirBytes = -1
		if v, ok := st.brokerBytes[id]; ok {
			b.LogDirBytes = v
		}
		switch {
		case !inMD[id]:
			b.Up, b.Error = false, "not in cluster metadata"
		case brokerErr[id] != "":
			b.Up, b.Error = false, brokerErr[id]
		default:
			b.Up = true
		}
		if _, ok := st.brokerFirst[id]; !ok {
			st.brokerFirst[id] = obsAt
		}
		if b.Up {
			st.brokerUp[id] = true
		}
		b.Starting = !b.Up && !st.brokerUp[id] && obsAt.Sub(st.brokerFirst[id]) < c.cfg.StartingGrace
		s.Brokers = append(s.Brokers, b)
		s.Totals.Replicas += b.Replicas
		if b.Up {
			s.Totals.BrokersUp++
		}
		if b.Starting {
			s.Totals.BrokersStarting++
		}
	}
	s.Cluster.Starting = s.Totals.Starting > 0 || s.Totals.BrokersStarting > 0
	s.Totals.Brokers = len(s.Brokers)
	s.Totals.Topics = len(s.Topics)

	// Groups: last description plus this cycle's committed offsets.
	endOf := func(topic string, p int32) int64 { return at(end.Offsets[topic], p) }
	s.Groups = make([]Group, 0, len(st.groups))
	for _, lg := range st.groups {
		g := Group{Name: lg.Name, State: lg.State, ProtocolType: lg.ProtocolType, Coordinator: lg.Coordinator}
		owner := map[string]map[int32]string{}
		if d, ok := st.descs[lg.Name]; ok {
			g.State, g.ProtocolType, g.Protocol = d.State, d.ProtocolType, d.Protocol
			if d.Err != nil {
				g.Error = d.Err.Error()
			}
			for _, m := range d.Members {
				mem := Member{ID: m.ID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost}
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
		}
		lagKnown := len(committed[lg.Name]) == 0 // no committed offsets: nothing to lag behind
		for topic, parts := range committed[lg.Name] {
			gt := GroupTopic{Topic: topic, Partitions: make([]GroupPartition, 0, len(parts))}
			rings := history[topic]
			// A partition whose end offset is unknown has an unknown lag (-1): it is left out of
			// the sums, and a topic with no known partition lag has an unknown lag itself.
			gt.Lag = -1
			for p, off := range parts {
				gp := GroupPartition{Partition: p, Committed: off, End: endOf(topic, p), Lag: -1, Member: owner[topic][p]}
				gt.CommittedSum += off
				if gp.End >= 0 {
					gp.Lag = max(gp.End-off, 0)
					gt.Lag = max(gt.Lag, 0) + gp.Lag
					if gp.Lag > 0 && int(p) < len(rings) {
						gp.LagSeconds = rings[p].lagSeconds(off, obsAt)
					}
					gt.LagSeconds = max(gt.LagSeconds, gp.LagSeconds)
				}
				gt.Partitions = append(gt.Partitions, gp)
			}
			sort.Slice(gt.Partitions, func(i, j int) bool { return gt.Partitions[i].Partition < gt.Partitions[j].Partition })
			if gt.Lag >= 0 {
				lagKnown = true
				g.TotalLag += gt.Lag
			}
			g.LagSeconds = max(g.LagSeconds, gt.LagSeconds)
			g.Topics = append(g.Topics, gt)
		}
		sort.Slice(g.Topics, func(i, j int) bool { return g.Topics[i].Topic < g.Topics[j].Topic })
		if lagKnown {
			s.Totals.Lag += g.TotalLag
		} else {
			g.TotalLag = -1 // no topic's lag is known
		}
		s.Groups = append(s.Groups, g)
	}
	s.Totals.Groups = len(s.Groups)
	return s
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
	out.Totals = ClusterSample{Brokers: tt.Brokers, BrokersUp: tt.BrokersUp, Topics: tt.Topics, Partitions: tt.Partitions, UnderReplicated: tt.UnderReplicated, Offline: tt.Offline, UnderMinISR: tt.UnderMinISR, Groups: tt.Groups, Lag: tt.Lag, MsgsPerSec: tt.MsgsPerSec, BytesPerSec: tt.BytesPerSec, SizeBytes: tt.SizeBytes}
	return out
}
