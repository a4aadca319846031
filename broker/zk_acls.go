package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/metastore"
)

// ACLs in ZooKeeper mode, stored as Kafka's AclAuthorizer stores them (see
// acl.ZKPath): every broker loads them at start, watches the change
// notifications and re-reads the resource nodes they name, so an ACL
// created through any broker (or by Kafka's own tools) applies everywhere.
// A broker that changes a node updates its own authorizer at once.

var aclPatterns = []acl.PatternType{acl.PatternLiteral, acl.PatternPrefixed}

// startACLs loads every ACL into a and starts the goroutine that follows
// the change notifications until the cluster closes.
func (zc *zkCluster) startACLs(ctx context.Context, a *acl.Authorizer) error {
	s, err := zc.keeper.WaitSession(ctx)
	if err != nil {
		return err
	}
	seen, err := zc.loadACLs(ctx, s, a)
	if err != nil {
		return err
	}
	zc.wg.Add(1)
	go zc.followACLs(a, seen)
	return nil
}

// loadACLs reads every resource node into a and returns the newest change
// notification of each change path, which the load already covers.
func (zc *zkCluster) loadACLs(ctx context.Context, s metastore.Session, a *acl.Authorizer) (map[string]int64, error) {
	seen := map[string]int64{}
	for _, p := range aclPatterns {
		path := acl.ZKChangesPath(p)
		if err := metastore.EnsurePath(ctx, s, path); err != nil {
			return nil, err
		}
		names, _, err := s.Children(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", path, err)
		}
		seen[path] = newestChange(names)
	}
	var all []acl.Binding
	for _, p := range aclPatterns {
		for _, rt := range acl.ZKResourceTypes {
			names, _, err := s.Children(ctx, acl.ZKTypePath(p, rt))
			if errors.Is(err, metastore.ErrNoNode) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("listing %s: %w", acl.ZKTypePath(p, rt), err)
			}
			for _, name := range names {
				r := acl.Resource{Type: rt, Name: name, Pattern: p}
				es, _, err := readACLNode(ctx, s, r)
				if err != nil {
					return nil, err
				}
				for _, e := range es {
					all = append(all, acl.Binding{Resource: r, Entry: e})
				}
			}
		}
	}
	a.Replace(all)
	return seen, nil
}

// changeSeq is the sequence number of a notification node, -1 if the
// name is not one.
func changeSeq(name string) int64 {
	n, err := strconv.ParseInt(strings.TrimPrefix(name, acl.ZKChangePrefix), 10, 64)
	if err != nil || !strings.HasPrefix(name, acl.ZKChangePrefix) {
		return -1
	}
	return n
}

func newestChange(names []string) int64 {
	newest := int64(-1)
	for _, n := range names {
		newest = max(newest, changeSeq(n))
	}
	return newest
}

// readACLNode reads one resource node (missing: no entries, version -1).
func readACLNode(ctx context.Context, s metastore.Session, r acl.Resource) ([]acl.Entry, int32, error) {
	data, st, err := s.Get(ctx, acl.ZKPath(r))
	if errors.Is(err, metastore.ErrNoNode) {
		return nil, -1, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", acl.ZKPath(r), err)
	}
	es, err := acl.DecodeZKEntries(data)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", acl.ZKPath(r), err)
	}
	return es, st.Version, nil
}

// followACLs applies the change notifications of each session; a new
// session starts with a full reload, as notifications may have been
// missed meanwhile.
func (zc *zkCluster) followACLs(a *acl.Authorizer, seen map[string]int64) {
	defer zc.wg.Done()
	for first := true; ; first = false {
		s, err := zc.keeper.WaitSession(zc.ctx)
		if err != nil {
			return
		}
		if !first {
			if seen, err = zc.loadACLs(zc.ctx, s, a); err != nil {
				zc.log.Warn("reloading ACLs", "err", err)
				if !sleepCtx(zc.ctx, time.Second) {
					return
				}
				continue
			}
		}
		if err := zc.followACLSession(s, a, seen); err != nil && zc.ctx.Err() == nil {
			zc.log.Warn("following ACL changes", "err", err)
			if !sleepCtx(zc.ctx, time.Second) {
				return
			}
		}
		if zc.ctx.Err() != nil {
			return
		}
	}
}

// followACLSession watches both change paths of one session and re-reads
// the resources new notifications name, until the session or the cluster
// ends or a read fails.
func (zc *zkCluster) followACLSession(s metastore.Session, a *acl.Authorizer, seen map[string]int64) error {
	events := make(chan string, len(aclPatterns))
	for {
		for _, p := range aclPatterns {
			path := acl.ZKChangesPath(p)
			names, _, ch, err := s.ChildrenW(zc.ctx, path)
			if err != nil {
				return fmt.Errorf("watching %s: %w", path, err)
			}
			if err := zc.applyACLChanges(s, a, p, names, seen); err != nil {
				return err
			}
			go func() {
				select {
				case <-ch:
					select {
					case events <- path:
					default: // a wake-up is already queued
					}
				case <-zc.ctx.Done():
				}
			}()
		}
		// Both watches are armed; wait for one, then list and re-arm both
		// (a watch still pending fires into the same channel later, which
		// at worst costs one more listing).
		select {
		case <-events:
		case <-s.Done():
			return nil
		case <-zc.ctx.Done():
			return nil
		}
		for len(events) > 0 {
			<-events
		}
	}
}

// applyACLChanges re-reads the resources named by notifications newer
// than the last one applied.
func (zc *zkCluster) applyACLChanges(s metastore.Session, a *acl.Authorizer, p acl.PatternType, names []string, seen map[string]int64) error {
	path := acl.ZKChangesPath(p)
	for _, n := range names {
		seq := changeSeq(n)
		if seq <= seen[path] {
			continue
		}
		data, _, err := s.Get(zc.ctx, path+"/"+n)
		if errors.Is(err, metastore.ErrNoNode) {
			continue // purged meanwhile
		}
		if err != nil {
			return fmt.Errorf("reading %s/%s: %w", path, n, err)
		}
		r, err := acl.DecodeZKChange(data, p == acl.PatternLiteral)
		if err != nil {
			zc.log.Warn("ignoring ACL change notification", "node", path+"/"+n, "err", err)
			seen[path] = seq
			continue
		}
		es, _, err := readACLNode(zc.ctx, s, r)
		if err != nil {
			return err
		}
		a.SetResource(r, es)
		seen[path] = seq
	}
	purgeACLChanges(zc.ctx, s, path, names, seen[path], time.Now())
	return nil
}

// aclChangeExpiry is how long a change notification stays (Kafka's
// ZkNodeChangeNotificationListener default): long enough for every broker
// to have read it, then any broker deletes it so the nodes do not pile up.
const aclChangeExpiry = 15 * time.Minute

// purgeACLChanges deletes the notifications under path already applied
// (sequence up to applied) that are older than aclChangeExpiry at now.
// Failures are left for the next pass.
func purgeACLChanges(ctx context.Context, s metastore.Session, path string, names []string, applied int64, now time.Time) {
	for _, n := range names {
		if seq := changeSeq(n); seq < 0 || seq > applied {
			continue
		}
		ok, st, err := s.Exists(ctx, path+"/"+n)
		if err != nil || !ok || now.Sub(st.Ctime) < aclChangeExpiry {
			continue
		}
		_ = s.Delete(ctx, path+"/"+n, metastore.AnyVersion) // another broker may have been first
	}
}

// createACLs adds the bindings to their resource nodes.
func (zc *zkCluster) createACLs(ctx context.Context, bs []acl.Binding) []error {
	errs := make([]error, len(bs))
	byRes := map[acl.Resource][]int{}
	var order []acl.Resource
	for i, b := range bs {
		if _, ok := byRes[b.Resource]; !ok {
			order = append(order, b.Resource)
		}
		byRes[b.Resource] = append(byRes[b.Resource], i)
	}
	for _, r := range order {
		idx := byRes[r]
		err := zc.updateACLNode(ctx, r, func(es []acl.Entry) []acl.Entry {
			for _, i := range idx {
				if !slices.Contains(es, bs[i].Entry) {
					es = append(es, bs[i].Entry)
				}
			}
			return es
		})
		for _, i := range idx {
			errs[i] = err
		}
	}
	return errs
}

// deleteACLs removes the bindings the filters select from their resource
// nodes. The resources come from the broker's authorizer (as in Kafka's
// authorizer, which also works from its cache); the entries removed are
// those of the node as it is when rewritten.
func (zc *zkCluster) deleteACLs(ctx context.Context, fs []acl.Filter) ([][]acl.Binding, []error) {
	out, errs := make([][]acl.Binding, len(fs)), make([]error, len(fs))
	var order []acl.Resource
	seen := map[acl.Resource]bool{}
	for _, f := range fs {
		for _, b := range zc.b.authz.Bindings(f) {
			if !seen[b.Resource] {
				seen[b.Resource] = true
				order = append(order, b.Resource)
			}
		}
	}
	for _, r := range order {
		var removed [][]acl.Binding
		err := zc.updateACLNode(ctx, r, func(es []acl.Entry) []acl.Entry {
			removed = make([][]acl.Binding, len(fs))
			return slices.DeleteFunc(es, func(e acl.Entry) bool {
				hit := false
				for i, f := range fs {
					if b := (acl.Binding{Resource: r, Entry: e}); f.Matches(b) {
						removed[i], hit = append(removed[i], b), true
					}
				}
				return hit
			})
		})
		for i := range fs {
			if err != nil {
				errs[i] = err
			} else if removed != nil {
				out[i] = append(out[i], removed[i]...)
			}
		}
	}
	return out, errs
}

// updateACLNode rewrites one resource node with fn's answer (no entries:
// the node is deleted), retrying on a concurrent change, then writes the
// change notification and updates this broker's authorizer.
func (zc *zkCluster) updateACLNode(ctx context.Context, r acl.Resource, fn func([]acl.Entry) []acl.Entry) error {
	s, err := zc.keeper.WaitSession(ctx)
	if err != nil {
		return err
	}
	path := acl.ZKPath(r)
	for {
		old, version, err := readACLNode(ctx, s, r)
		if err != nil {
			return err
		}
		es := fn(slices.Clone(old))
		if slices.Equal(es, old) {
			return nil
		}
		switch {
		case len(es) == 0:
			err = s.Delete(ctx, path, version)
		case version < 0:
			if err = metastore.EnsurePath(ctx, s, acl.ZKTypePath(r.Pattern, r.Type)); err == nil {
				_, err = s.Create(ctx, path, acl.EncodeZKEntries(es), metastore.Persistent)
			}
		default:
			_, err = s.Set(ctx, path, acl.EncodeZKEntries(es), version)
		}
		if errors.Is(err, metastore.ErrBadVersion) || errors.Is(err, metastore.ErrNodeExists) || errors.Is(err, metastore.ErrNoNode) {
			continue // changed under us: read again
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		zc.b.authz.SetResource(r, es)
		changes := acl.ZKChangesPath(r.Pattern)
		if err := metastore.EnsurePath(ctx, s, changes); err != nil {
			return err
		}
		if _, err := s.Create(ctx, changes+"/"+acl.ZKChangePrefix, acl.EncodeZKChange(r), metastore.Sequential); err != nil {
			return fmt.Errorf("notifying ACL change of %s: %w", path, err)
		}
		return nil
	}
}
