package collector

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/admin/zkstatus"
	"github.com/osprey-kafka/osprey/internal/forecast"
)

// The parts of a cycle kept in the poll state between cycles: log-dir sizes and byte rates,
// min.insync.replicas, the KRaft quorum and the ZooKeeper ensemble.

func (c *Collector) refreshLogDirs(ctx context.Context, md *admin.Metadata, brokers []int32) {
	st := &c.st
	leader := make(map[string][]int32, len(md.Topics))
	for _, t := range md.Topics {
		ls := make([]int32, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			for int(p.Partition) >= len(ls) {
				ls = append(ls, -1)
			}
			ls[p.Partition] = p.Leader
		}
		leader[t.Name] = ls
	}
	sizes := map[string]map[int32]int64{}
	brokerBytes := map[int32]int64{}
	errs := map[int32]string{}
	topicDisk := map[string]int64{}
	var read []LogDirStorage
	var mu sync.Mutex
	runEach(c, brokers, func(b int32) {
		lctx, cancel := c.callCtx(ctx)
		defer cancel()
		ld, err := c.client.DescribeLogDirs(lctx, b)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs[b] = err.Error()
			return
		}
		brokerBytes[b] = ld.Bytes
		for _, d := range ld.Dirs {
			rd := LogDirStorage{Broker: b, Path: d.Path, TotalBytes: d.TotalBytes, UsableBytes: d.UsableBytes}
			if d.Err != nil {
				rd.Error = d.Err.Error()
			}
			for t, ps := range d.Partitions {
				for _, sz := range ps {
					rd.UsedBytes += sz
					topicDisk[t] += sz
				}
			}
			read = append(read, rd)
			for t, ps := range d.Partitions {
				ls := leader[t]
				for p, sz := range ps {
					isLeader := int(p) < len(ls) && ls[p] == b
					m := sizes[t]
					if m == nil {
						m = map[int32]int64{}
						sizes[t] = m
					}
					// The leader's replica wins; any replica is better than nothing.
					if _, seen := m[p]; isLeader || !seen {
						m[p] = sz
					}
				}
			}
		}
	})
	now := c.cfg.Now()
	// Byte rates from the previous log-dir refresh.
	topicSz := make(map[string]int64, len(sizes))
	brokerSz := map[int32]int64{}
	for t, ps := range sizes {
		var sum int64
		ls := leader[t]
		for p, sz := range ps {
			sum += sz
			if int(p) < len(ls) && ls[p] >= 0 {
				brokerSz[ls[p]] += sz
			}
		}
		topicSz[t] = sum
	}
	st.topicBps, st.brokerBps = map[string]float64{}, map[int32]float64{}
	c.observeWritten(topicSz, now)
	if !st.prevSizeAt.IsZero() {
		dt := now.Sub(st.prevSizeAt).Seconds()
		for t, sz := range topicSz {
			if prev, ok := st.prevTopicSz[t]; ok && dt > 0 && sz > prev {
				st.topicBps[t] = float64(sz-prev) / dt
			}
		}
		for b, sz := range brokerSz {
			if prev, ok := st.prevBrokerSz[b]; ok && dt > 0 && sz > prev {
				st.brokerBps[b] = float64(sz-prev) / dt
			}
		}
	}
	st.prevTopicSz, st.prevBrokerSz, st.prevSizeAt = topicSz, brokerSz, now
	st.partSize, st.brokerBytes, st.logDirErr, st.topicDisk = sizes, brokerBytes, errs, topicDisk
	c.observeDirs(read, errs, now)
}

func (c *Collector) refreshMinISR(ctx context.Context, md *admin.Metadata, fail func(string, int32, error)) {
	names := make([]string, 0, len(md.Topics))
	for _, t := range md.Topics {
		names = append(names, t.Name)
	}
	cctx, cancel := c.callCtx(ctx)
	defer cancel()
	vals, err := c.client.TopicConfigValues(cctx, names, topicConfigKeys...)
	c.st.configsAt = c.cfg.Now()
	if err != nil {
		fail("configs", -1, err)
		return
	}
	m := make(map[string]int, len(vals))
	ret := make(map[string]forecast.Retention, len(vals))
	policy := make(map[string]string, len(vals))
	for t, kv := range vals {
		if p, ok := kv[cfgCleanupPolicy]; ok {
			policy[t] = p
		}
		if n, err := strconv.Atoi(kv[cfgMinISR]); err == nil && n > 0 {
			m[t] = n
		}
		if r, ok := retentionOf(kv); ok {
			ret[t] = r
		}
	}
	c.st.minISR, c.st.retention, c.st.policy = m, ret, policy
}

// refreshZK reads the ZooKeeper state: the znodes through the client's session, and each
// server's srvr answer. While ZooKeeper cannot be reached the snapshot keeps the znode figures of
// the last read that reached it (ReadAt stays that read's time), with Connected false and
// UnreachableSince the first read that failed. It only touches st.zk and st.zkAt, so it can run
// beside the cycle's Kafka calls.
func (c *Collector) refreshZK(ctx context.Context) {
	st := &c.st
	z, err := c.client.ZooKeeper()
	if err != nil {
		return
	}
	zctx, cancel := c.callCtx(ctx)
	defer cancel()
	now := c.cfg.Now()
	info := &ZooKeeperInfo{Servers: z.Servers, ReadAt: now, Controller: -1}
	var ensemble sync.WaitGroup
	ensemble.Go(func() { info.Ensemble = readEnsemble(zctx, z.Servers) })
	errs, unreachable := readZNodes(zctx, z, info)
	ensemble.Wait()
	for _, zs := range info.Ensemble {
		if !zs.OK {
			errs = append(errs, errors.New(zs.Error))
		}
	}
	info.Connected = !unreachable && z.Connected()
	if len(errs) > 0 {
		info.Error = errors.Join(errs...).Error()
	} else if !info.Connected {
		info.Error = "no ZooKeeper session"
	}
	if !info.Connected {
		since := now
		if prev := st.zk; prev != nil {
			info.keepFigures(prev)
			if prev.UnreachableSince != nil {
				since = *prev.UnreachableSince
			}
		}
		info.UnreachableSince = &since
	}
	st.zk, st.zkAt = info, now
}

// readZNodes fills info's figures from the znodes; unreachable says a read failed because
// ZooKeeper did not answer (rather than with an error of its own).
func readZNodes(ctx context.Context, z *admin.ZK, info *ZooKeeperInfo) (errs []error, unreachable bool) {
	fail := func(err error) {
		errs = append(errs, err)
		unreachable = unreachable || admin.IsZKUnavailable(err)
	}
	if brokers, err := z.Brokers(ctx); err != nil {
		fail(err)
	} else {
		for _, b := range brokers {
			info.RegisteredBrokers = append(info.RegisteredBrokers, b.ID)
		}
	}
	if ctl, err := z.Controller(ctx); err != nil {
		fail(err)
	} else {
		info.Controller, info.ControllerEpoch, info.ControllerSince = ctl.BrokerID, ctl.Epoch, ctl.Since
	}
	if p, err := z.Pending(ctx); err != nil {
		fail(err)
	} else {
		info.PendingReassignments, info.PendingElections, info.PendingDeletes = len(p.Reassignments), len(p.PreferredElection), p.DeleteTopics
	}
	return errs, unreachable
}

// readEnsemble asks each server for srvr (it needs no whitelist entry), in parallel.
func readEnsemble(ctx context.Context, servers []string) []ZooKeeperServer {
	out := make([]ZooKeeperServer, len(servers))
	var wg sync.WaitGroup
	for i, addr := range servers {
		wg.Go(func() {
			zs := ZooKeeperServer{Address: addr}
			stats, err := zkstatus.Srvr(ctx, addr)
			if err != nil {
				zs.Error = err.Error()
			} else {
				zs.OK, zs.Mode, zs.Version = true, string(stats.Mode), stats.Version
				zs.AvgLatencyMs, zs.MaxLatencyMs = stats.AvgLatency, stats.MaxLatency
				zs.Connections, zs.Outstanding, zs.NodeCount, zs.Zxid = stats.Connections, stats.Outstanding, stats.NodeCount, int64(stats.Zxid)
			}
			out[i] = zs
		})
	}
	wg.Wait()
	return out
}

// keepFigures copies the znode figures of prev (the last read that reached ZooKeeper, or one
// that kept them), and its read time, into z.
func (z *ZooKeeperInfo) keepFigures(prev *ZooKeeperInfo) {
	z.ReadAt = prev.ReadAt
	z.Controller, z.ControllerEpoch, z.ControllerSince = prev.Controller, prev.ControllerEpoch, prev.ControllerSince
	z.RegisteredBrokers = prev.RegisteredBrokers // never modified after creation
	z.PendingReassignments, z.PendingElections, z.PendingDeletes = prev.PendingReassignments, prev.PendingElections, prev.PendingDeletes
}
