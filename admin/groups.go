package admin

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupBatch is how many groups go into one DescribeGroups or OffsetFetch
// request. Large on purpose: request counts should follow coordinators, not
// groups; responses stay a few MB at 5,000 groups.
const groupBatch = 5000

// ListedGroup is one entry of ListGroups. Coordinator is the broker that
// answered, which coordinates the group.
type ListedGroup struct {
	Name         string
	ProtocolType string
	State        string // empty before ListGroups v4
	// Type is "classic", "consumer" (KIP-848) or "share" from ListGroups v5
	// (KIP-1043); empty from older brokers, whose groups are classic.
	Type        string
	Coordinator int32
}

// ListGroups asks every given broker (all brokers from the last Metadata when
// nil) for the groups it coordinates, in parallel. Brokers that fail are
// returned in the error map (key -1 when the broker list itself could not be
// read); the others' groups are still returned, sorted by name, and so are
// those of a broker answering COORDINATOR_LOAD_IN_PROGRESS (in the error map
// too). While a coordinator moves, two brokers may list the same group: the
// group's coordinator is the one FindCoordinators names.
func (c *Client) ListGroups(ctx context.Context, brokers []int32) ([]ListedGroup, map[int32]error) {
	if brokers == nil {
		c.mu.Lock()
		known := len(c.brokers)
		c.mu.Unlock()
		if known == 0 { // no Metadata yet: learn the brokers first
			if _, err := c.Metadata(ctx, []string{}); err != nil {
				return nil, map[int32]error{-1: err}
			}
		}
		c.mu.Lock()
		for id := range c.brokers {
			brokers = append(brokers, id)
		}
		c.mu.Unlock()
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		out  []ListedGroup
		errs = map[int32]error{}
	)
	for _, id := range brokers {
		wg.Go(func() {
			resp, err := c.requestBroker(ctx, id, kmsg.NewPtrListGroupsRequest(), 0, -1)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[id] = fmt.Errorf("list groups: %w", err)
				return
			}
			r := resp.(*kmsg.ListGroupsResponse)
			if e := codeErr(r.Key(), r.ErrorCode, nil); e != nil {
				errs[id] = fmt.Errorf("list groups: %w", e)
				if !errors.Is(e, kerr.CoordinatorLoadInProgress) {
					return
				}
				// Still loading some groups: the ones listed are loaded.
			}
			for _, g := range r.Groups {
				out = append(out, ListedGroup{Name: g.Group, ProtocolType: g.ProtocolType, State: g.GroupState, Type: g.GroupType, Coordinator: id})
			}
		})
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errs
}

// FindCoordinators returns the coordinator broker of each group, batching all
// keys into one FindCoordinator v4+ request (one request per group against
// older brokers). Groups whose lookup failed are in the error map.
func (c *Client) FindCoordinators(ctx context.Context, groups []string) (map[string]int32, map[string]error, error) {
	out := make(map[string]int32, len(groups))
	errs := map[string]error{}
	if len(groups) == 0 {
		return out, errs, nil
	}
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorKeys = groups
	resp, err := c.requestAny(ctx, req, 4, -1)
	if err == nil {
		for _, co := range resp.(*kmsg.FindCoordinatorResponse).Coordinators {
			if e := codeErr(req.Key(), co.ErrorCode, nil); e != nil {
				errs[co.Key] = e
				continue
			}
			out[co.Key] = co.NodeID
		}
		return out, errs, nil
	}
	if !errors.Is(err, ErrUnsupported) {
		return nil, nil, fmt.Errorf("find coordinators: %w", err)
	}
	for _, g := range groups { // pre-KIP-699 brokers
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorKey = g
		resp, err := c.requestAny(ctx, req, 0, 3)
		if err != nil {
			return out, errs, fmt.Errorf("find coordinator for %q: %w", g, err)
		}
		r := resp.(*kmsg.FindCoordinatorResponse)
		if e := codeErr(req.Key(), r.ErrorCode, nil); e != nil {
			errs[g] = e
			continue
		}
		out[g] = r.NodeID
	}
	return out, errs, nil
}

// GroupDescription is one group from DescribeGroups, or from
// ConsumerGroupDescribe for a consumer group (Type "consumer", with its
// epochs and assignor), or from ShareGroupDescribe (Type "share").
type GroupDescription struct {
	Name         string
	Coordinator  int32
	State        string
	ProtocolType string
	Protocol     string
	Members      []GroupMember
	Err          error

	Type                        string
	GroupEpoch, AssignmentEpoch int32
	Assignor                    string
}

// GroupMember is one member of a group. Assignment is decoded for groups of
// protocol type "consumer" (topic → partitions); nil otherwise.
type GroupMember struct {
	ID         string
	InstanceID string
	ClientID   string
	ClientHost string
	Assignment map[string][]int32

	// Rack is a share group member's rack (ShareGroupDescribe), "" when it sent none.
	Rack string

	// Consumer group members (ConsumerGroupDescribe): the member epoch,
	// the target assignment, the subscription, and whether the member
	// has not reached its target yet.
	Epoch            int32
	Target           map[string][]int32
	SubscribedTopics []string
	SubscribedRegex  string
	Reconciling      bool
}

// DescribeGroups describes groups coordinated by one broker, batching them.
func (c *Client) DescribeGroups(ctx context.Context, coordinator int32, groups []string) ([]GroupDescription, error) {
	var out []GroupDescription
	for start := 0; start < len(groups); start += groupBatch {
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.Groups = groups[start:min(start+groupBatch, len(groups))]
		resp, err := c.requestBroker(ctx, coordinator, req, 0, -1)
		if err != nil {
			return out, fmt.Errorf("describe groups: %w", err)
		}
		for _, g := range resp.(*kmsg.DescribeGroupsResponse).Groups {
			d := GroupDescription{Name: g.Group, Coordinator: coordinator, State: g.State, ProtocolType: g.ProtocolType, Protocol: g.Protocol, Err: codeErr(req.Key(), g.ErrorCode, nil)}
			for _, m := range g.Members {
				gm := GroupMember{ID: m.MemberID, ClientID: m.ClientID, ClientHost: m.ClientHost}
				if m.InstanceID != nil {
					gm.InstanceID = *m.InstanceID
				}
				if g.ProtocolType == "consumer" && len(m.MemberAssignment) > 0 {
					var a kmsg.ConsumerMemberAssignment
					if a.ReadFrom(m.MemberAssignment) == nil {
						gm.Assignment = make(map[string][]int32, len(a.Topics))
						for _, t := range a.Topics {
							gm.Assignment[t.Topic] = t.Partitions
						}
					}
				}
				d.Members = append(d.Members, gm)
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// GroupOffsets holds one group's committed offsets: topic → partition → offset.
type GroupOffsets struct {
	Group   string
	Offsets map[string]map[int32]int64
	Err     error
}

// FetchOffsets fetches the committed offsets of many groups coordinated by one
// broker: one OffsetFetch v8+ request per groupBatch groups (one request per
// group against brokers older than 3.0).
func (c *Client) FetchOffsets(ctx context.Context, coordinator int32, groups []string) ([]GroupOffsets, error) {
	var out []GroupOffsets
	for start := 0; start < len(groups); start += groupBatch {
		batch := groups[start:min(start+groupBatch, len(groups))]
		req := kmsg.NewPtrOffsetFetchRequest()
		req.RequireStable = false
		for _, g := range batch {
			rg := kmsg.NewOffsetFetchRequestGroup()
			rg.Group = g // nil Topics: every partition the group committed
			req.Groups = append(req.Groups, rg)
		}
		// v10 identifies topics by id; names are what the snapshot keys on.
		resp, err := c.requestBroker(ctx, coordinator, req, 8, 9)
		if errors.Is(err, ErrUnsupported) {
			return c.fetchOffsetsOneByOne(ctx, coordinator, groups)
		}
		if err != nil {
			return out, fmt.Errorf("offset fetch: %w", err)
		}
		for _, g := range resp.(*kmsg.OffsetFetchResponse).Groups {
			o := GroupOffsets{Group: g.Group, Offsets: map[string]map[int32]int64{}, Err: codeErr(req.Key(), g.ErrorCode, nil)}
			for _, t := range g.Topics {
				m := make(map[int32]int64, len(t.Partitions))
				for _, p := range t.Partitions {
					if p.ErrorCode == 0 && p.Offset >= 0 {
						m[p.Partition] = p.Offset
					}
				}
				if len(m) > 0 {
					o.Offsets[t.Topic] = m
				}
			}
			out = append(out, o)
		}
	}
	return out, nil
}

func (c *Client) fetchOffsetsOneByOne(ctx context.Context, coordinator int32, groups []string) ([]GroupOffsets, error) {
	out := make([]GroupOffsets, len(groups))
	errs := make([]error, len(groups))
	// As many in flight as the broker's pool allows.
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < c.cfg.MaxConnsPerBroker; w++ {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = c.fetchOneGroup(ctx, coordinator, groups[i])
			}
		})
	}
	for i := range groups {
		next <- i
	}
	close(next)
	wg.Wait()
	ok := out[:0] // the groups that answered, even if others failed
	for i := range out {
		if errs[i] == nil {
			ok = append(ok, out[i])
		}
	}
	return ok, errors.Join(errs...)
}

func (c *Client) fetchOneGroup(ctx context.Context, coordinator int32, g string) (GroupOffsets, error) {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = g
	resp, err := c.requestBroker(ctx, coordinator, req, 2, 7) // v2+: null topics = all
	if err != nil {
		return GroupOffsets{}, fmt.Errorf("offset fetch for %q: %w", g, err)
	}
	r := resp.(*kmsg.OffsetFetchResponse)
	o := GroupOffsets{Group: g, Offsets: map[string]map[int32]int64{}, Err: codeErr(req.Key(), r.ErrorCode, nil)}
	for _, t := range r.Topics {
		m := make(map[int32]int64, len(t.Partitions))
		for _, p := range t.Partitions {
			if p.ErrorCode == 0 && p.Offset >= 0 {
				m[p.Partition] = p.Offset
			}
		}
		if len(m) > 0 {
			o.Offsets[t.Topic] = m
		}
	}
	return o, nil
}

// CommitOffsets commits offsets for a group as an administrator (generation
// -1, no member): the way offset resets work, valid only while the group has
// no active members. Per-partition errors are returned in the map.
func (c *Client) CommitOffsets(ctx context.Context, group string, offsets map[string]map[int32]int64) (map[string]map[int32]error, error) {
	co, errs, err := c.FindCoordinators(ctx, []string{group})
	if err != nil {
		return nil, err
	}
	if e := errs[group]; e != nil {
		return nil, fmt.Errorf("coordinator for %q: %w", group, e)
	}
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group = group
	req.Generation = -1
	for t, ps := range offsets {
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = t
		for p, off := range ps {
			rp := kmsg.NewOffsetCommitRequestTopicPartition()
			rp.Partition, rp.Offset = p, off
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	// v9 is the last version that names topics (v10 uses topic ids).
	resp, err := c.requestBroker(ctx, co[group], req, 0, 9)
	if err != nil {
		return nil, fmt.Errorf("offset commit for %q: %w", group, err)
	}
	perr := map[string]map[int32]error{}
	for _, t := range resp.(*kmsg.OffsetCommitResponse).Topics {
		for _, p := range t.Partitions {
			if e := codeErr(req.Key(), p.ErrorCode, nil); e != nil {
				if perr[t.Topic] == nil {
					perr[t.Topic] = map[int32]error{}
				}
				perr[t.Topic][p.Partition] = e
			}
		}
	}
	return perr, nil
}
