package image

import (
	"reflect"
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// replayCase replays base in one delta, then recs in a second one on its
// image. With wantErr the last of recs must fail with an error containing it,
// and the delta must be left as the records before it made it.
type replayCase struct {
	name    string
	base    []metadata.Record
	recs    []metadata.Record
	wantErr string
	check   func(t *testing.T, im Image)
}

func runReplayCases(t *testing.T, cases []replayCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := build(t, tc.base...)
			if tc.wantErr == "" {
				im := applyOn(t, base, tc.recs...)
				if tc.check != nil {
					tc.check(t, im)
				}
				return
			}
			n := len(tc.recs) - 1
			d := NewDelta(base)
			for i, r := range tc.recs[:n] {
				if err := d.Replay(r); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
			}
			before := d.Apply()
			err := d.Replay(tc.recs[n])
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("replay %T: error %v, want one containing %q", tc.recs[n], err, tc.wantErr)
			}
			if after := d.Apply(); !after.Equal(before) {
				t.Fatalf("a refused record changed the delta")
			}
			if tc.check != nil {
				tc.check(t, before)
			}
		})
	}
}

func TestReplayFeatureLevel(t *testing.T) {
	mv := func(l int16) *metadata.FeatureLevelRecord {
		return &metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: l}
	}
	runReplayCases(t, []replayCase{
		{name: "empty image has no metadata.version", check: func(t *testing.T, im Image) {
			if im.MetadataVersion() != 0 {
				t.Fatalf("MetadataVersion = %d", im.MetadataVersion())
			}
			if _, ok := im.Feature(MetadataVersionFeature); ok {
				t.Fatal("metadata.version finalized in the empty image")
			}
		}},
		{name: "metadata.version set then raised", base: []metadata.Record{mv(17)}, recs: []metadata.Record{mv(23)}, check: func(t *testing.T, im Image) {
			if l, ok := im.Feature(MetadataVersionFeature); !ok || l != 23 || im.MetadataVersion() != 23 {
				t.Fatalf("metadata.version = %d %v", l, ok)
			}
		}},
		{name: "metadata.version level 0 refused", base: []metadata.Record{mv(17)}, recs: []metadata.Record{mv(0)}, wantErr: "not a metadata.version level"},
		{name: "other feature set, changed and listed with metadata.version",
			recs: []metadata.Record{mv(21), &metadata.FeatureLevelRecord{Name: "kraft.version", FeatureLevel: 1}, &metadata.FeatureLevelRecord{Name: "group.version", FeatureLevel: 1}, &metadata.FeatureLevelRecord{Name: "kraft.version", FeatureLevel: 2}},
			check: func(t *testing.T, im Image) {
				want := map[string]int16{MetadataVersionFeature: 21, "kraft.version": 2, "group.version": 1}
				if got := im.FinalizedFeatures(); !reflect.DeepEqual(got, want) {
					t.Fatalf("FinalizedFeatures = %v, want %v", got, want)
				}
			}},
		{name: "level 0 removes a feature",
			base: []metadata.Record{mv(21), &metadata.FeatureLevelRecord{Name: "kraft.version", FeatureLevel: 1}},
			recs: []metadata.Record{&metadata.FeatureLevelRecord{Name: "kraft.version", FeatureLevel: 0}},
			check: func(t *testing.T, im Image) {
				if _, ok := im.Feature("kraft.version"); ok {
					t.Fatal("kraft.version still finalized")
				}
			}},
	})
}

func TestReplayBrokerRegistration(t *testing.T) {
	full := &metadata.RegisterBrokerRecord{
		BrokerID:            3,
		IsMigratingZkBroker: true,
		IncarnationID:       uid(9),
		BrokerEpoch:         42,
		EndPoints: []metadata.Endpoint{
			{Name: "SSL", Host: "b3", Port: 9093, SecurityProtocol: 1},
			{Name: "PLAINTEXT", Host: "old", Port: 1},
			{Name: "PLAINTEXT", Host: "b3", Port: 9092},
		},
		Features:             []metadata.Feature{{Name: "metadata.version", MinSupportedVersion: 7, MaxSupportedVersion: 25}, {Name: "kraft.version", MaxSupportedVersion: 1}},
		Rack:                 strp("r1"),
		Fenced:               true,
		InControlledShutdown: true,
		LogDirs:              []metadata.Uuid{uid(50), uid(51)},
	}
	runReplayCases(t, []replayCase{
		{name: "register: every field", recs: []metadata.Record{full}, check: func(t *testing.T, im Image) {
			b, ok := im.Broker(3)
			if !ok {
				t.Fatal("broker 3 not registered")
			}
			want := Broker{
				ID: 3, Epoch: 42, IncarnationID: uid(9),
				// keyed by name as Kafka's map: the last PLAINTEXT wins, sorted
				Listeners: []Listener{{Name: "PLAINTEXT", Host: "b3", Port: 9092}, {Name: "SSL", Host: "b3", Port: 9093, SecurityProtocol: 1}},
				Features:  []FeatureRange{{Name: "kraft.version", MaxLevel: 1}, {Name: "metadata.version", MinLevel: 7, MaxLevel: 25}},
				Rack:      strp("r1"), Fenced: true, InControlledShutdown: true, IsMigratingZkBroker: true,
				LogDirs: []metadata.Uuid{uid(50), uid(51)},
			}
			if !reflect.DeepEqual(b, want) {
				t.Fatalf("broker =\n%+v\nwant\n%+v", b, want)
			}
			if l, ok := b.Listener("SSL"); !ok || l.Port != 9093 {
				t.Fatalf("Listener(SSL) = %+v %v", l, ok)
			}
		}},
		{name: "register again replaces the registration", base: []metadata.Record{full}, recs: []metadata.Record{registerBroker(3, 43)}, check: func(t *testing.T, im Image) {
			b, _ := im.Broker(3)
			if b.Epoch != 43 || b.Rack != nil || b.InControlledShutdown || b.LogDirs != nil || len(b.Listeners) != 1 {
				t.Fatalf("broker after re-registration = %+v", b)
			}
		}},
		{name: "unregister removes", base: []metadata.Record{registerBroker(1, 5), registerBroker(2, 6)}, recs: []metadata.Record{&metadata.UnregisterBrokerRecord{BrokerID: 1, BrokerEpoch: 5}}, check: func(t *testing.T, im Image) {
			if _, ok := im.Broker(1); ok {
				t.Fatal("broker 1 still registered")
			}
			if bs := im.Brokers(); len(bs) != 1 || bs[0].ID != 2 {
				t.Fatalf("Brokers = %+v", bs)
			}
		}},
		{name: "unfence then fence", base: []metadata.Record{registerBroker(1, 5)}, recs: []metadata.Record{&metadata.UnfenceBrokerRecord{ID: 1, Epoch: 5}}, check: func(t *testing.T, im Image) {
			if b, _ := im.Broker(1); b.Fenced {
				t.Fatal("still fenced after UnfenceBrokerRecord")
			}
			im = applyOn(t, im, &metadata.FenceBrokerRecord{ID: 1, Epoch: 5})
			if b, _ := im.Broker(1); !b.Fenced {
				t.Fatal("not fenced after FenceBrokerRecord")
			}
		}},
		{name: "fence with another epoch refused", base: []metadata.Record{registerBroker(1, 5)}, recs: []metadata.Record{&metadata.FenceBrokerRecord{ID: 1, Epoch: 4}}, wantErr: "has epoch 5"},
		{name: "unfence of an unregistered broker refused", recs: []metadata.Record{&metadata.UnfenceBrokerRecord{ID: 7, Epoch: 1}}, wantErr: "not registered"},
		{name: "change: unfence, controlled shutdown, log dirs", base: []metadata.Record{registerBroker(1, 5)},
			recs: []metadata.Record{&metadata.BrokerRegistrationChangeRecord{BrokerID: 1, BrokerEpoch: 5, Fenced: metadata.FenceChangeUnfence, InControlledShutdown: 1, LogDirs: []metadata.Uuid{uid(60)}}},
			check: func(t *testing.T, im Image) {
				b, _ := im.Broker(1)
				if b.Fenced || !b.InControlledShutdown || !reflect.DeepEqual(b.LogDirs, []metadata.Uuid{uid(60)}) {
					t.Fatalf("broker = %+v", b)
				}
			}},
		{name: "change: absent fields leave the broker as it was", base: []metadata.Record{full},
			recs: []metadata.Record{&metadata.BrokerRegistrationChangeRecord{BrokerID: 3, BrokerEpoch: 42}},
			check: func(t *testing.T, im Image) {
				if b, _ := im.Broker(3); !b.Fenced || !b.InControlledShutdown || len(b.LogDirs) != 2 {
					t.Fatalf("broker = %+v", b)
				}
			}},
		{name: "change: fence", base: []metadata.Record{registerBroker(1, 5), &metadata.UnfenceBrokerRecord{ID: 1, Epoch: 5}},
			recs: []metadata.Record{&metadata.BrokerRegistrationChangeRecord{BrokerID: 1, BrokerEpoch: 5, Fenced: metadata.FenceChangeFence}},
			check: func(t *testing.T, im Image) {
				if b, _ := im.Broker(1); !b.Fenced {
					t.Fatal("not fenced")
				}
			}},
		{name: "change: unknown fenced value refused", base: []metadata.Record{registerBroker(1, 5)},
			recs: []metadata.Record{&metadata.BrokerRegistrationChangeRecord{BrokerID: 1, BrokerEpoch: 5, Fenced: 2}}, wantErr: "unknown value 2 for fenced"},
		{name: "change: unknown inControlledShutdown value refused", base: []metadata.Record{registerBroker(1, 5)},
			recs: []metadata.Record{&metadata.BrokerRegistrationChangeRecord{BrokerID: 1, BrokerEpoch: 5, InControlledShutdown: -1}}, wantErr: "inControlledShutdown"},
		{name: "change: stale epoch refused", base: []metadata.Record{registerBroker(1, 5)},
			recs: []metadata.Record{&metadata.BrokerRegistrationChangeRecord{BrokerID: 1, BrokerEpoch: 6, Fenced: metadata.FenceChangeUnfence}}, wantErr: "has epoch 5"},
		{name: "register controller", recs: []metadata.Record{&metadata.RegisterControllerRecord{
			ControllerID: 3000, IncarnationID: uid(7), ZkMigrationReady: true,
			EndPoints: []metadata.Endpoint{{Name: "CONTROLLER", Host: "c0", Port: 9093}},
			Features:  []metadata.Feature{{Name: "kraft.version", MaxSupportedVersion: 1}},
		}}, check: func(t *testing.T, im Image) {
			c, ok := im.Controller(3000)
			want := Controller{ID: 3000, IncarnationID: uid(7), ZkMigrationReady: true,
				Listeners: []Listener{{Name: "CONTROLLER", Host: "c0", Port: 9093}},
				Features:  []FeatureRange{{Name: "kraft.version", MaxLevel: 1}}}
			if !ok || !reflect.DeepEqual(c, want) {
				t.Fatalf("controller = %+v %v, want %+v", c, ok, want)
			}
			if len(im.Brokers()) != 0 || len(im.Controllers()) != 1 {
				t.Fatal("controller registered as a broker, or listed twice")
			}
		}},
	})
}

func TestReplayTopicsAndPartitions(t *testing.T) {
	tid := uid(1)
	topic := &metadata.TopicRecord{Name: "orders", TopicID: tid}
	part := &metadata.PartitionRecord{
		PartitionID: 0, TopicID: tid,
		Replicas: []int32{1, 2, 3}, Isr: []int32{1, 2}, RemovingReplicas: []int32{3}, AddingReplicas: []int32{},
		Leader: 1, LeaderRecoveryState: LeaderRecovering, LeaderEpoch: 7, PartitionEpoch: 9,
		Directories:            []metadata.Uuid{uid(41), uid(42), uid(43)},
		EligibleLeaderReplicas: []int32{3}, LastKnownElr: []int32{},
	}
	plain := topicWith("orders", tid, []int32{1, 2, 3}, []int32{2, 3, 1})
	change := func(edit func(*metadata.PartitionChangeRecord)) []metadata.Record {
		return []metadata.Record{partitionChange(tid, 0, edit)}
	}
	// after applies base (plain) and one change to partition 0, and compares
	// it with what partition 0 should be: plain's with the partition epoch
	// bumped and want applied.
	after := func(want func(p *Partition)) func(t *testing.T, im Image) {
		return func(t *testing.T, im Image) {
			t.Helper()
			exp := Partition{Index: 0, Replicas: []int32{1, 2, 3}, Directories: make([]metadata.Uuid, 3), Isr: []int32{1, 2, 3}, Leader: 1, PartitionEpoch: 1}
			want(&exp)
			if got := mustPartition(t, im, "orders", 0); !reflect.DeepEqual(got, exp) {
				t.Fatalf("partition =\n%+v\nwant\n%+v", got, exp)
			}
			if p1 := mustPartition(t, im, "orders", 1); p1.PartitionEpoch != 0 {
				t.Fatalf("partition 1 touched: %+v", p1)
			}
		}
	}
	runReplayCases(t, []replayCase{
		{name: "topic by name and id", recs: []metadata.Record{topic}, check: func(t *testing.T, im Image) {
			a, ok1 := im.Topic("orders")
			b, ok2 := im.TopicByID(tid)
			if !ok1 || !ok2 || a.ID != tid || b.Name != "orders" || a.NumPartitions() != 0 || im.NumTopics() != 1 {
				t.Fatalf("Topic = %+v %v, TopicByID = %+v %v", a, ok1, b, ok2)
			}
		}},
		{name: "partition record: every field", recs: []metadata.Record{topic, part}, check: func(t *testing.T, im Image) {
			want := Partition{
				Index: 0, Replicas: []int32{1, 2, 3}, Directories: []metadata.Uuid{uid(41), uid(42), uid(43)},
				Isr: []int32{1, 2}, RemovingReplicas: []int32{3}, Leader: 1, LeaderRecoveryState: LeaderRecovering,
				LeaderEpoch: 7, PartitionEpoch: 9, EligibleLeaderReplicas: []int32{3},
			}
			if got := mustPartition(t, im, "orders", 0); !reflect.DeepEqual(got, want) {
				t.Fatalf("partition =\n%+v\nwant\n%+v", got, want)
			}
		}},
		{name: "partition record without directories: unknown (MIGRATING) per replica", recs: plain, check: func(t *testing.T, im Image) {
			if p := mustPartition(t, im, "orders", 1); !reflect.DeepEqual(p.Directories, make([]metadata.Uuid, 3)) {
				t.Fatalf("directories = %v", p.Directories)
			}
		}},
		{name: "partition record for an unknown topic refused", recs: []metadata.Record{part}, wantErr: "no topic"},
		{name: "partition record with directories not matching replicas refused",
			recs: []metadata.Record{topic, &metadata.PartitionRecord{TopicID: tid, Replicas: []int32{1, 2}, Directories: []metadata.Uuid{uid(1)}}}, wantErr: "1 directories for 2 replicas"},
		{name: "partition record with an unknown leader recovery state refused",
			recs: []metadata.Record{topic, &metadata.PartitionRecord{TopicID: tid, Replicas: []int32{1}, LeaderRecoveryState: 2}}, wantErr: "leader recovery state"},
		{name: "topic name taken by another id refused", base: []metadata.Record{topic}, recs: []metadata.Record{&metadata.TopicRecord{Name: "orders", TopicID: uid(2)}}, wantErr: "exists with id"},

		{name: "change: nothing but the partition epoch", base: plain, recs: change(nil), check: after(func(*Partition) {})},
		{name: "change: ISR shrinks", base: plain, recs: change(func(r *metadata.PartitionChangeRecord) { r.Isr = []int32{1} }),
			check: after(func(p *Partition) { p.Isr = []int32{1} })},
		{name: "change: leader moves, leader epoch bumps", base: plain, recs: change(func(r *metadata.PartitionChangeRecord) { r.Leader = 2 }),
			check: after(func(p *Partition) { p.Leader, p.LeaderEpoch = 2, 1 })},
		{name: "change: leader set to itself still bumps the leader epoch", base: plain, recs: change(func(r *metadata.PartitionChangeRecord) { r.Leader = 1 }),
			check: after(func(p *Partition) { p.LeaderEpoch = 1 })},
		{name: "change: no leader", base: plain, recs: change(func(r *metadata.PartitionChangeRecord) { r.Leader = NoLeader; r.Isr = []int32{} }),
			check: after(func(p *Partition) { p.Leader, p.LeaderEpoch, p.Isr = NoLeader, 1, nil })},
		{name: "change: reassignment adds and removes replicas; unknown directories follow the replica count", base: plain,
			recs: change(func(r *metadata.PartitionChangeRecord) {
				r.Replicas = []int32{1, 2, 3, 4}
				r.AddingReplicas = []int32{4}
				r.RemovingReplicas = []int32{3}
			}),
			check: after(func(p *Partition) {
				p.Replicas, p.AddingReplicas, p.RemovingReplicas = []int32{1, 2, 3, 4}, []int32{4}, []int32{3}
				p.Directories = make([]metadata.Uuid, 4)
			})},
		{name: "change: reassignment completes, empty lists clear", base: append(plain, partitionChange(tid, 0, func(r *metadata.PartitionChangeRecord) {
			r.Replicas, r.AddingReplicas, r.RemovingReplicas = []int32{1, 2, 3, 4}, []int32{4}, []int32{3}
		})),
			recs: change(func(r *metadata.PartitionChangeRecord) {
				r.Replicas, r.Isr, r.AddingReplicas, r.RemovingReplicas = []int32{1, 2, 4}, []int32{1, 2, 4}, []int32{}, []int32{}
			}),
			check: after(func(p *Partition) {
				p.Replicas, p.Isr, p.Directories, p.PartitionEpoch = []int32{1, 2, 4}, []int32{1, 2, 4}, make([]metadata.Uuid, 3), 2
			})},
		{name: "change: directories", base: plain, recs: change(func(r *metadata.PartitionChangeRecord) { r.Directories = []metadata.Uuid{uid(7), uid(8), uid(9)} }),
			check: after(func(p *Partition) { p.Directories = []metadata.Uuid{uid(7), uid(8), uid(9)} })},
		{name: "change: replicas without directories keep known ones when the count matches",
			base: append(plain, partitionChange(tid, 0, func(r *metadata.PartitionChangeRecord) { r.Directories = []metadata.Uuid{uid(7), uid(8), uid(9)} })),
			recs: change(func(r *metadata.PartitionChangeRecord) { r.Replicas = []int32{3, 2, 1} }),
			check: after(func(p *Partition) {
				p.Replicas, p.Directories, p.PartitionEpoch = []int32{3, 2, 1}, []metadata.Uuid{uid(7), uid(8), uid(9)}, 2
			})},
		{name: "change: replica count change with known directories and none given refused",
			base: append(plain, partitionChange(tid, 0, func(r *metadata.PartitionChangeRecord) { r.Directories = []metadata.Uuid{uid(7), uid(8), uid(9)} })),
			recs: change(func(r *metadata.PartitionChangeRecord) { r.Replicas = []int32{1, 2} }), wantErr: "3 directories for 2 replicas"},
		{name: "change: directories not matching new replicas refused", base: plain,
			recs: change(func(r *metadata.PartitionChangeRecord) {
				r.Replicas = []int32{1, 2}
				r.Directories = []metadata.Uuid{uid(1)}
			}), wantErr: "1 directories for 2 replicas"},
		{name: "change: ELR set, then cleared by empty lists", base: plain,
			recs: change(func(r *metadata.PartitionChangeRecord) {
				r.EligibleLeaderReplicas = []int32{2}
				r.LastKnownElr = []int32{3}
			}),
			check: func(t *testing.T, im Image) {
				after(func(p *Partition) { p.EligibleLeaderReplicas, p.LastKnownElr = []int32{2}, []int32{3} })(t, im)
				im = applyOn(t, im, partitionChange(tid, 0, func(r *metadata.PartitionChangeRecord) { r.EligibleLeaderReplicas = []int32{} }))
				if p := mustPartition(t, im, "orders", 0); p.EligibleLeaderReplicas != nil || !reflect.DeepEqual(p.LastKnownElr, []int32{3}) {
					t.Fatalf("after clearing ELR: %+v", p)
				}
			}},
		{name: "change: leader recovery state", base: plain, recs: change(func(r *metadata.PartitionChangeRecord) { r.LeaderRecoveryState = LeaderRecovering }),
			check: after(func(p *Partition) { p.LeaderRecoveryState = LeaderRecovering })},
		{name: "change: unknown leader recovery state refused", base: plain, recs: change(func(r *metadata.PartitionChangeRecord) { r.LeaderRecoveryState = 5 }), wantErr: "leader recovery state"},
		{name: "change: two changes in one delta compose", base: plain,
			recs: []metadata.Record{
				partitionChange(tid, 0, func(r *metadata.PartitionChangeRecord) { r.Leader = 2 }),
				partitionChange(tid, 0, func(r *metadata.PartitionChangeRecord) { r.Isr = []int32{2, 3} }),
			},
			check: after(func(p *Partition) { p.Leader, p.LeaderEpoch, p.Isr, p.PartitionEpoch = 2, 1, []int32{2, 3}, 2 })},
		{name: "change: unknown partition refused", base: plain, recs: []metadata.Record{partitionChange(tid, 5, nil)}, wantErr: "no such partition"},
		{name: "change: unknown topic refused", base: plain, recs: []metadata.Record{partitionChange(uid(99), 0, nil)}, wantErr: "no topic"},
		{name: "partitions listed in order", base: plain, check: func(t *testing.T, im Image) {
			tp, _ := im.Topic("orders")
			ps := tp.Partitions()
			if len(ps) != 2 || ps[0].Index != 0 || ps[1].Index != 1 || !ps[1].HasReplica(3) || ps[1].HasReplica(4) {
				t.Fatalf("Partitions = %+v", ps)
			}
		}},
	})
}

func TestReplayRemoveTopic(t *testing.T) {
	tid := uid(1)
	orders := topicWith("orders", tid, []int32{1})
	cfg := func(typ int8, name, key string, v *string) *metadata.ConfigRecord {
		return &metadata.ConfigRecord{ResourceType: typ, ResourceName: name, Name: key, Value: v}
	}
	gone := func(t *testing.T, im Image) {
		t.Helper()
		if _, ok := im.Topic("orders"); ok {
			t.Fatal("topic still there by name")
		}
		if _, ok := im.TopicByID(tid); ok {
			t.Fatal("topic still there by id")
		}
		if c := im.Configs(ConfigResource{ResourceTopic, "orders"}); c != nil {
			t.Fatalf("topic configs left: %v", c)
		}
	}
	runReplayCases(t, []replayCase{
		{name: "removes the topic and its configs", base: append(orders, cfg(ResourceTopic, "orders", "retention.ms", strp("1000"))),
			recs: []metadata.Record{&metadata.RemoveTopicRecord{TopicID: tid}}, check: gone},
		{name: "configs set in the same delta go too",
			recs: append(append(orders, cfg(ResourceTopic, "orders", "retention.ms", strp("1000"))), &metadata.RemoveTopicRecord{TopicID: tid}), check: gone},
		{name: "other resources keep their configs", base: append(orders, cfg(ResourceTopic, "other", "a", strp("1")), cfg(ResourceBroker, "", "b", strp("2"))),
			recs: []metadata.Record{&metadata.RemoveTopicRecord{TopicID: tid}}, check: func(t *testing.T, im Image) {
				gone(t, im)
				if v, ok := im.Config(ConfigResource{ResourceTopic, "other"}, "a"); !ok || v != "1" {
					t.Fatal("another topic's config removed")
				}
				if v, ok := im.Config(ConfigResource{ResourceBroker, ""}, "b"); !ok || v != "2" {
					t.Fatal("the cluster default removed")
				}
			}},
		{name: "the name can be used again with a new id", base: orders,
			recs: append([]metadata.Record{&metadata.RemoveTopicRecord{TopicID: tid}}, topicWith("orders", uid(2), []int32{2})...),
			check: func(t *testing.T, im Image) {
				tp, ok := im.Topic("orders")
				if !ok || tp.ID != uid(2) || im.NumTopics() != 1 {
					t.Fatalf("recreated topic = %+v %v", tp, ok)
				}
				if _, ok := im.TopicByID(tid); ok {
					t.Fatal("old id still there")
				}
			}},
		{name: "unknown id refused", base: orders, recs: []metadata.Record{&metadata.RemoveTopicRecord{TopicID: uid(9)}}, wantErr: "no topic"},
		{name: "second removal refused", base: orders, recs: []metadata.Record{&metadata.RemoveTopicRecord{TopicID: tid}, &metadata.RemoveTopicRecord{TopicID: tid}}, wantErr: "no topic"},
	})
}

func TestReplayConfigsAndProducerIDs(t *testing.T) {
	cfg := func(typ int8, name, key string, v *string) *metadata.ConfigRecord {
		return &metadata.ConfigRecord{ResourceType: typ, ResourceName: name, Name: key, Value: v}
	}
	clusterDefault := ConfigResource{ResourceBroker, ""}
	broker1 := ConfigResource{ResourceBroker, "1"}
	runReplayCases(t, []replayCase{
		{name: "set and overwrite, per resource", recs: []metadata.Record{
			cfg(ResourceBroker, "", "log.retention.ms", strp("1")),
			cfg(ResourceBroker, "1", "log.retention.ms", strp("2")),
			cfg(ResourceBroker, "", "log.retention.ms", strp("3")),
			cfg(ResourceTopic, "t", "cleanup.policy", strp("compact")),
		}, check: func(t *testing.T, im Image) {
			if got := im.Configs(clusterDefault); !reflect.DeepEqual(got, map[string]string{"log.retention.ms": "3"}) {
				t.Fatalf("cluster default = %v", got)
			}
			if v, _ := im.Config(broker1, "log.retention.ms"); v != "2" {
				t.Fatalf("broker 1 = %q", v)
			}
			want := []ConfigResource{{ResourceTopic, "t"}, clusterDefault, broker1}
			if got := im.ConfigResources(); !reflect.DeepEqual(got, want) {
				t.Fatalf("ConfigResources = %v, want %v", got, want)
			}
		}},
		{name: "null value deletes; the last key removes the resource",
			base: []metadata.Record{cfg(ResourceBroker, "1", "a", strp("1")), cfg(ResourceBroker, "1", "b", strp("2"))},
			recs: []metadata.Record{cfg(ResourceBroker, "1", "a", nil)},
			check: func(t *testing.T, im Image) {
				if got := im.Configs(broker1); !reflect.DeepEqual(got, map[string]string{"b": "2"}) {
					t.Fatalf("configs = %v", got)
				}
				im = applyOn(t, im, cfg(ResourceBroker, "1", "b", nil))
				if len(im.ConfigResources()) != 0 {
					t.Fatalf("resource without configs listed: %v", im.ConfigResources())
				}
			}},
		{name: "deleting an absent key is a no-op", recs: []metadata.Record{cfg(ResourceTopic, "t", "x", nil)}, check: func(t *testing.T, im Image) {
			if !im.Equal(Empty()) {
				t.Fatal("image changed")
			}
		}},
		{name: "returned configs are copies", base: []metadata.Record{cfg(ResourceBroker, "1", "a", strp("1"))}, check: func(t *testing.T, im Image) {
			im.Configs(broker1)["a"] = "changed"
			if v, _ := im.Config(broker1, "a"); v != "1" {
				t.Fatal("image changed through Configs' map")
			}
		}},
		{name: "producer id block", recs: []metadata.Record{
			&metadata.ProducerIdsRecord{BrokerID: 1, BrokerEpoch: 5, NextProducerID: 1000},
			&metadata.ProducerIdsRecord{BrokerID: 2, BrokerEpoch: 6, NextProducerID: 2000},
		}, check: func(t *testing.T, im Image) {
			if im.NextProducerID() != 2000 || Empty().NextProducerID() != -1 {
				t.Fatalf("NextProducerID = %d", im.NextProducerID())
			}
		}},
		{name: "no-op changes nothing", recs: []metadata.Record{&metadata.NoOpRecord{}}, check: func(t *testing.T, im Image) {
			if !im.Equal(Empty()) {
				t.Fatal("NoOpRecord changed the image")
			}
		}},
	})
}

// The base image must not change whatever the delta on it does.
func TestDeltaLeavesBaseAlone(t *testing.T) {
	tid := uid(1)
	base := build(t, append(topicWith("orders", tid, []int32{1, 2}), registerBroker(1, 5),
		&metadata.ConfigRecord{ResourceType: ResourceTopic, ResourceName: "orders", Name: "a", Value: strp("1")})...)
	again := build(t, append(topicWith("orders", tid, []int32{1, 2}), registerBroker(1, 5),
		&metadata.ConfigRecord{ResourceType: ResourceTopic, ResourceName: "orders", Name: "a", Value: strp("1")})...)
	next := applyOn(t, base,
		partitionChange(tid, 0, func(r *metadata.PartitionChangeRecord) { r.Leader = 2 }),
		&metadata.UnfenceBrokerRecord{ID: 1, Epoch: 5},
		&metadata.RemoveTopicRecord{TopicID: tid},
		&metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: 20},
	)
	if !base.Equal(again) {
		t.Fatal("applying a delta changed its base image")
	}
	if next.Equal(base) {
		t.Fatal("the delta changed nothing")
	}
}
