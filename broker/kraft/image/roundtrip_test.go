package image

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// gen makes a random but valid sequence of metadata records: each record is
// chosen against the image of the records before it, and only with fields
// the sequence's metadata.version can write back (it only ever goes up).
type gen struct {
	r   *rand.Rand
	cur Image
}

var genMetadataVersions = []int16{MetadataVersion33IV0, MetadataVersion33IV3, MetadataVersion34IV0, MetadataVersion37IV0, MetadataVersion37IV2, MetadataVersion40IV1, 25}

func (g *gen) uuid() metadata.Uuid {
	var u metadata.Uuid
	for i := range u {
		u[i] = byte(g.r.UintN(256))
	}
	return u
}

// brokerSet is a random set of up to n distinct ids of 0-5, in random order;
// nil when n is 0.
func (g *gen) brokerSet(minLen, maxLen int) []int32 {
	ids := []int32{0, 1, 2, 3, 4, 5}
	g.r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	n := minLen + g.r.IntN(maxLen-minLen+1)
	if n == 0 {
		return []int32{}
	}
	return ids[:n]
}

func (g *gen) pick(xs []int32) int32 { return xs[g.r.IntN(len(xs))] }

func (g *gen) dirs(n int) []metadata.Uuid {
	if g.cur.MetadataVersion() < MetadataVersion37IV2 || g.r.IntN(2) == 0 {
		return nil
	}
	ds := make([]metadata.Uuid, n)
	for i := range ds {
		if g.r.IntN(4) > 0 {
			ds[i] = metadata.Uuid{15: byte(100 + g.r.IntN(3))}
		}
	}
	return ds
}

func (g *gen) next() metadata.Record {
	mv := g.cur.MetadataVersion()
	brokers := g.cur.Brokers()
	topics := g.cur.Topics()
	for {
		switch g.r.IntN(16) {
		case 0:
			if g.r.IntN(16) == 0 {
				i := slices.Index(genMetadataVersions, mv)
				return &metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: genMetadataVersions[i+g.r.IntN(len(genMetadataVersions)-i)]}
			}
			names := []string{"kraft.version", "group.version", "transaction.version"}
			return &metadata.FeatureLevelRecord{Name: names[g.r.IntN(3)], FeatureLevel: int16(g.r.IntN(3))}
		case 1, 2:
			id := int32(g.r.IntN(6))
			r := &metadata.RegisterBrokerRecord{
				BrokerID:      id,
				IncarnationID: g.uuid(),
				BrokerEpoch:   int64(g.r.IntN(1000)),
				Fenced:        g.r.IntN(2) == 0,
			}
			for range g.r.IntN(3) {
				r.EndPoints = append(r.EndPoints, metadata.Endpoint{Name: []string{"PLAINTEXT", "SSL", "INTERNAL"}[g.r.IntN(3)], Host: fmt.Sprintf("h%d", id), Port: uint16(g.r.IntN(65536)), SecurityProtocol: int16(g.r.IntN(4))})
			}
			for range g.r.IntN(3) {
				r.Features = append(r.Features, metadata.Feature{Name: []string{"metadata.version", "kraft.version"}[g.r.IntN(2)], MinSupportedVersion: int16(g.r.IntN(3)), MaxSupportedVersion: int16(3 + g.r.IntN(20))})
			}
			if g.r.IntN(2) == 0 {
				r.Rack = strp([]string{"", "r1", "r2"}[g.r.IntN(3)])
			}
			r.InControlledShutdown = mv >= MetadataVersion33IV3 && g.r.IntN(4) == 0
			r.IsMigratingZkBroker = mv >= MetadataVersion34IV0 && g.r.IntN(4) == 0
			if mv >= MetadataVersion37IV2 && g.r.IntN(2) == 0 {
				r.LogDirs = []metadata.Uuid{g.uuid(), g.uuid()}[:1+g.r.IntN(2)]
			}
			return r
		case 3:
			if len(brokers) == 0 {
				continue
			}
			b := brokers[g.r.IntN(len(brokers))]
			switch g.r.IntN(4) {
			case 0:
				return &metadata.UnregisterBrokerRecord{BrokerID: b.ID, BrokerEpoch: b.Epoch}
			case 1:
				return &metadata.FenceBrokerRecord{ID: b.ID, Epoch: b.Epoch}
			case 2:
				return &metadata.UnfenceBrokerRecord{ID: b.ID, Epoch: b.Epoch}
			}
			r := &metadata.BrokerRegistrationChangeRecord{BrokerID: b.ID, BrokerEpoch: b.Epoch, Fenced: int8(g.r.IntN(3) - 1)}
			if mv >= MetadataVersion33IV3 {
				r.InControlledShutdown = int8(g.r.IntN(2))
			}
			if mv >= MetadataVersion37IV2 && g.r.IntN(2) == 0 {
				r.LogDirs = []metadata.Uuid{g.uuid()}
			}
			return r
		case 4:
			if mv < MetadataVersion37IV0 {
				continue
			}
			return &metadata.RegisterControllerRecord{
				ControllerID:     int32(3000 + g.r.IntN(3)),
				IncarnationID:    g.uuid(),
				ZkMigrationReady: g.r.IntN(2) == 0,
				EndPoints:        []metadata.Endpoint{{Name: "CONTROLLER", Host: "c", Port: uint16(9093 + g.r.IntN(3))}},
				Features:         []metadata.Feature{{Name: "kraft.version", MaxSupportedVersion: int16(g.r.IntN(2))}},
			}
		case 5:
			name := fmt.Sprintf("t%d", g.r.IntN(8))
			if t, ok := g.cur.Topic(name); ok {
				if g.r.IntN(4) == 0 {
					// Kafka replaces a live topic re-created with its own id.
					return &metadata.TopicRecord{Name: name, TopicID: t.ID}
				}
				continue
			}
			return &metadata.TopicRecord{Name: name, TopicID: g.uuid()}
		case 6, 7:
			if len(topics) == 0 {
				continue
			}
			t := topics[g.r.IntN(len(topics))]
			replicas := g.brokerSet(1, 4)
			isr := slices.Clone(replicas[:g.r.IntN(len(replicas)+1)])
			leader := NoLeader
			if len(isr) > 0 {
				leader = g.pick(isr)
			}
			r := &metadata.PartitionRecord{
				PartitionID:         int32(g.r.IntN(t.NumPartitions() + 1)),
				TopicID:             t.ID,
				Replicas:            replicas,
				Isr:                 isr,
				Leader:              leader,
				LeaderRecoveryState: int8(g.r.IntN(2)),
				LeaderEpoch:         int32(g.r.IntN(10)),
				PartitionEpoch:      int32(g.r.IntN(10)),
				Directories:         g.dirs(len(replicas)),
			}
			if g.r.IntN(3) == 0 {
				r.AddingReplicas = replicas[:1]
				r.RemovingReplicas = replicas[len(replicas)-1:]
			}
			if mv >= MetadataVersion40IV1 && g.r.IntN(2) == 0 {
				r.EligibleLeaderReplicas = g.brokerSet(0, 2)
				r.LastKnownElr = g.brokerSet(0, 1)
			}
			return r
		case 8, 9, 10:
			type topicPartition struct {
				TopicID metadata.Uuid
				Partition
			}
			var ps []topicPartition
			for _, t := range topics {
				for _, p := range t.Partitions() {
					ps = append(ps, topicPartition{t.ID, p})
				}
			}
			if len(ps) == 0 {
				continue
			}
			p := ps[g.r.IntN(len(ps))]
			r := metadata.NewPartitionChangeRecord()
			r.TopicID, r.PartitionID = p.TopicID, p.Index
			nreplicas := len(p.Replicas)
			if g.r.IntN(3) == 0 {
				r.Replicas = g.brokerSet(1, 4)
				nreplicas = len(r.Replicas)
				if slices.ContainsFunc(p.Directories, func(u metadata.Uuid) bool { return !u.IsZero() }) && nreplicas != len(p.Replicas) {
					// known directories must be replaced along with a
					// replica count change
					r.Directories = make([]metadata.Uuid, nreplicas)
				}
			}
			if d := g.dirs(nreplicas); d != nil && g.r.IntN(2) == 0 {
				r.Directories = d
			}
			if g.r.IntN(2) == 0 {
				r.Isr = g.brokerSet(0, 3)
			}
			if g.r.IntN(2) == 0 {
				r.Leader = int32(g.r.IntN(7) - 1)
			}
			if g.r.IntN(4) == 0 {
				r.AddingReplicas = g.brokerSet(0, 1)
			}
			if g.r.IntN(4) == 0 {
				r.RemovingReplicas = g.brokerSet(0, 1)
			}
			if g.r.IntN(4) == 0 {
				r.LeaderRecoveryState = int8(g.r.IntN(2))
			}
			if mv >= MetadataVersion40IV1 && g.r.IntN(3) == 0 {
				r.EligibleLeaderReplicas = g.brokerSet(0, 2)
			}
			if mv >= MetadataVersion40IV1 && g.r.IntN(3) == 0 {
				r.LastKnownElr = g.brokerSet(0, 2)
			}
			return &r
		case 11:
			if len(topics) == 0 || g.r.IntN(3) > 0 {
				continue
			}
			return &metadata.RemoveTopicRecord{TopicID: topics[g.r.IntN(len(topics))].ID}
		case 12, 13:
			res := []ConfigResource{{ResourceBroker, ""}, {ResourceBroker, "1"}, {ResourceTopic, fmt.Sprintf("t%d", g.r.IntN(8))}}[g.r.IntN(3)]
			r := &metadata.ConfigRecord{ResourceType: res.Type, ResourceName: res.Name, Name: fmt.Sprintf("k%d", g.r.IntN(4))}
			if g.r.IntN(3) > 0 {
				r.Value = strp(fmt.Sprint(g.r.IntN(100)))
			}
			return r
		case 14:
			return &metadata.ProducerIdsRecord{BrokerID: int32(g.r.IntN(6)), BrokerEpoch: int64(g.r.IntN(10)), NextProducerID: int64(g.r.IntN(1 << 20))}
		case 15:
			return &metadata.NoOpRecord{}
		}
	}
}

// sequence returns n random records after a metadata.version record, and
// the image after each, replayed one record per delta.
func sequence(t *testing.T, seed uint64, n int) ([]metadata.Record, Image) {
	t.Helper()
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cur: Empty()}
	first := &metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: genMetadataVersions[g.r.IntN(len(genMetadataVersions))]}
	recs := []metadata.Record{first}
	g.cur = applyOn(t, g.cur, first)
	for range n {
		r := g.next()
		d := NewDelta(g.cur)
		if err := d.Replay(r); err != nil {
			t.Fatalf("seed %d: the generator made a record the image refuses: %T %+v: %v", seed, r, r, err)
		}
		g.cur = d.Apply()
		recs = append(recs, r)
	}
	return recs, g.cur
}

// encodeAll encodes each record at its version and decodes it again, as a
// snapshot written to disk and read back.
func encodeAll(t *testing.T, vrs []VersionedRecord) ([]metadata.Record, [][]byte) {
	t.Helper()
	var recs []metadata.Record
	var raw [][]byte
	for _, vr := range vrs {
		b, err := metadata.Marshal(vr.Record, vr.Version)
		if err != nil {
			t.Fatalf("encode %T v%d: %v", vr.Record, vr.Version, err)
		}
		rec, v, err := metadata.Unmarshal(b)
		if err != nil || v != vr.Version {
			t.Fatalf("decode %T v%d: version %d, %v", vr.Record, vr.Version, v, err)
		}
		recs = append(recs, rec)
		raw = append(raw, b)
	}
	return recs, raw
}

// recordCount is how many records an image is written as: one per feature
// (metadata.version included), broker, controller, topic, partition and
// configuration key, and one for the producer id block.
func recordCount(im Image) int {
	n := len(im.FinalizedFeatures()) + len(im.Brokers()) + len(im.Controllers())
	for _, t := range im.Topics() {
		n += 1 + t.NumPartitions()
	}
	for _, r := range im.ConfigResources() {
		n += len(im.Configs(r))
	}
	if im.NextProducerID() >= 0 {
		n++
	}
	return n
}

// For seeded random record sequences: the image does not depend on how the
// log is cut into deltas, and image → records → (encoded, decoded) → image
// gives the same image, written as the same bytes again.
func TestRoundTripRandomSequences(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		recs, want := sequence(t, seed, 400)

		if got := build(t, recs...); !got.Equal(want) {
			t.Fatalf("seed %d: one delta for all records differs from one delta per record", seed)
		}
		cuts := rand.New(rand.NewPCG(seed, 1))
		im := Empty()
		for rest := recs; len(rest) > 0; {
			n := 1 + cuts.IntN(min(len(rest), 40))
			im = applyOn(t, im, rest[:n]...)
			rest = rest[n:]
		}
		if !im.Equal(want) {
			t.Fatalf("seed %d: random delta boundaries give another image", seed)
		}

		vrs, err := want.Records()
		if err != nil {
			t.Fatalf("seed %d: Records: %v", seed, err)
		}
		if len(vrs) != recordCount(want) {
			t.Fatalf("seed %d: %d records, want %d", seed, len(vrs), recordCount(want))
		}
		if fl, ok := vrs[0].Record.(*metadata.FeatureLevelRecord); !ok || fl.Name != MetadataVersionFeature || vrs[0].Version != 0 {
			t.Fatalf("seed %d: first record %+v, want metadata.version at v0", seed, vrs[0])
		}
		decoded, raw := encodeAll(t, vrs)
		back, err := FromRecords(decoded)
		if err != nil {
			t.Fatalf("seed %d: replaying the image's records: %v", seed, err)
		}
		if !back.Equal(want) {
			t.Fatalf("seed %d: image → records → image differs", seed)
		}
		vrs2, err := back.Records()
		if err != nil {
			t.Fatalf("seed %d: Records again: %v", seed, err)
		}
		_, raw2 := encodeAll(t, vrs2)
		if !slices.EqualFunc(raw, raw2, bytes.Equal) {
			t.Fatalf("seed %d: the rebuilt image is written differently", seed)
		}
	}
}

func TestRecordsEmptyImage(t *testing.T) {
	vrs, err := Empty().Records()
	if err != nil || len(vrs) != 0 {
		t.Fatalf("Records of the empty image = %v, %v", vrs, err)
	}
	// Without metadata.version nothing says which record versions to use.
	im := build(t, registerBroker(1, 1))
	if _, err := im.Records(); !errors.Is(err, ErrUnwritable) {
		t.Fatalf("Records without metadata.version: %v, want ErrUnwritable", err)
	}
}

// State the metadata.version has no field for is refused rather than
// dropped, as Kafka's image writer does.
func TestRecordsRefusesLoss(t *testing.T) {
	mv := func(l int16) metadata.Record {
		return &metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: l}
	}
	tid := uid(1)
	withDirs := partitionChange(tid, 0, func(r *metadata.PartitionChangeRecord) { r.Directories = []metadata.Uuid{uid(5)} })
	withElr := partitionChange(tid, 0, func(r *metadata.PartitionChangeRecord) { r.EligibleLeaderReplicas = []int32{1} })
	ics := registerBroker(1, 1)
	ics.InControlledShutdown = true
	zk := registerBroker(1, 1)
	zk.IsMigratingZkBroker = true
	dirs := registerBroker(1, 1)
	dirs.LogDirs = []metadata.Uuid{uid(3)}
	ctrl := &metadata.RegisterControllerRecord{ControllerID: 3000}
	for _, tc := range []struct {
		name   string
		recs   []metadata.Record
		needMV int16
	}{
		{"metadata.version before 3.3-IV0", nil, MetadataVersion33IV0},
		{"in controlled shutdown", []metadata.Record{ics}, MetadataVersion33IV3},
		{"migrating ZooKeeper broker", []metadata.Record{zk}, MetadataVersion34IV0},
		{"broker log dirs", []metadata.Record{dirs}, MetadataVersion37IV2},
		{"controller registration", []metadata.Record{ctrl}, MetadataVersion37IV0},
		{"replica directories", append(topicWith("t", tid, []int32{1}), withDirs), MetadataVersion37IV2},
		{"eligible leader replicas", append(topicWith("t", tid, []int32{1}), withElr), MetadataVersion40IV1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lower := build(t, append([]metadata.Record{mv(max(tc.needMV-1, 1))}, tc.recs...)...)
			if _, err := lower.Records(); !errors.Is(err, ErrUnwritable) {
				t.Fatalf("at metadata.version %d: %v, want ErrUnwritable", lower.MetadataVersion(), err)
			}
			enough := build(t, append([]metadata.Record{mv(tc.needMV)}, tc.recs...)...)
			vrs, err := enough.Records()
			if err != nil {
				t.Fatalf("at metadata.version %d: %v", tc.needMV, err)
			}
			decoded, _ := encodeAll(t, vrs)
			if back, err := FromRecords(decoded); err != nil || !back.Equal(enough) {
				t.Fatalf("round trip at metadata.version %d: %v", tc.needMV, err)
			}
		})
	}
}
