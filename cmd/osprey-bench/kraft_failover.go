package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// failover kills the active controller's node with SIGKILL and measures,
// on the surviving nodes, the time until one of them names a new
// controller, and the time until a CreateTopics succeeds and the topic it
// created is listed with a leader.
func failover(ctx context.Context, o *options, set *nodeSet, r *modeRun) error {
	victim := set.node(r.controller)
	if victim == nil {
		return fmt.Errorf("controller %d is not one of the nodes", r.controller)
	}
	r.victim = victim.id
	var survivors []*nodeClient
	for _, nd := range set.nodes {
		if nd == victim {
			continue
		}
		c, err := newNodeClient(nd)
		if err != nil {
			return err
		}
		defer c.close()
		survivors = append(survivors, c)
	}
	limit := o.dur(5*time.Minute, 2*time.Minute)
	fctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	victim.kill()
	killed := time.Now()
	var elected atomic.Int64
	go func() {
		for fctx.Err() == nil {
			for _, c := range survivors {
				if id, err := controllerSeenBy(fctx, c, set.mode); err == nil && id >= 0 && id != victim.id {
					elected.Store(int64(time.Since(killed)))
					return
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	topic := "failover-" + set.mode
	var by *nodeClient
	for i := 0; by == nil; i++ {
		if fctx.Err() != nil {
			return fmt.Errorf("no CreateTopics succeeded within %v", limit)
		}
		c := survivors[i%len(survivors)]
		r.createTries++
		if createOne(fctx, c, topic) {
			by = c
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A success in ZooKeeper mode can mean only that the topic's znode was
	// written: it is usable once the controller gave it a leader.
	for {
		md, err := by.metadata(fctx, []string{topic})
		if err == nil && len(md.Topics) == 1 && md.Topics[0].ErrorCode == 0 && len(md.Topics[0].Partitions) == 1 &&
			md.Topics[0].Partitions[0].Leader >= 0 {
			break
		}
		if fctx.Err() != nil {
			return fmt.Errorf("%s created but not led within %v", topic, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.failover = time.Since(killed)
	// The election figure, if the poller has not seen it yet, waits a little.
	for elected.Load() == 0 && fctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	r.elected = time.Duration(elected.Load())
	return nil
}

// createOne sends CreateTopics for topic (1 partition, RF 1) to one node and
// reports whether it was created (or already was, by an earlier attempt
// that timed out on the client's side).
func createOne(ctx context.Context, c *nodeClient, topic string) bool {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10_000
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = topic, 1, 1
	req.Topics = append(req.Topics, t)
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := c.request(rctx, req)
	if err != nil {
		return false
	}
	ct := resp.(*kmsg.CreateTopicsResponse)
	if len(ct.Topics) != 1 {
		return false
	}
	err = kerr.ErrorForCode(ct.Topics[0].ErrorCode)
	return err == nil || errors.Is(err, kerr.TopicAlreadyExists)
}

// kraftRows reports the section's figures, each KRaft figure beside
// ZooKeeper mode's from the same run.
func kraftRows(rep *report, kr, zk *modeRun, scale string, topics, parts int) {
	name := "controller failover, " + scale + ", KRaft vs ZooKeeper"
	prop := fmt.Sprintf("metadata propagation, %d topics × %d", topics, parts)
	switch {
	case kr.err != nil:
		rep.add(row{Section: "kraft", Name: name, Value: "-", Status: statusNotRun, Why: "the KRaft run failed: " + firstLine(kr.err.Error())})
	case zk.err != nil && zk.failover == 0:
		rep.add(row{Section: "kraft", Name: name, Value: secs(kr.failover), Reference: "ZooKeeper: failed", Status: statusNotRun,
			Why: "the ZooKeeper-mode run failed: " + firstLine(zk.err.Error())})
	default:
		if zk.partitions < kr.partitions {
			name += fmt.Sprintf(" (ZooKeeper mode at %dk)", zk.partitions/1000)
		}
		v := float64(kr.failover) / float64(zk.failover)
		st := atMost(v, 0.1)
		why := ""
		if st == statusMissed {
			why = fmt.Sprintf("KRaft took %s: a new quorum leader was named after %s and the first CreateTopics that "+
				"succeeded (attempt %d) came %s later; ZooKeeper mode took %s, of which %s until a broker named a new "+
				"controller (the dead broker's ZooKeeper session has to expire first, zookeeper.session.timeout.ms 18 s).",
				secs(kr.failover), secs(kr.elected), kr.createTries, secs(kr.failover-kr.elected), secs(zk.failover), secs(zk.elected))
		}
		rep.add(row{Section: "kraft", Name: name, Value: secs(kr.failover), Reference: "ZooKeeper mode " + secs(zk.failover),
			Ratio: fmt.Sprintf("%.3f", v), Target: "≤ 0.10 × ZooKeeper mode", Status: st, Why: why})
		rep.add(row{Section: "kraft", Name: "failover: kill until a new controller is named", Value: secs(kr.elected),
			Reference: "ZooKeeper mode " + secs(zk.elected), Ratio: ratio(float64(kr.elected), float64(zk.elected)), Target: "diagnostic"})
	}
	for _, m := range []*modeRun{kr, zk} {
		if m.err != nil {
			rep.note("%s run error: %s", m.mode, firstLine(m.err.Error()))
		}
	}
	if kr.propagated > 0 && zk.propagated > 0 {
		ref, rt := "ZooKeeper mode "+secs(zk.propagated), ratio(float64(kr.propagated), float64(zk.propagated))
		if zk.partitions < kr.partitions {
			ref = fmt.Sprintf("ZooKeeper mode: %d of %d partitions in %s (creation stopped at %v)", zk.partitions, kr.partitions,
				secs(zk.propagated), createLimit)
			rt = "n/a"
		}
		rep.add(row{Section: "kraft", Name: prop, Value: secs(kr.propagated), Reference: ref, Ratio: rt, Target: "-"})
	} else if kr.propagated > 0 {
		rep.add(row{Section: "kraft", Name: prop, Value: secs(kr.propagated), Reference: "ZooKeeper mode: failed", Status: statusNotRun,
			Why: "the ZooKeeper-mode run failed before propagation ended: " + firstLine(errString(zk.err))})
	}
	if len(kr.rss) > 0 {
		ref := ""
		if len(zk.rss) > 0 {
			ref = "ZooKeeper mode " + memList(zk) + fmt.Sprintf("; ZooKeeper (JVM) %s", humanBytes(zk.zkRSS))
		}
		rep.add(row{Section: "kraft", Name: "memory after propagation (RSS per node)", Value: memList(kr), Reference: ref, Target: "diagnostic"})
	}
	kraftNotes(rep, kr, zk, topics, parts)
}

func kraftNotes(rep *report, kr, zk *modeRun, topics, parts int) {
	rep.note("KRaft vs ZooKeeper mode (section kraft): each mode runs 3 nodes as child processes of the osprey binary " +
		"(`go build ./cmd/osprey`, then `osprey broker --config node-N.properties`), one mode after the other on the same " +
		"machine. KRaft: 3 combined nodes (process.roles=broker,controller, static controller.quorum.voters, a CONTROLLER " +
		"listener), each formatted with `osprey storage random-uuid` and `osprey storage format -t <id> -c`; Kafka's default " +
		"timeouts (controller.quorum.election.timeout.ms 1000, controller.quorum.fetch.timeout.ms 2000, " +
		"broker.session.timeout.ms 9000). ZooKeeper mode: 3 brokers on a private Debian ZooKeeper (the jar the tests use, " +
		"started by the bench in its scratch directory, -Xmx512m), Kafka's default zookeeper.session.timeout.ms 18000. " +
		"In both modes partition data is in memory (no log.dirs; KRaft's metadata.log.dir is on disk, and so is " +
		"ZooKeeper's data): on disk each partition holds about 3 open files, and this machine allows a process 20,000 " +
		"(RLIMIT_NOFILE, not raisable here) against 33,000 partitions a node; the first attempt on disk ran out of " +
		"files at about 6,700 partitions a node.")
	rep.note("Metadata propagation: %d topics of %d partitions, RF 1, in CreateTopics of %d topics (%d in flight, "+
		"through a franz-go client, which routes them as an admin client does), from the first request until "+
		"every node's own Metadata answer (all topics, polled every 200 ms on each node in turn) lists all %d partitions "+
		"with a leader; KRaft %s (all CreateTopics answered after %s), ZooKeeper mode %s (answered after %s). Memory: "+
		"VmRSS of each node's process right after (VmHWM peak in brackets), the controller's node marked.",
		topics, parts, topicsPerCreate, createsInFlight, topics*parts, secs(kr.propagated), secs(kr.created), secs(zk.propagated), secs(zk.created))
	rep.note("Topic creation stops sending new CreateTopics after %v (the requests in flight finish); a mode that has not "+
		"created every topic by then is measured (propagation and failover) with the partitions it has: in this run KRaft "+
		"%d, ZooKeeper mode %d partitions. A smaller cluster favours ZooKeeper mode's failover (its new controller reads "+
		"every partition's state from ZooKeeper before it acts), so the ratio then overstates KRaft's time relative to "+
		"ZooKeeper mode at the same size.", createLimit, kr.partitions, zk.partitions)
	rep.note("Controller failover: on that cluster, the node holding the controller role (KRaft: the quorum leader from "+
		"DescribeQuorum sent to a broker; ZooKeeper mode: Metadata's controller id, the /controller znode) is killed with "+
		"SIGKILL; then CreateTopics of a new 1-partition topic (RF 1, timeout 10 s) is sent to the surviving nodes in turn, "+
		"each directly, every 20 ms after a failure, until one succeeds, and the time is taken once that node's Metadata "+
		"lists the topic with a leader (in ZooKeeper mode a CreateTopics can succeed with only the topic's znode written). "+
		"KRaft: node %d killed, %d attempts; ZooKeeper mode: broker %d killed, %d attempts. One kill per mode.",
		kr.victim, kr.createTries, zk.victim, zk.createTries)
}

func memList(m *modeRun) string {
	var parts []string
	for i, v := range m.rss {
		s := fmt.Sprintf("%d: %s (%s)", i+1, humanBytes(v), humanBytes(m.hwm[i]))
		if int32(i+1) == m.controller {
			s += " controller"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
