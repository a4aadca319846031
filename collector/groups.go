package collector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Consumer groups: names come from every broker's ListGroups, but each group
// is read from its current coordinator (FindCoordinator, batched), so a group
// that two brokers list while its coordinator moves is shown once. Answers
// saying the coordinator moved or is still loading are a reason to find it
// again and retry within the same poll, not a failure.

const (
	// groupAttempts bounds the find-coordinator-and-retry rounds per poll.
	groupAttempts = 3
	// groupRetryBackoff is the wait before the second round (doubled per
	// round after it): a new coordinator needs a moment to load its groups.
	groupRetryBackoff = 100 * time.Millisecond
)

// coordinatorMoved reports whether err says that the group's coordinator is
// elsewhere or not ready yet.
func coordinatorMoved(err error) bool {
	return errors.Is(err, kerr.NotCoordinator) || errors.Is(err, kerr.CoordinatorLoadInProgress) ||
		errors.Is(err, kerr.CoordinatorNotAvailable)
}

// groupRound is one round's request for the groups of one coordinator; it
// returns the groups whose answer said the coordinator moved. It runs
// concurrently with the other coordinators' rounds.
type groupRound func(ctx context.Context, coordinator int32, groups []string) (moved []string)

// perCoordinator runs round for the groups of each coordinator (coords:
// group → coordinator, updated in place when a group is found elsewhere),
// finds the coordinators of moved groups again and retries them, up to
// groupAttempts rounds. It returns the groups still unanswered and the last
// lookup error.
func (c *Collector) perCoordinator(ctx context.Context, coords map[string]int32, groups []string, round groupRound) ([]string, error) {
	pending := groups
	var lookupErr error
	for attempt := 0; attempt < groupAttempts && len(pending) > 0; attempt++ {
		if attempt > 0 {
			if !waitCtx(ctx, groupRetryBackoff<<(attempt-1)) {
				break
			}
			// A group whose lookup failed is tried again where it was.
			_, lookupErr = c.findCoordinators(ctx, coords, pending)
		}
		byCoord := map[int32][]string{}
		for _, g := range pending {
			byCoord[coords[g]] = append(byCoord[coords[g]], g)
		}
		ids := make([]int32, 0, len(byCoord))
		for b := range byCoord {
			ids = append(ids, b)
		}
		var mu sync.Mutex
		var moved []string
		runEach(c, ids, func(b int32) {
			rctx, cancel := c.callCtx(ctx)
			defer cancel()
			m := round(rctx, b, byCoord[b])
			mu.Lock()
			moved = append(moved, m...)
			mu.Unlock()
		})
		sort.Strings(moved)
		pending = moved
	}
	return pending, lookupErr
}

// findCoordinators looks up the coordinators of groups in one batched
// FindCoordinator call, records them in coords and returns the groups it
// found; a group whose lookup failed keeps its old coordinator, and the
// error is the request's or the first group's.
func (c *Collector) findCoordinators(ctx context.Context, coords map[string]int32, groups []string) ([]string, error) {
	fctx, cancel := c.callCtx(ctx)
	found, errs, err := c.client.FindCoordinators(fctx, groups)
	cancel()
	if err != nil {
		return nil, err
	}
	var firstErr error
	located := make([]string, 0, len(found))
	for _, g := range groups {
		if b, ok := found[g]; ok {
			coords[g] = b
			located = append(located, g)
		} else if e := errs[g]; e != nil && firstErr == nil {
			firstErr = fmt.Errorf("find coordinator of group %s: %w", g, e)
		}
	}
	return located, firstErr
}

func waitCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// refreshGroups lists the groups of every broker and describes each group
// once, at its coordinator.
func (c *Collector) refreshGroups(ctx context.Context, brokers []int32) {
	st := &c.st
	st.groupErr = nil
	lctx, cancel := c.callCtx(ctx)
	listed, lerrs := c.client.ListGroups(lctx, brokers)
	cancel()
	for b, e := range lerrs {
		// A broker still loading the groups of a partition it now leads
		// lists what it has; the others are found at their coordinators.
		if !coordinatorMoved(e) {
			st.groupErr = append(st.groupErr, PollError{Source: "groups", Broker: b, Message: e.Error()})
		}
	}
	// Whom each name was listed by; a group of a broker that failed (or is
	// loading) is kept from the last poll rather than left to vanish.
	listedBy := map[string][]admin.ListedGroup{}
	for _, g := range listed {
		listedBy[g.Name] = append(listedBy[g.Name], g)
	}
	for _, g := range st.groups {
		if _, failed := lerrs[g.Coordinator]; failed && listedBy[g.Name] == nil {
			listedBy[g.Name] = append(listedBy[g.Name], g)
		}
	}
	names := make([]string, 0, len(listedBy))
	for name := range listedBy {
		names = append(names, name)
	}
	sort.Strings(names)

	// Where a lookup fails the group stays with a broker that listed it,
	// preferring the coordinator of the last poll.
	prevCoord := make(map[string]int32, len(st.groups))
	for _, g := range st.groups {
		prevCoord[g.Name] = g.Coordinator
	}
	coords := make(map[string]int32, len(names))
	for _, name := range names {
		by := listedBy[name]
		coords[name] = by[0].Coordinator
		if p, ok := prevCoord[name]; ok && slices.ContainsFunc(by, func(g admin.ListedGroup) bool { return g.Coordinator == p }) {
			coords[name] = p
		}
	}
	if _, err := c.findCoordinators(ctx, coords, names); err != nil && !coordinatorMoved(err) {
		st.groupErr = append(st.groupErr, PollError{Source: "findCoordinator", Broker: -1, Message: err.Error()})
	}

	types := map[string]string{}
	for name, by := range listedBy {
		for _, g := range by {
			if g.Type == "consumer" || g.Type == "share" {
				types[name] = g.Type
			}
		}
	}
	descs := c.describeGroups(ctx, coords, names, types)

	groups := make([]admin.ListedGroup, 0, len(names))
	for _, name := range names {
		by := listedBy[name]
		g := by[0]
		g.Coordinator = coords[name]
		if i := slices.IndexFunc(by, func(l admin.ListedGroup) bool { return l.Coordinator == g.Coordinator }); i >= 0 {
			g = by[i]
		} else if d, ok := descs[name]; ok && d.Err == nil && d.State == "Dead" {
			// Named only by brokers that do not coordinate it, and
			// unknown to its coordinator: a listing that outlived the
			// group.
			continue
		}
		if _, ok := descs[name]; !ok { // keep the last description rather than none
			if d, ok := st.descs[name]; ok {
				descs[name] = d
			}
		}
		groups = append(groups, g)
	}
	st.groups, st.descs, st.groupsAt = groups, descs, c.cfg.Now()
}

// describeGroups describes each named group at its coordinator (coords, updated when a coordinator
// moved), recording failures in the poll state's group errors. Consumer groups (KIP-848, listed with
// that type) are described with ConsumerGroupDescribe, share groups (KIP-932) with
// ShareGroupDescribe, the others with DescribeGroups: at most one request of each kind per
// coordinator. types holds each group's ListGroups type ("consumer", "share"; absent for classic).
func (c *Collector) describeGroups(ctx context.Context, coords map[string]int32, names []string, types map[string]string) map[string]admin.GroupDescription {
	st := &c.st
	descs := make(map[string]admin.GroupDescription, len(names))
	var mu sync.Mutex
	left, err := c.perCoordinator(ctx, coords, names, func(ctx context.Context, b int32, groups []string) []string {
		var classic, modern, shared []string
		for _, g := range groups {
			switch types[g] {
			case "consumer":
				modern = append(modern, g)
			case "share":
				shared = append(shared, g)
			default:
				classic = append(classic, g)
			}
		}
		var ds []admin.GroupDescription
		var err, cerr, serr error
		if len(classic) > 0 {
			ds, err = c.client.DescribeGroups(ctx, b, classic)
		}
		if len(modern) > 0 {
			var cds []admin.GroupDescription
			cds, cerr = c.client.DescribeConsumerGroups(ctx, b, modern)
			ds = append(ds, cds...)
		}
		if len(shared) > 0 {
			var sds []admin.GroupDescription
			sds, serr = c.client.DescribeShareGroups(ctx, b, shared)
			ds = append(ds, sds...)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			st.groupErr = append(st.groupErr, PollError{Source: "describeGroups", Broker: b, Message: err.Error()})
		}
		if cerr != nil {
			st.groupErr = append(st.groupErr, PollError{Source: "consumerGroupDescribe", Broker: b, Message: cerr.Error()})
		}
		if serr != nil {
			st.groupErr = append(st.groupErr, PollError{Source: "shareGroupDescribe", Broker: b, Message: serr.Error()})
		}
		var moved []string
		for _, d := range ds {
			if coordinatorMoved(d.Err) {
				moved = append(moved, d.Name)
				continue
			}
			descs[d.Name] = d
		}
		return moved
	})
	if len(left) > 0 {
		msg := fmt.Sprintf("%d groups: coordinator not found after %d attempts", len(left), groupAttempts)
		if err != nil {
			msg += ": " + err.Error()
		}
		st.groupErr = append(st.groupErr, PollError{Source: "describeGroups", Broker: -1, Message: msg})
	}
	return descs
}

// fetchCommitted reads the committed offsets of every group at its coordinator: OffsetFetch for
// classic and consumer groups, DescribeShareGroupOffsets for share groups (whose share-partition
// start offsets stand for their committed offsets; the rest of what it reports is kept in
// st.shareOffsets).
func (c *Collector) fetchCommitted(ctx context.Context, fail func(string, int32, error)) map[string]map[string]map[int32]int64 {
	coords := make(map[string]int32, len(c.st.groups))
	names := make([]string, 0, len(c.st.groups))
	for _, g := range c.st.groups {
		coords[g.Name] = g.Coordinator
		names = append(names, g.Name)
	}
	out := make(map[string]map[string]map[int32]int64, len(c.st.groups))
	var (
		mu        sync.Mutex
		groupErrs int
		firstErr  error
	)
	share := c.shareGroupNames()
	shareOffs := make(map[string]map[string]map[int32]admin.ShareOffset, len(share))
	left, lookupErr := c.perCoordinator(ctx, coords, names, func(ctx context.Context, b int32, groups []string) []string {
		classic, shared := splitShare(groups, share)
		var res []admin.GroupOffsets
		var err, serr error
		if len(classic) > 0 {
			res, err = c.client.FetchOffsets(ctx, b, classic)
		}
		var sres []admin.ShareGroupOffsets
		if len(shared) > 0 {
			sres, serr = c.client.DescribeShareGroupOffsets(ctx, b, shared)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			fail("offsetFetch", b, err)
		}
		if serr != nil {
			fail("describeShareGroupOffsets", b, serr)
		}
		for _, g := range sres {
			res = append(res, groupOffsetsOfShare(g, shareOffs))
		}
		var moved []string
		for _, g := range res {
			switch {
			case coordinatorMoved(g.Err):
				moved = append(moved, g.Group)
			case g.Err != nil:
				groupErrs++
				if firstErr == nil {
					firstErr = fmt.Errorf("group %s: %w", g.Group, g.Err)
				}
			default:
				out[g.Group] = g.Offsets
			}
		}
		return moved
	})
	if len(left) > 0 {
		groupErrs += len(left)
		if firstErr == nil {
			firstErr = fmt.Errorf("group %s: coordinator not found after %d attempts", left[0], groupAttempts)
			if lookupErr != nil {
				firstErr = fmt.Errorf("%w: %w", firstErr, lookupErr)
			}
		}
	}
	// A group found at another coordinator is shown there.
	for i, g := range c.st.groups {
		c.st.groups[i].Coordinator = coords[g.Name]
	}
	// A group whose offsets could not be read this cycle keeps its last ones:
	// its lag should not drop to zero (and resolve alerts) because a
	// coordinator hiccuped.
	for _, g := range c.st.groups {
		if _, ok := out[g.Name]; !ok {
			if prev, ok := c.st.committed[g.Name]; ok {
				out[g.Name] = prev
			}
			if prev, ok := c.st.shareOffsets[g.Name]; ok {
				shareOffs[g.Name] = prev
			}
		}
	}
	if groupErrs > 0 {
		fail("offsetFetch", -1, fmt.Errorf("%d groups: %w", groupErrs, firstErr))
		c.st.groupsAt = time.Time{} // coordinators may have moved: list groups again next cycle
	}
	c.st.committed, c.st.shareOffsets = out, shareOffs
	return out
}
