package collector

import (
	"context"
	"fmt"
	"sort"

	"github.com/osprey-kafka/osprey/admin"
)

// Share groups (KIP-932). Kafka reports a share group's members (ShareGroupDescribe) and, per
// share-partition, its start offset (SPSO) and, from Kafka 4.2 (DescribeShareGroupOffsets v1),
// its lag. The in-flight records (acquired, available again, acknowledged, archived) and their
// delivery counts are kept by the partition leaders and carried by no admin request; the
// collector learns them from a ShareStateSource when the cluster has one and otherwise leaves
// them out: not reported.
//
// A share group's lag on a partition is what its consumers have not finished with yet:
//
//	reported  the broker's figure (DescribeShareGroupOffsets v1, KIP-1226): high watermark − SPSO
//	          − the records in [SPSO, high watermark) already acknowledged or archived;
//	computed  high watermark − SPSO − (acknowledged + archived in-flight records), when the broker
//	          does not report lag but the share state source does report the in-flight records;
//	estimated high watermark − SPSO, when neither is known: records acknowledged out of order
//	          above the SPSO are counted too, so it is an upper bound.
//
// Never negative; -1 (unknown) when the SPSO or the high watermark is unknown.

// Lag sources of a share-partition.
const (
	ShareLagReported  = "reported"
	ShareLagComputed  = "computed"
	ShareLagEstimated = "estimated"
)

// ShareStateSource reports the in-flight state of a cluster's share-partitions.
type ShareStateSource interface {
	// ShareStates returns the state of every share-partition it can read. It is called once per
	// cycle from the poll goroutine and must return within ctx's deadline.
	ShareStates(ctx context.Context) ([]SharePartitionState, error)
}

// SharePartitionState is one share-partition's in-flight window as its leader keeps it.
type SharePartitionState struct {
	Group     string
	Topic     string
	Partition int32
	// StartOffset is the SPSO and EndOffset the first offset never acquired (SPEO, exclusive).
	StartOffset, EndOffset int64
	// In-flight records (from StartOffset to EndOffset) by state.
	Available, Acquired, Acknowledged, Archived int
	// ArchivedTotal is every record archived so far (rejected, or released or expired at the
	// delivery count limit), also those the SPSO has moved past.
	ArchivedTotal int64
	// Deliveries counts the in-flight records by delivery count.
	Deliveries map[int32]int
}

// SharePartition is a share group's state on one partition.
type SharePartition struct {
	// StartOffset is the share-partition start offset (SPSO); -1 while the group has not
	// initialised the partition.
	StartOffset int64 `json:"startOffset"`
	// LagSource says how GroupPartition.Lag was obtained: reported, computed or estimated (see
	// the package's share-group notes); "" when the lag is unknown.
	LagSource string `json:"lagSource,omitempty"`
	// InFlight is the in-flight window; nil when the cluster does not report it.
	InFlight *ShareInFlight `json:"inFlight,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// ShareInFlight is a share-partition's in-flight records as its leader reports them.
type ShareInFlight struct {
	EndOffset    int64 `json:"endOffset"`
	Available    int   `json:"available"`
	Acquired     int   `json:"acquired"`
	Acknowledged int   `json:"acknowledged"`
	Archived     int   `json:"archived"`
	// ArchivedTotal counts every record archived so far on this share-partition.
	ArchivedTotal int64 `json:"archivedTotal"`
	// Deliveries is the in-flight records by delivery count, lowest count first.
	Deliveries []DeliveryCount `json:"deliveries"`
}

// DeliveryCount is how many in-flight records were delivered Count times.
type DeliveryCount struct {
	Count   int32 `json:"count"`
	Records int   `json:"records"`
}

// ShareGroupFigures sums a share group's in-flight figures over its partitions that report them.
type ShareGroupFigures struct {
	// Reported is false when no partition's in-flight state is reported: the figures are then 0
	// and mean nothing.
	Reported      bool  `json:"reported"`
	InFlight      int   `json:"inFlight"`
	Acquired      int   `json:"acquired"`
	Redelivered   int   `json:"redelivered"` // in-flight records delivered more than once
	Archived      int   `json:"archived"`
	ArchivedTotal int64 `json:"archivedTotal"`
	MaxDeliveries int32 `json:"maxDeliveries"`
}

type shareKey struct {
	group, topic string
	partition    int32
}

// shareGroupNames is the share groups of the last listing.
func (c *Collector) shareGroupNames() map[string]bool {
	out := map[string]bool{}
	for _, g := range c.st.groups {
		if g.Type == "share" {
			out[g.Name] = true
		}
	}
	return out
}

// splitShare splits groups into the others and the share groups.
func splitShare(groups []string, share map[string]bool) (others, shared []string) {
	for _, g := range groups {
		if share[g] {
			shared = append(shared, g)
		} else {
			others = append(others, g)
		}
	}
	return others, shared
}

// groupOffsetsOfShare records a share group's share-partitions in into and returns them as
// committed offsets (the SPSO of each initialised partition), for the code shared with the other
// groups.
func groupOffsetsOfShare(g admin.ShareGroupOffsets, into map[string]map[string]map[int32]admin.ShareOffset) admin.GroupOffsets {
	o := admin.GroupOffsets{Group: g.Group, Offsets: map[string]map[int32]int64{}, Err: g.Err}
	if g.Err != nil {
		return o
	}
	into[g.Group] = g.Offsets
	for t, ps := range g.Offsets {
		m := map[int32]int64{}
		for p, so := range ps {
			if so.Err == nil && so.StartOffset >= 0 {
				m[p] = so.StartOffset
			}
		}
		if len(m) > 0 {
			o.Offsets[t] = m
		}
	}
	return o
}

// refreshShareStates reads the share state source, when there is one, into st.shareStates (nil
// without one or when it failed, recorded with fail). pollMu must be held.
func (c *Collector) refreshShareStates(ctx context.Context, fail func(string, int32, error)) {
	c.st.shareStates = c.readShareStates(ctx, fail)
}

func (c *Collector) readShareStates(ctx context.Context, fail func(string, int32, error)) map[shareKey]SharePartitionState {
	if c.cfg.Shares == nil || len(c.shareGroupNames()) == 0 {
		return nil
	}
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	states, err := c.cfg.Shares.ShareStates(cctx)
	if err != nil {
		fail("shareStates", -1, fmt.Errorf("share-partition states: %w", err))
		return nil
	}
	out := make(map[shareKey]SharePartitionState, len(states))
	for _, s := range states {
		out[shareKey{s.Group, s.Topic, s.Partition}] = s
	}
	return out
}

// shareGroupTopic is a share group's position on one topic: per partition its SPSO (as the
// committed offset), its share state and its lag as the package notes define it.
func (b *snapshotBuilder) shareGroupTopic(group, topic string, parts map[int32]admin.ShareOffset, owner map[int32]string, end *admin.Offsets, fig *ShareGroupFigures) GroupTopic {
	gt := GroupTopic{Topic: topic, Partitions: make([]GroupPartition, 0, len(parts)), Lag: -1}
	rings := b.history[topic]
	for p, so := range parts {
		sp := &SharePartition{StartOffset: so.StartOffset}
		if so.Err != nil {
			sp.Error, sp.StartOffset = so.Err.Error(), -1
		}
		gp := GroupPartition{Partition: p, Committed: sp.StartOffset, End: at(end.Offsets[topic], p), Lag: -1, Member: owner[p],
			Stable: b.stable.Get(topic, p), StableLag: -1, Share: sp}
		if st, ok := b.st.shareStates[shareKey{group, topic, p}]; ok {
			sp.InFlight = inFlight(st)
			fig.add(sp.InFlight)
		}
		gp.Lag, sp.LagSource = shareLag(so, sp, gp.End)
		if gp.Lag >= 0 {
			gt.Lag = max(gt.Lag, 0) + gp.Lag
			gt.CommittedSum += sp.StartOffset
			if gp.Lag > 0 && int(p) < len(rings) {
				gp.LagSeconds = rings[p].lagSeconds(sp.StartOffset, b.obsAt)
			}
			gt.LagSeconds = max(gt.LagSeconds, gp.LagSeconds)
		}
		gt.Partitions = append(gt.Partitions, gp)
	}
	sort.Slice(gt.Partitions, func(i, j int) bool { return gt.Partitions[i].Partition < gt.Partitions[j].Partition })
	return gt
}

// shareLag is a share-partition's lag and its source (see the package's share-group notes).
func shareLag(so admin.ShareOffset, sp *SharePartition, end int64) (int64, string) {
	switch {
	case sp.StartOffset < 0:
		return -1, ""
	case so.Lag >= 0:
		return so.Lag, ShareLagReported
	case end < 0:
		return -1, ""
	case sp.InFlight != nil:
		done := int64(sp.InFlight.Acknowledged + sp.InFlight.Archived)
		return max(end-sp.StartOffset-done, 0), ShareLagComputed
	}
	return max(end-sp.StartOffset, 0), ShareLagEstimated
}

func inFlight(s SharePartitionState) *ShareInFlight {
	f := &ShareInFlight{EndOffset: s.EndOffset, Available: s.Available, Acquired: s.Acquired,
		Acknowledged: s.Acknowledged, Archived: s.Archived, ArchivedTotal: s.ArchivedTotal,
		Deliveries: make([]DeliveryCount, 0, len(s.Deliveries))}
	for n, recs := range s.Deliveries {
		f.Deliveries = append(f.Deliveries, DeliveryCount{Count: n, Records: recs})
	}
	sort.Slice(f.Deliveries, func(i, j int) bool { return f.Deliveries[i].Count < f.Deliveries[j].Count })
	return f
}

func (f *ShareGroupFigures) add(in *ShareInFlight) {
	f.Reported = true
	f.InFlight += in.Available + in.Acquired + in.Acknowledged + in.Archived
	f.Acquired += in.Acquired
	f.Archived += in.Archived
	f.ArchivedTotal += in.ArchivedTotal
	for _, d := range in.Deliveries {
		if d.Count > 1 {
			f.Redelivered += d.Records
		}
		f.MaxDeliveries = max(f.MaxDeliveries, d.Count)
	}
}
