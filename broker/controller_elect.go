package broker

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkclient"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// The controller's leader elections: preferred (ElectLeaders, /admin/preferred_replica_election,
// auto rebalance) and unclean.

// ElectLeaders runs preferred (typ 0) or unclean (typ 1) elections; the
// result maps each partition to a Kafka error code.
func (c *controller) ElectLeaders(ctx context.Context, typ int8, tps []zkdata.TopicPartition) (map[zkdata.TopicPartition]int16, error) {
	out := map[zkdata.TopicPartition]int16{}
	err := c.do(ctx, func(ctx context.Context) error {
		snap, err := c.read(ctx)
		if err != nil {
			return err
		}
		if tps == nil { // all partitions
			for name, a := range snap.topics {
				for p := range a.Assignment.Partitions {
					tps = append(tps, zkdata.TopicPartition{Topic: name, Partition: p})
				}
			}
		}
		for _, tp := range tps {
			var code int16
			if typ == 1 {
				code, err = c.electUnclean(ctx, snap, tp)
			} else {
				code, err = c.electPreferred(ctx, snap, tp)
			}
			if errors.Is(err, zkclient.ErrControllerMoved) {
				return err
			}
			out[tp] = code
		}
		return nil
	})
	return out, err
}

// electPreferred moves leadership of tp to its first replica if that
// replica is alive and in the ISR. It returns a Kafka error code: 0,
// ELECTION_NOT_NEEDED or PREFERRED_LEADER_NOT_AVAILABLE.
func (c *controller) electPreferred(ctx context.Context, snap *ctrlSnapshot, tp zkdata.TopicPartition) (int16, error) {
	a, ok := snap.topics[tp.Topic]
	vs, sok := snap.states[tp]
	if !ok || !sok {
		return errUnknownTopicOrPart, nil
	}
	replicas := a.Assignment.Partitions[tp.Partition].Replicas
	if len(replicas) == 0 {
		return errUnknownTopicOrPart, nil
	}
	pref := replicas[0]
	if vs.State.Leader == pref {
		return errElectionNotNeeded, nil
	}
	if !snap.live[pref] || !slices.Contains(vs.State.ISR, pref) {
		return errPreferredLeaderNotAvailable, nil
	}
	next := vs.State
	next.Leader = pref
	next.LeaderEpoch++
	if err := c.writeState(ctx, tp, next, vs.Version, snap); err != nil {
		return errUnknown, err
	}
	return 0, nil
}

// electUnclean elects any live replica when the partition has no live
// leader (ElectLeaders type 1).
func (c *controller) electUnclean(ctx context.Context, snap *ctrlSnapshot, tp zkdata.TopicPartition) (int16, error) {
	a, ok := snap.topics[tp.Topic]
	vs, sok := snap.states[tp]
	if !ok || !sok {
		return errUnknownTopicOrPart, nil
	}
	if vs.State.Leader >= 0 && snap.live[vs.State.Leader] {
		return errElectionNotNeeded, nil
	}
	for _, r := range a.Assignment.Partitions[tp.Partition].Replicas {
		if snap.live[r] {
			next := vs.State
			next.Leader, next.ISR = r, []int32{r}
			next.LeaderEpoch++
			if err := c.writeState(ctx, tp, next, vs.Version, snap); err != nil {
				return errUnknown, err
			}
			return 0, nil
		}
	}
	return errEligibleLeadersNotAvailable, nil
}

// zkPreferredElection runs /admin/preferred_replica_election and removes it.
func (c *controller) zkPreferredElection(ctx context.Context, snap *ctrlSnapshot) error {
	data, err := c.w.get(ctx, c.s, zkdata.PreferredReplicaElectionPath)
	if errors.Is(err, metastore.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	tps, err := zkdata.DecodePartitions(data)
	if err != nil {
		c.log.Warn("bad preferred replica election request; removed", "err", err)
	}
	for _, tp := range tps {
		code, err := c.electPreferred(ctx, snap, tp)
		if errors.Is(err, zkclient.ErrControllerMoved) {
			return err
		}
		c.log.Info("preferred replica election", "partition", tp.String(), "code", code, "err", err)
	}
	return c.cl.DeletePreferredElection(ctx, c.ezv)
}

// autoRebalance is auto.leader.rebalance.enable: every
// leader.imbalance.check.interval, a broker whose share of partitions it
// prefers but does not lead is above leader.imbalance.per.broker.percentage
// gets them back (when it is alive and in their ISR).
func (c *controller) autoRebalance(ctx context.Context, snap *ctrlSnapshot) error {
	cfg := c.zc.b.cfg
	if !cfg.AutoLeaderRebalance || time.Since(c.lastRebalance) < cfg.LeaderImbalanceCheckInterval {
		return nil
	}
	c.lastRebalance = time.Now()
	preferred := map[int32][]zkdata.TopicPartition{}
	imbalanced := map[int32]int{}
	for name, a := range snap.topics {
		for p, pa := range a.Assignment.Partitions {
			if len(pa.Replicas) == 0 || len(pa.Adding) > 0 || len(pa.Removing) > 0 {
				continue
			}
			tp := zkdata.TopicPartition{Topic: name, Partition: p}
			pref := pa.Replicas[0]
			preferred[pref] = append(preferred[pref], tp)
			if vs, ok := snap.states[tp]; ok && vs.State.Leader != pref {
				imbalanced[pref]++
			}
		}
	}
	for b, tps := range preferred {
		if !snap.live[b] || imbalanced[b] == 0 {
			continue
		}
		ratio := float64(imbalanced[b]) * 100 / float64(len(tps))
		if ratio <= float64(cfg.LeaderImbalancePerBrokerPct) {
			continue
		}
		c.log.Info("leader imbalance; moving leadership back", "broker", b, "imbalance_pct", ratio)
		for _, tp := range tps {
			if _, err := c.electPreferred(ctx, snap, tp); errors.Is(err, zkclient.ErrControllerMoved) {
				return err
			}
		}
	}
	return nil
}
