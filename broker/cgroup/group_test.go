package cgroup

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

type fakeMD map[string]Topic

func (f fakeMD) Topic(n string) (Topic, bool) { t, ok := f[n]; return t, ok }
func (f fakeMD) TopicNames() []string {
	out := make([]string, 0, len(f))
	for n := range f {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (f fakeMD) add(name string, parts int32) {
	t, ok := f[name]
	if !ok {
		t = Topic{Name: name, ID: TopicID{byte(len(f) + 1), 7}}
	}
	t.Partitions = parts
	f[name] = t
}

var testCfg = Config{SessionTimeout: 45 * time.Second, HeartbeatInterval: 5 * time.Second, Assignors: []string{"uniform", "range"}}

// simClient behaves like a well-written consumer: it starts using a
// partition when an answer assigns it, keeps using a partition an answer
// took away until it has finished revoking it (a while later), and reports
// what it still uses in full heartbeats (sometimes only keepalives).
type simClient struct {
	id       string
	instance *string
	epoch    int32
	names    []string
	regex    *string
	assignor *string
	using    Set // the partitions the client consumes now
	revoking Set // taken away by the last answer, still being used
	left     bool
}

func (c *simClient) request(full bool) *Request {
	r := &Request{MemberID: c.id, MemberEpoch: c.epoch, RebalanceTimeout: -1, InstanceID: c.instance}
	if c.epoch == JoinEpoch || full {
		r.RebalanceTimeout = time.Minute
		r.SubscribedNames = slices.Clone(c.names)
		if r.SubscribedNames == nil {
			r.SubscribedNames = []string{}
		}
		r.SubscribedRegex = c.regex
		r.ServerAssignor = c.assignor
		r.Owned = c.using.Clone()
		if c.epoch == JoinEpoch {
			r.Owned = Set{}
		}
	}
	return r
}

func (c *simClient) apply(t *testing.T, resp Response, err *Error) {
	t.Helper()
	if err != nil {
		switch {
		case errors.Is(err.Code, kerr.FencedMemberEpoch):
			c.using, c.revoking, c.epoch = Set{}, Set{}, JoinEpoch
		case errors.Is(err.Code, kerr.UnknownMemberID):
			c.using, c.revoking, c.epoch = Set{}, Set{}, JoinEpoch
			c.id += "'"
		default:
			t.Fatalf("client %s: unexpected error %v", c.id, err)
		}
		return
	}
	c.epoch = resp.Epoch
	if resp.Assignment == nil {
		return
	}
	for tp := range c.using {
		if !resp.Assignment.Has(tp) {
			c.revoking[tp] = struct{}{}
		}
	}
	for tp := range resp.Assignment {
		c.using[tp] = struct{}{}
		delete(c.revoking, tp)
	}
}

// finishRevoking drops the partitions being revoked (the client committed
// and stopped using them).
func (c *simClient) finishRevoking() {
	for tp := range c.revoking {
		delete(c.using, tp)
	}
	c.revoking = Set{}
}

func checkDisjoint(t *testing.T, step int, clients []*simClient) {
	t.Helper()
	seen := map[TP]string{}
	for _, c := range clients {
		if c.left {
			continue
		}
		for tp := range c.using {
			if o, ok := seen[tp]; ok {
				t.Fatalf("step %d: partition %v used by %s and %s at once", step, tp, o, c.id)
			}
			seen[tp] = c.id
		}
	}
}

// TestReconciliationInvariants drives a group with simulated clients that
// join, leave, leave statically and come back, change subscriptions, and
// revoke at their own pace while topics grow, and checks after every step
// that no partition is used by two clients at once, then that once the
// chaos stops every subscribed partition ends up with exactly one client.
func TestReconciliationInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { simulate(t, seed) })
	}
}

func simulate(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	md := fakeMD{}
	md.add("a", 6)
	md.add("b", 3)
	md.add("c-1", 4)
	cfg := testCfg
	g := New("g")
	now := time.Unix(1000, 0)
	var clients []*simClient
	assignors := []*string{nil, ptr("uniform"), ptr("range")}
	newClient := func() *simClient {
		c := &simClient{id: fmt.Sprintf("m%d", len(clients)), using: Set{}, revoking: Set{}}
		switch rng.IntN(3) {
		case 0:
			c.names = []string{"a", "b"}
		case 1:
			c.names = []string{"a"}
			c.regex = ptr(`c-.*`)
		default:
			c.regex = ptr(`a|b|c-\d+`)
		}
		if rng.IntN(3) == 0 {
			c.instance = ptr("inst-" + c.id)
		}
		c.assignor = assignors[int(seed)%len(assignors)]
		clients = append(clients, c)
		return c
	}
	beat := func(c *simClient, full bool) {
		req := c.request(full)
		if err := Validate(req, cfg); err != nil {
			t.Fatalf("request %+v invalid: %v", req, err)
		}
		resp, err := g.Heartbeat(now, md, cfg, req)
		c.apply(t, resp, err)
	}
	for range 3 {
		beat(newClient(), true)
	}
	for step := range 400 {
		now = now.Add(100 * time.Millisecond)
		live := slices.DeleteFunc(slices.Clone(clients), func(c *simClient) bool { return c.left })
		switch r := rng.IntN(100); {
		case r < 6 && len(live) < 7:
			beat(newClient(), true)
		case r < 10 && len(live) > 1:
			c := live[rng.IntN(len(live))]
			c.using, c.revoking, c.left = Set{}, Set{}, true
			epoch := LeaveEpoch
			if c.instance != nil && rng.IntN(2) == 0 {
				epoch = StaticLeaveEpoch
			}
			req := &Request{MemberID: c.id, MemberEpoch: epoch, InstanceID: c.instance, RebalanceTimeout: -1}
			if _, err := g.Heartbeat(now, md, cfg, req); err != nil {
				t.Fatalf("leave: %v", err)
			}
			if epoch == StaticLeaveEpoch && rng.IntN(2) == 0 {
				// The same instance comes back as a new process.
				n := &simClient{id: c.id + "-r", instance: c.instance, names: c.names, regex: c.regex, assignor: c.assignor, using: Set{}, revoking: Set{}}
				clients = append(clients, n)
				beat(n, true)
			}
		case r < 13:
			md.add("a", md["a"].Partitions+1)
		case r < 15:
			md.add(fmt.Sprintf("c-%d", len(md)), int32(1+rng.IntN(4)))
		case r < 18 && len(live) > 0:
			c := live[rng.IntN(len(live))]
			c.names = []string{"b"}
			beat(c, true)
		default:
			if len(live) == 0 {
				continue
			}
			c := live[rng.IntN(len(live))]
			if rng.IntN(3) == 0 {
				c.finishRevoking()
			}
			beat(c, rng.IntN(4) != 0)
		}
		checkDisjoint(t, step, clients)
	}
	settle(t, g, md, cfg, clients, &now, beat)
}

// settle lets every live client revoke promptly and heartbeat until the
// group is Stable, then checks that the clients' partitions are exactly
// the subscribed ones, each once. A static member that left for good keeps
// its partitions (and holds up the members they are meant for) until its
// session times out: after a few rounds the clock jumps past it.
func settle(t *testing.T, g *Group, md fakeMD, cfg Config, clients []*simClient, now *time.Time, beat func(*simClient, bool)) {
	t.Helper()
	for round := 0; !settled(g); round++ {
		if round > 50 {
			for _, m := range g.Members {
				t.Logf("member %s epoch %d/%d state %s assigned %v revoking %v target %v", m.ID, m.Epoch, g.AssignmentEpoch, m.State, m.Assigned.Grouped(), m.Revoking.Grouped(), g.Target[m.ID].Grouped())
			}
			t.Fatalf("group did not settle: state %s", g.State())
		}
		*now = now.Add(2 * time.Second) // past the metadata refresh bound
		if round == 10 {
			for _, c := range clients {
				if !c.left {
					c.LastHeartbeatReset(g, *now)
				}
			}
			g.Expire(now.Add(cfg.SessionTimeout+time.Second), cfg)
		}
		for _, c := range clients {
			if !c.left {
				c.finishRevoking()
				beat(c, true)
			}
		}
		checkDisjoint(t, 1000+round, clients)
	}
	want := Set{}
	for _, c := range clients {
		if c.left {
			continue
		}
		for n, tp := range md {
			if slices.Contains(c.names, n) || (c.regex != nil && g.regex(*c.regex).MatchString(n)) {
				for p := range tp.Partitions {
					want[TP{tp.ID, p}] = struct{}{}
				}
			}
		}
	}
	got := Set{}
	for _, c := range clients {
		if !c.left {
			for tp := range c.using {
				got[tp] = struct{}{}
			}
		}
	}
	if !got.Equal(want) {
		t.Fatalf("assigned %d partitions, want %d: got %v want %v", len(got), len(want), got.Grouped(), want.Grouped())
	}
}

// settled reports whether every member present (not a static member that
// left for now) has reached its target.
func settled(g *Group) bool {
	if g.Epoch != g.AssignmentEpoch {
		return false
	}
	for _, m := range g.Members {
		if m.Epoch != StaticLeaveEpoch && m.Reconciling(g.AssignmentEpoch) {
			return false
		}
	}
	return true
}

// LastHeartbeatReset keeps a live simulated member from expiring when the
// test jumps the clock to expire a departed static member.
func (c *simClient) LastHeartbeatReset(g *Group, now time.Time) {
	if m := g.Members[c.id]; m != nil {
		m.LastHeartbeat = now.Add(time.Hour)
	}
}

func ptr(s string) *string { return &s }
