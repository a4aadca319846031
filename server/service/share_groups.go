package service

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/osprey-kafka/osprey/collector"
)

// Share groups (KIP-932) keep no committed offsets: each share-partition has a start offset (SPSO)
// below which every record is done with. An administrator moves it with AlterShareGroupOffsets and
// drops a topic's share-partitions with DeleteShareGroupOffsets; Kafka accepts both only while the
// group has no members, and so does the console, before it asks.

// shareGroup returns the share group named group from the cluster's latest snapshot.
func (s *Service) shareGroup(cluster, group string) (*cluster, *collector.Snapshot, *collector.Group, error) {
	c, err := s.get(cluster)
	if err != nil {
		return nil, nil, nil, err
	}
	snap, err := s.snapshot(cluster)
	if err != nil {
		return nil, nil, nil, err
	}
	g, ok := snap.Group(group)
	if !ok {
		return nil, nil, nil, groupNotFound(cluster, group)
	}
	if g.Type != "share" {
		return nil, nil, nil, badRequest("not_share_group", "group %q is a %s group, not a share group; reset its offsets with POST .../groups/%s/offsets", group, g.Type, group)
	}
	return c, snap, g, nil
}

// shareGroupBusy is the refusal for a share group that has members: Kafka changes a share group's
// start offsets only while it is empty.
func shareGroupBusy(g *collector.Group) error {
	return conflict("share_group_not_empty", "share group %q is %s with %d member(s); Kafka changes a share group's offsets only while it is empty: stop its consumers first (a dry run shows the plan meanwhile)",
		g.Name, g.State, len(g.Members))
}

// ResetShareOffsets moves a share group's start offsets as ResetOffsets moves a consumer group's
// committed ones (same strategies, clamped to the log): every share-partition the group has, or
// those of the named topic. A dry run only computes the plan; executing is refused while the
// group has members, and audited either way.
func (s *Service) ResetShareOffsets(ctx context.Context, who Caller, cluster, group string, req ResetOffsetsRequest) ([]OffsetChange, error) {
	c, snap, g, err := s.shareGroup(cluster, group)
	if err != nil {
		return nil, err
	}
	if err := validateResetRequest(req); err != nil {
		return nil, err
	}
	targets, before, err := resetTargets(snap, cluster, group, g, req)
	if err != nil {
		return nil, err
	}
	var byTime map[string][]int64
	if req.Strategy == "timestamp" {
		if byTime, err = offsetsAtTime(ctx, c, cluster, targets, *req.Timestamp); err != nil {
			return nil, err
		}
	}
	changes, commit := planReset(snap, req, targets, before, byTime)
	if req.DryRun {
		return changes, nil
	}
	if len(commit) == 0 {
		return changes, &UserError{Status: http.StatusServiceUnavailable, Code: "offsets_unknown", Message: "no partition's offsets are known; try again when the leaders are available"}
	}
	err = s.Audited(ctx, who, "group.share_offsets.reset", cluster, group, req, func() error {
		if groupActive(g) {
			return shareGroupBusy(g)
		}
		perr, err := c.client.AlterShareGroupOffsets(ctx, group, commit)
		if err != nil {
			return kafkaError(opAlterShareOffsets, group, err)
		}
		var failed []string
		for i := range changes {
			if e := perr[changes[i].Topic][changes[i].Partition]; e != nil {
				changes[i].Error = e.Error()
				failed = append(failed, fmt.Sprintf("%s-%d", changes[i].Topic, changes[i].Partition))
			}
		}
		if len(failed) > 0 {
			return &UserError{Status: http.StatusBadGateway, Code: "partial_reset", Message: "some partitions were not reset: " + strings.Join(failed, ", ")}
		}
		s.repoll(ctx, c)
		return nil
	})
	return changes, err
}

// DeleteShareOffsets deletes a share group's share-partitions of the given topics (all its topics
// when none is named): the group starts over on them as a new group would
// (share.auto.offset.reset). Refused while the group has members; audited.
func (s *Service) DeleteShareOffsets(ctx context.Context, who Caller, cluster, group string, topics []string) ([]string, error) {
	c, _, g, err := s.shareGroup(cluster, group)
	if err != nil {
		return nil, err
	}
	if len(topics) == 0 {
		for _, gt := range g.Topics {
			topics = append(topics, gt.Topic)
		}
	}
	if len(topics) == 0 {
		return nil, badRequest("nothing_to_reset", "share group %q has no share-partitions to delete", group)
	}
	sort.Strings(topics)
	err = s.Audited(ctx, who, "group.share_offsets.delete", cluster, group, map[string]any{"topics": topics}, func() error {
		if groupActive(g) {
			return shareGroupBusy(g)
		}
		perr, err := c.client.DeleteShareGroupOffsets(ctx, group, topics)
		if err != nil {
			return kafkaError(opDeleteShareOffsets, group, err)
		}
		for _, t := range topics {
			if e := perr[t]; e != nil {
				return kafkaError(opDeleteShareOffsets, group+" / "+t, e)
			}
		}
		s.repoll(ctx, c)
		return nil
	})
	return topics, err
}
