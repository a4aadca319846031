package controller

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
)

// Config is the active controller's configuration, with Kafka's names.
type Config struct {
	NodeID int32
	// ClusterID is the cluster's id: a BrokerRegistration for another
	// cluster is refused with INCONSISTENT_CLUSTER_ID, and DescribeCluster
	// answers with it. "" accepts any.
	ClusterID                string
	SessionTimeout           time.Duration // broker.session.timeout.ms (Kafka default 9 s)
	DefaultPartitions        int32         // num.partitions
	DefaultReplicationFactor int16         // default.replication.factor
	AutoLeaderRebalance      bool          // auto.leader.rebalance.enable
	ImbalancePercentage      int           // leader.imbalance.per.broker.percentage
	// LeaderImbalanceCheckInterval is leader.imbalance.check.interval.seconds;
	// 0 means Kafka's default, 300 s.
	LeaderImbalanceCheckInterval time.Duration
	// UncleanLeaderElection is unclean.leader.election.enable, the broker
	// default; a topic's (or the dynamic broker) configuration overrides it.
	UncleanLeaderElection bool
	// ValidateTopicConfig checks one topic configuration value (the broker's
	// topic config table); nil accepts any.
	ValidateTopicConfig func(key, value string) error
	// Rand is the source of new topic ids; nil is crypto/rand. Tests pass a
	// seeded source so ids repeat.
	Rand   io.Reader
	Logger *slog.Logger
}

// Kafka's defaults for the settings left at zero.
const (
	defaultSessionTimeout        = 9 * time.Second
	defaultImbalanceCheck        = 300 * time.Second
	defaultImbalancePercentage   = 10
	producerIDBlockSize          = 1000
	defaultMaxRecordsPerTick     = 10000
	partitionScanInterval        = 10 * time.Second
	registrationFeatureMVDefault = 1 // metadata.version a broker naming none supports (3.0-IV1)
)

// Controller is the active controller's decision logic. It is not safe for
// concurrent use: its owner (the node's driver goroutine) calls Activate,
// Handle and Tick one at a time.
//
// Its only state is soft: each broker's last heartbeat, the last leader
// rebalance and the last scan of leaderless partitions. Everything else comes
// from the image passed in.
type Controller struct {
	cfg Config
	log *slog.Logger

	sessions      map[int32]*session
	maxEpoch      int64 // highest broker epoch handed out or seen
	lastRebalance time.Time
	lastScan      time.Time

	maxTickRecords int
}

// session is a broker's heartbeat session (Kafka's BrokerHeartbeatState).
type session struct {
	epoch    int64
	lastSeen time.Time
}

// New returns a controller; it decides nothing until Activate.
func New(cfg Config) *Controller {
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = defaultSessionTimeout
	}
	if cfg.LeaderImbalanceCheckInterval <= 0 {
		cfg.LeaderImbalanceCheckInterval = defaultImbalanceCheck
	}
	if cfg.ImbalancePercentage < 0 {
		cfg.ImbalancePercentage = defaultImbalancePercentage
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Controller{cfg: cfg, log: log.With("controller", cfg.NodeID), sessions: map[int32]*session{},
		maxTickRecords: defaultMaxRecordsPerTick}
}

// Activate is called when this node becomes the active controller, with the
// committed image. Soft state restarts: every registered broker gets a fresh
// session from now, as Kafka's BrokerHeartbeatManager does on activation.
func (c *Controller) Activate(now time.Time, img image.Image) {
	c.sessions = map[int32]*session{}
	c.maxEpoch = 0
	for _, b := range img.Brokers() {
		c.sessions[b.ID] = &session{epoch: b.Epoch, lastSeen: now}
		c.maxEpoch = max(c.maxEpoch, b.Epoch)
	}
	c.lastRebalance = now
	c.lastScan = time.Time{}
	c.log.Info("active controller", "brokers", len(c.sessions), "topics", img.NumTopics(),
		"metadata_version", img.MetadataVersion())
}

// Handle answers one controller request against img (the committed image
// plus every record this controller issued and has not seen committed). recs
// are appended atomically and resp is sent once they are committed; a
// request that changes nothing returns nil recs. A Kafka-level refusal is an
// error code in resp; err means the request is not one a controller serves
// (or the image cannot take a record the controller made, a bug), and the
// node then answers UNSUPPORTED_VERSION or closes the connection.
func (c *Controller) Handle(now time.Time, img image.Image, req kmsg.Request) (recs []image.VersionedRecord, resp kmsg.Response, err error) {
	if img.MetadataVersion() == 0 {
		return nil, nil, fmt.Errorf("controller: no metadata.version in the image (the bootstrap records come first)")
	}
	b := newBatch(img)
	switch r := req.(type) {
	case *kmsg.BrokerRegistrationRequest:
		resp = c.registerBroker(now, b, r)
	case *kmsg.BrokerHeartbeatRequest:
		resp = c.heartbeat(now, b, r)
	case *kmsg.UnregisterBrokerRequest:
		resp = c.unregisterBroker(b, r)
	case *kmsg.ControllerRegistrationRequest:
		resp = c.registerController(b, r)
	case *kmsg.CreateTopicsRequest:
		resp = c.createTopics(b, r)
	case *kmsg.DeleteTopicsRequest:
		resp = c.deleteTopics(b, r)
	case *kmsg.CreatePartitionsRequest:
		resp = c.createPartitions(b, r)
	case *kmsg.IncrementalAlterConfigsRequest:
		resp = c.incrementalAlterConfigs(b, r)
	case *kmsg.AlterConfigsRequest:
		resp = c.alterConfigs(b, r)
	case *kmsg.AlterPartitionRequest:
		resp = c.alterPartition(b, r)
	case *kmsg.AlterPartitionAssignmentsRequest:
		resp = c.alterReassignments(b, r)
	case *kmsg.ListPartitionReassignmentsRequest:
		resp = c.listReassignments(b, r)
	case *kmsg.ElectLeadersRequest:
		resp = c.electLeaders(b, r)
	case *kmsg.AllocateProducerIDsRequest:
		resp = c.allocateProducerIDs(b, r)
	case *kmsg.DescribeClusterRequest:
		resp = c.describeCluster(b, r)
	case *kmsg.AlterUserSCRAMCredentialsRequest:
		resp = c.alterUserScram(b, r)
	case *kmsg.CreateACLsRequest:
		resp = c.createACLs(b, r)
	case *kmsg.DeleteACLsRequest:
		resp = c.deleteACLs(b, r)
	case *kmsg.AlterClientQuotasRequest:
		resp = c.alterClientQuotas(b, r)
	default:
		return nil, nil, fmt.Errorf("controller: %s (key %d) is not a controller request", kmsg.NameForKey(req.Key()), req.Key())
	}
	if b.err != nil {
		return nil, nil, b.err
	}
	if len(b.recs) > maxRecordsPerUserOp && refuseTooLarge(resp) {
		return nil, resp, nil
	}
	return b.records(), resp, nil
}

// refuseTooLarge turns every result of an ElectLeaders or
// AlterPartitionReassignments that would write more than
// maxRecordsPerUserOp records into Kafka's refusal; it reports whether resp
// was one of them.
func refuseTooLarge(resp kmsg.Response) bool {
	code, msg := errTooLarge.code(), errTooLarge.message()
	switch r := resp.(type) {
	case *kmsg.ElectLeadersResponse:
		for i := range r.Topics {
			for j := range r.Topics[i].Partitions {
				r.Topics[i].Partitions[j].ErrorCode, r.Topics[i].Partitions[j].ErrorMessage = code, msg
			}
		}
	case *kmsg.AlterPartitionAssignmentsResponse:
		for i := range r.Topics {
			for j := range r.Topics[i].Partitions {
				r.Topics[i].Partitions[j].ErrorCode, r.Topics[i].Partitions[j].ErrorMessage = code, msg
			}
		}
	default:
		return false
	}
	return true
}

// Tick runs the periodic work of the active controller (call it every
// ~100 ms): it fences brokers whose session expired and moves leadership off
// them, gives leaderless partitions a leader (unclean only where allowed),
// finishes reassignments whose targets joined the ISR and, when enabled,
// moves leadership back to preferred replicas. Brokers are checked on every
// Tick; the partitions are looked through on the first Tick after Activate
// and every 10 s after (the elections unfencing makes and the reassignments
// AlterPartition completes happen at once; the scan catches the rest, as
// Kafka's periodic unclean election does). One Tick writes at most
// 10,000 records (Kafka's MAX_RECORDS_PER_USER_OP) so a large cluster does not
// make one giant batch; the rest is done by the following Ticks.
func (c *Controller) Tick(now time.Time, img image.Image) []image.VersionedRecord {
	if img.MetadataVersion() == 0 {
		return nil
	}
	b := newBatch(img)
	c.fenceStaleBrokers(now, b)
	if now.Sub(c.lastScan) >= partitionScanInterval && !c.full(b) {
		c.lastScan = now
		c.scanPartitions(b)
	}
	if c.cfg.AutoLeaderRebalance && now.Sub(c.lastRebalance) >= c.cfg.LeaderImbalanceCheckInterval && !c.full(b) {
		c.lastRebalance = now
		c.rebalance(b)
	}
	if b.err != nil {
		// A record the image refuses is a bug in this package: drop the whole
		// batch rather than append something brokers cannot replay.
		c.log.Error("periodic controller work dropped", "err", b.err)
		return nil
	}
	return b.records()
}

// full reports whether this Tick has written its share of records.
func (c *Controller) full(b *batch) bool { return len(b.recs) >= c.maxTickRecords }

// session returns broker id's session, starting one at now for a broker
// registered before this controller knew of it.
func (c *Controller) session(id int32, epoch int64, now time.Time) *session {
	s, ok := c.sessions[id]
	if !ok || s.epoch != epoch {
		s = &session{epoch: epoch, lastSeen: now}
		c.sessions[id] = s
	}
	return s
}

// hasValidSession is Kafka's BrokerHeartbeatManager.hasValidSession: an
// unfenced broker heard from within the session timeout.
func (c *Controller) hasValidSession(br image.Broker, now time.Time) bool {
	if br.Fenced {
		return false
	}
	s := c.session(br.ID, br.Epoch, now)
	return !now.After(s.lastSeen.Add(c.cfg.SessionTimeout))
}

// scanPartitions gives leaderless partitions a leader (from the ISR, or any
// live replica where the topic allows unclean election) and finishes
// reassignments whose targets are all in the ISR.
func (c *Controller) scanPartitions(b *batch) {
	img := b.image()
	forEachPartition(img, func(t image.Topic, p image.Partition) bool {
		if c.full(b) {
			return false
		}
		if p.Leader != image.NoLeader && !p.IsReassigning() {
			return true
		}
		ch := newChange(img, t.ID, p)
		if c.uncleanAllowed(img, t.Name) {
			ch.election = electUnclean
		}
		if p.Leader != image.NoLeader {
			// Only a completed reassignment changes a led partition here.
			ch.completeReassignment()
			if len(ch.adding) > 0 || len(ch.removing) > 0 {
				return true
			}
		}
		if addChange(b, ch) && p.Leader == image.NoLeader {
			c.log.Info("leaderless partition elected a leader", "topic", t.Name, "partition", p.Index,
				"unclean", ch.election == electUnclean)
		}
		return true
	})
}
