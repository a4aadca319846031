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

func (c *Collector) refreshZK(ctx context.Context) {
	st := &c.st
	z, err := c.client.ZooKeeper()
	if err != nil {
		return
	}
	zctx, cancel := c.callCtx(ctx)
	defer cancel()
	info := &ZooKeeperInfo{Servers: z.Servers, ReadAt: c.cfg.Now(), Controller: -1}
	var errs []error
	if brokers, err := z.Brokers(zctx); err != nil {
		errs = append(errs, err)
	} else {
		for _, b := range brokers {
			info.RegisteredBrokers = append(info.RegisteredBrokers, b.ID)
		}
	}
	if ctl, err := z.Controller(zctx); err != nil {
		errs = append(errs, err)
	} else {
		info.Controller, info.ControllerEpoch, info.ControllerSince = ctl.BrokerID, ctl.Epoch, ctl.Since
	}
	if p, err := z.Pending(zctx); err != nil {
		errs = append(errs, err)
	} else {
		info.PendingReassignments, info.PendingElections, info.PendingDeletes = len(p.Reassignments), len(p.PreferredElection), p.DeleteTopics
	}
	info.Ensemble = make([]ZooKeeperServer, len(z.Servers))
	var wg sync.WaitGroup
	for i, addr := range z.Servers {
		wg.Go(func() {
			zs := ZooKeeperServer{Address: addr}
			stats, err := zkstatus.Srvr(zctx, addr) // srvr needs no whitelist entry
			if err != nil {
				zs.Error = err.Error()
			} else {
				zs.OK, zs.Mode, zs.Version = true, string(stats.Mode), stats.Version
				zs.AvgLatencyMs, zs.MaxLatencyMs = stats.AvgLatency, stats.MaxLatency
				zs.Connections, zs.Outstanding, zs.NodeCount, zs.Zxid = stats.Connections, stats.Outstanding, stats.NodeCount, int64(stats.Zxid)
			}
			info.Ensemble[i] = zs
		})
	}
	wg.Wait()
	for _, zs := range info.Ensemble {
		if !zs.OK {
			errs = append(errs, errors.New(zs.Error))
		}
	}
	info.Connected = z.Connected()
	if len(errs) > 0 {
		info.Error = errors.Join(errs...).Error()
	}
	st.zk, st.zkAt = info, c.cfg.Now()
}
