package cgroup

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestMigrationPolicy(t *testing.T) {
	cases := []struct {
		in                 string
		upgrade, downgrade bool
		wantErr            bool
	}{
		{"bidirectional", true, true, false},
		{"UPGRADE", true, false, false},
		{" downgrade ", false, true, false},
		{"Disabled", false, false, false},
		{"both", false, false, true},
	}
	for _, c := range cases {
		p, err := ParseMigrationPolicy(c.in)
		if (err != nil) != c.wantErr {
			t.Fatalf("%q: err %v", c.in, err)
		}
		if p.Upgrade() != c.upgrade || p.Downgrade() != c.downgrade {
			t.Errorf("%q: upgrade %v downgrade %v", c.in, p.Upgrade(), p.Downgrade())
		}
	}
}

// An upgrade needs the policy, the consumer protocol type and a group that
// fits group.consumer.max.size.
func TestUpgradeRefusal(t *testing.T) {
	cfg := testCfg
	cfg.Migration, cfg.MaxSize = MigrationBidirectional, 3
	if why := UpgradeRefusal(cfg, "consumer", 3); why != "" {
		t.Errorf("allowed upgrade refused: %s", why)
	}
	for name, c := range map[string]struct {
		policy  MigrationPolicy
		ptype   string
		members int
	}{
		"policy downgrade": {MigrationDowngrade, "consumer", 1},
		"policy disabled":  {MigrationDisabled, "consumer", 1},
		"connect group":    {MigrationBidirectional, "connect", 1},
		"too many members": {MigrationUpgrade, "consumer", 4},
	} {
		cfg.Migration = c.policy
		if UpgradeRefusal(cfg, c.ptype, c.members) == "" {
			t.Errorf("%s: upgrade allowed", name)
		}
	}
}

// mig is a group converted from a classic group of two members (generation
// 5) owning topic a's six partitions, three each.
type mig struct {
	t   *testing.T
	g   *Group
	md  fakeMD
	cfg Config
	now time.Time
	a   TopicID
}

func newMig(t *testing.T) *mig {
	md := fakeMD{}
	md.add("a", 6)
	a := md["a"].ID
	cfg := testCfg
	cfg.Migration = MigrationBidirectional
	now := time.Unix(1000, 0)
	protos := []Protocol{{Name: "cooperative-sticky", Metadata: []byte{1}}, {Name: "range", Metadata: []byte{2}}}
	set := func(ps ...int32) Set {
		s := Set{}
		for _, p := range ps {
			s[TP{a, p}] = struct{}{}
		}
		return s
	}
	g := FromClassic("g", 5, []ClassicMember{
		{ID: "c1", ClientID: "cli", SessionTimeout: 10 * time.Second, RebalanceTimeout: 30 * time.Second, Protocols: protos, Topics: []string{"a"}, Assigned: set(0, 1, 2)},
		{ID: "c2", ClientID: "cli", SessionTimeout: 10 * time.Second, RebalanceTimeout: 30 * time.Second, Protocols: protos, Topics: []string{"a"}, Assigned: set(3, 4, 5)},
	}, now)
	return &mig{t: t, g: g, md: md, cfg: cfg, now: now, a: a}
}

func (s *mig) set(ps ...int32) Set {
	out := Set{}
	for _, p := range ps {
		out[TP{s.a, p}] = struct{}{}
	}
	return out
}

// disjoint checks that no partition is owned (assigned or revoking) by two
// members.
func (s *mig) disjoint() {
	s.t.Helper()
	seen := map[TP]string{}
	for id, m := range s.g.Members {
		for tp := range m.Assigned {
			if o, ok := seen[tp]; ok {
				s.t.Fatalf("partition %d held by %s and %s", tp.Partition, o, id)
			}
			seen[tp] = id
		}
		for tp := range m.Revoking {
			if o, ok := seen[tp]; ok {
				s.t.Fatalf("partition %d held by %s and %s", tp.Partition, o, id)
			}
			seen[tp] = id
		}
	}
}

func (s *mig) join(id string, owned Set) int32 {
	s.t.Helper()
	p := []Protocol{{Name: "cooperative-sticky", Metadata: []byte{1}}, {Name: "range", Metadata: []byte{2}}}
	gen, proto, err := s.g.JoinClassic(s.now, s.md, s.cfg, &ClassicJoin{MemberID: id, ClientID: "cli", SessionTimeout: 10 * time.Second,
		RebalanceTimeout: 30 * time.Second, Protocols: p, Topics: []string{"a"}, Owned: owned})
	if err != nil || proto != "cooperative-sticky" {
		s.t.Fatalf("join %s: %v %q", id, err, proto)
	}
	s.disjoint()
	return gen
}

func (s *mig) sync(id string, gen int32) (Set, *Error) {
	proto := "cooperative-sticky"
	return s.g.SyncClassic(s.now, id, nil, gen, nil, &proto)
}

func (s *mig) consumerBeat(id string, epoch int32, owned Set) Response {
	s.t.Helper()
	req := &Request{MemberID: id, MemberEpoch: epoch, RebalanceTimeout: time.Minute, SubscribedNames: []string{"a"}, Owned: owned}
	if epoch != JoinEpoch {
		req.SubscribedNames, req.RebalanceTimeout = nil, -1
	}
	resp, err := s.g.Heartbeat(s.now, s.md, s.cfg, req)
	if err != nil {
		s.t.Fatalf("heartbeat %s: %v", id, err)
	}
	s.disjoint()
	return resp
}

// The converted group keeps the classic generation and assignments; a
// consumer member joining moves the epoch, the classic members are told to
// rejoin, and the partitions move only as their owners give them up: at
// once for an eager member (it rejoins owning nothing), after a second
// join for a cooperative one.
func TestClassicMembersAfterUpgrade(t *testing.T) {
	s := newMig(t)
	g := s.g
	if g.Epoch != 5 || g.AssignmentEpoch != 5 || g.State() != "Stable" || !g.Members["c1"].Assigned.Equal(s.set(0, 1, 2)) {
		t.Fatalf("converted: epoch %d/%d state %s c1 %v", g.Epoch, g.AssignmentEpoch, g.State(), g.Members["c1"].Assigned)
	}
	c := g.TakeChanges()
	if !c.GroupEpoch || !c.AssignmentEpoch || len(c.Members) != 2 || len(c.Targets) != 2 || len(c.Current) != 2 {
		t.Fatalf("conversion records not all marked: %+v", c)
	}
	if err := g.HeartbeatClassic(s.now, "c1", nil, 5); err != nil {
		t.Fatalf("classic heartbeat before the consumer member: %v", err)
	}

	r := s.consumerBeat("k1", JoinEpoch, Set{})
	if g.Epoch != 6 || r.Epoch != 6 || len(r.Assignment) != 0 {
		t.Fatalf("consumer member joined: group epoch %d, member %+v", g.Epoch, r)
	}
	for _, id := range []string{"c1", "c2"} {
		if err := g.HeartbeatClassic(s.now, id, nil, 5); err == nil || !errors.Is(err.Code, kerr.RebalanceInProgress) {
			t.Fatalf("%s heartbeat after the epoch moved: %v", id, err)
		}
	}
	if _, err := s.sync("c1", 5); err == nil || !errors.Is(err.Code, kerr.RebalanceInProgress) {
		t.Fatalf("c1 sync behind the epoch: %v", err)
	}

	// c1 is eager: it revoked everything before rejoining.
	if gen := s.join("c1", Set{}); gen != 6 {
		t.Fatalf("eager rejoin generation %d", gen)
	}
	got, err := s.sync("c1", 6)
	if err != nil || len(got) != 2 || !subset(got, s.set(0, 1, 2)) {
		t.Fatalf("eager sync: %v %v", got, err)
	}
	// c2 is cooperative: it still owns its three partitions.
	if gen := s.join("c2", s.set(3, 4, 5)); gen != 5 || g.Members["c2"].State != MemberUnrevoked {
		t.Fatalf("cooperative rejoin: generation %d state %v", gen, g.Members["c2"].State)
	}
	got, err = s.sync("c2", 5)
	if err != nil || !subset(got, s.set(3, 4, 5)) || len(got) == 3 {
		t.Fatalf("cooperative sync while revoking: %v %v", got, err)
	}
	if err := g.HeartbeatClassic(s.now, "c2", nil, 5); err == nil || !errors.Is(err.Code, kerr.RebalanceInProgress) {
		t.Fatalf("revoking member's heartbeat: %v", err)
	}
	if gen := s.join("c2", got); gen != 6 || g.Members["c2"].State == MemberUnrevoked {
		t.Fatalf("cooperative second join: generation %d state %v", gen, g.Members["c2"].State)
	}
	// k1 now gets what both gave up.
	r = s.consumerBeat("k1", r.Epoch, Set{})
	if len(r.Assignment) != 2 || g.State() != "Stable" {
		t.Fatalf("consumer member after the revocations: %v, group %s", r.Assignment, g.State())
	}
	for _, id := range []string{"c1", "c2"} {
		if err := g.HeartbeatClassic(s.now, id, nil, 6); err != nil {
			t.Fatalf("%s heartbeat once stable: %v", id, err)
		}
	}
	// Commits: a classic member at another generation gets ILLEGAL_GENERATION.
	if _, err := g.ValidateCommit("c1", 5); err == nil || !errors.Is(err.Code, kerr.IllegalGeneration) {
		t.Errorf("classic commit at an old generation: %v", err)
	}
}

// A classic member that must rejoin or sync and does not, or whose classic
// session passes, is removed.
func TestClassicMemberDeadlines(t *testing.T) {
	s := newMig(t)
	s.consumerBeat("k1", JoinEpoch, Set{})
	_ = s.g.HeartbeatClassic(s.now, "c1", nil, 5) // told to rejoin at 1000 s
	s.join("c2", Set{})                           // must sync by 1030 s
	s.now = s.now.Add(9 * time.Second)
	_ = s.g.HeartbeatClassic(s.now, "c1", nil, 5)
	s.consumerBeat("k1", s.g.Members["k1"].Epoch, nil)
	if removed := s.g.Expire(s.now, s.cfg); len(removed) != 0 {
		t.Fatalf("removed early: %v", removed)
	}
	s.now = s.now.Add(9 * time.Second)
	_ = s.g.HeartbeatClassic(s.now, "c1", nil, 5)
	_ = s.g.HeartbeatClassic(s.now, "c2", nil, s.g.Members["c2"].Epoch)
	s.consumerBeat("k1", s.g.Members["k1"].Epoch, nil)
	s.now = s.now.Add(9 * time.Second)
	_ = s.g.HeartbeatClassic(s.now, "c1", nil, 5)
	_ = s.g.HeartbeatClassic(s.now, "c2", nil, s.g.Members["c2"].Epoch)
	s.consumerBeat("k1", s.g.Members["k1"].Epoch, nil)
	s.now = s.now.Add(4 * time.Second) // 1031 s: both deadlines passed, sessions alive
	removed := s.g.Expire(s.now, s.cfg)
	if len(removed) != 2 || removed["c1"] == "" || removed["c2"] == "" {
		t.Fatalf("removed %v", removed)
	}
	s.now = s.now.Add(time.Minute)
	if removed := s.g.Expire(s.now, s.cfg); len(removed) != 1 {
		t.Fatalf("the consumer member's session: %v", removed)
	}
}

// When the last consumer protocol member leaves, a group with classic
// members downgrades if the policy allows it; the classic group takes each
// member's target assignment.
func TestCanDowngrade(t *testing.T) {
	s := newMig(t)
	s.consumerBeat("k1", JoinEpoch, Set{})
	if s.g.CanDowngrade(s.cfg) {
		t.Fatal("downgrade allowed with a consumer member")
	}
	if _, err := s.g.Heartbeat(s.now, s.md, s.cfg, &Request{MemberID: "k1", MemberEpoch: LeaveEpoch, RebalanceTimeout: -1}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []MigrationPolicy{MigrationBidirectional, MigrationDowngrade} {
		s.cfg.Migration = p
		if !s.g.CanDowngrade(s.cfg) {
			t.Errorf("%s: downgrade refused", p)
		}
	}
	for _, p := range []MigrationPolicy{MigrationUpgrade, MigrationDisabled} {
		s.cfg.Migration = p
		if s.g.CanDowngrade(s.cfg) {
			t.Errorf("%s: downgrade allowed", p)
		}
	}
	s.cfg.Migration, s.cfg.ClassicMaxSize = MigrationBidirectional, 1
	if s.g.CanDowngrade(s.cfg) {
		t.Error("downgrade allowed past group.max.size")
	}
	s.cfg.ClassicMaxSize = 0
	cms := s.g.ClassicMembers()
	if len(cms) != 2 || cms[0].ID != "c1" || cms[0].SessionTimeout != 10*time.Second || len(cms[0].Protocols) != 2 {
		t.Fatalf("classic members: %+v", cms)
	}
	for _, cm := range cms {
		if !cm.Assigned.Equal(s.g.Target[cm.ID]) {
			t.Errorf("%s: assignment %v, target %v", cm.ID, cm.Assigned, s.g.Target[cm.ID])
		}
	}
	s.g.Remove("c1")
	s.g.Remove("c2")
	if s.g.CanDowngrade(s.cfg) {
		t.Error("an empty group downgrades online")
	}
}

// SupportsClassic: the consumer protocol type, and a protocol every other
// classic member supports.
func TestSupportsClassic(t *testing.T) {
	s := newMig(t)
	if !s.g.SupportsClassic("new", "consumer", []Protocol{{Name: "range"}}) {
		t.Error("range refused")
	}
	if s.g.SupportsClassic("new", "consumer", []Protocol{{Name: "roundrobin"}}) {
		t.Error("a protocol no member supports accepted")
	}
	if s.g.SupportsClassic("new", "connect", []Protocol{{Name: "range"}}) {
		t.Error("a connect member accepted")
	}
}

// ClassicMemberMetadata is ConsumerGroupMemberMetadataValue's tagged field
// 0; a member with it replays as classic.
func TestClassicMemberRecord(t *testing.T) {
	m := &Member{ID: "m1", ClientID: "cli", ClientHost: "/h", SubscribedNames: []string{"a"}, RebalanceTimeout: time.Minute,
		Classic: &Classic{SessionTimeout: 10 * time.Second, Protocols: []Protocol{{Name: "range", Metadata: []byte{0, 1}}}}}
	want := be(int16(0), int8(0), int8(0), int8(4), "cli", int8(3), "/h", int8(2), int8(2), "a", int8(0), int32(60000), int8(0),
		int8(1), int8(0), int8(16), int32(10000), int8(2), int8(6), "range", int8(3), []byte{0, 1}, int8(0), int8(0))
	got := MemberMetadataValue(m)
	if !bytes.Equal(got, want) {
		t.Fatalf("\n got %x\nwant %x", got, want)
	}
	var r Member
	if err := ReadMemberMetadataValue(got, &r); err != nil {
		t.Fatal(err)
	}
	if r.Classic == nil || r.Classic.SessionTimeout != 10*time.Second || len(r.Classic.Protocols) != 1 ||
		r.Classic.Protocols[0].Name != "range" || !bytes.Equal(r.Classic.Protocols[0].Metadata, []byte{0, 1}) {
		t.Fatalf("replayed classic metadata %+v", r.Classic)
	}
	m.Classic = nil
	if err := ReadMemberMetadataValue(MemberMetadataValue(m), &r); err != nil || r.Classic != nil {
		t.Fatalf("a consumer member replays as classic: %v %+v", err, r.Classic)
	}
}
