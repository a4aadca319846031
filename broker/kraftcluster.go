package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	kraftnode "github.com/osprey-kafka/osprey/broker/kraft/node"
)

// kraftCluster is the Cluster of a broker in KRaft mode. Its view is the
// metadata image its KRaft node replays from the __cluster_metadata log: the
// handlers read topics and brokers from it as they read the ZooKeeper-mode
// cache, and the partitions this broker hosts follow each new image (become
// leader, become follower, delete) through the same changed callback, so no
// LeaderAndIsr or UpdateMetadata request is ever needed. Every change (topics,
// configs, ISR, elections, reassignments) is a request to the active
// controller; a change returns once this broker's image shows it.
type kraftCluster struct {
	b         *Broker
	self      BrokerInfo
	listener  string // the listener name brokers register and clients use
	clusterID string
	node      *kraftnode.Node
	life      *kraftnode.Lifecycle
	log       *slog.Logger
	changed   func(TopicInfo, bool)

	topicTable // its mu also guards the fields below

	img     image.Image
	brokers []BrokerInfo  // unfenced brokers at their listener, by id
	signal  chan struct{} // closed and replaced on every new image

	stopWatch func()
}

// kraftRequestTimeout bounds one change sent to the controller when the caller's
// context has no earlier deadline.
const kraftRequestTimeout = 30 * time.Second

func newKRaftCluster(b *Broker, self BrokerInfo, clusterID string, node *kraftnode.Node, changed func(TopicInfo, bool)) *kraftCluster {
	return &kraftCluster{b: b, self: self, listener: b.cfg.interBrokerListener(), clusterID: clusterID, node: node, log: b.log,
		changed: changed, topicTable: topicTable{topics: map[string]*TopicInfo{}}, img: image.Empty(),
		signal: make(chan struct{})}
}

// watch starts following the node's images. The first call of the node's
// callback carries the image as of now, so the view is complete when it
// returns a first time.
func (kc *kraftCluster) watch() {
	kc.stopWatch = kc.node.Watch(kc.apply)
}

// apply takes one new image: the topic table and broker list are rebuilt for
// what the delta touched, then (without the lock) the data plane is told.
func (kc *kraftCluster) apply(_, next image.Image, d *image.Delta) {
	kc.applyACLs(next, d)
	kc.applyClientQuotas(next, d)
	changed, deleted := d.TopicChanges()
	kc.mu.Lock()
	var gone []TopicInfo
	for _, name := range deleted {
		if t, ok := kc.topics[name]; ok {
			gone = append(gone, copyTopic(t))
			delete(kc.topics, name)
		}
	}
	var now []TopicInfo
	for _, name := range changed {
		t, ok := next.Topic(name)
		if !ok {
			continue
		}
		ti := topicInfoOf(next, t)
		kc.topics[name] = &ti
		now = append(now, copyTopic(&ti))
	}
	kc.img = next
	kc.brokers = kc.brokersOf(next)
	close(kc.signal)
	kc.signal = make(chan struct{})
	kc.mu.Unlock()

	kc.applyBrokerConfigs(next)
	for _, t := range gone {
		kc.changed(t, true)
	}
	for _, t := range now {
		kc.changed(t, false)
	}
}

// topicInfoOf converts an image topic to the handlers' view.
func topicInfoOf(im image.Image, t image.Topic) TopicInfo {
	ti := TopicInfo{Name: t.Name, ID: t.ID, Internal: isInternalTopic(t.Name),
		Configs: im.Configs(image.ConfigResource{Type: image.ResourceTopic, Name: t.Name})}
	if ti.Configs == nil {
		ti.Configs = map[string]string{}
	}
	for _, p := range t.Partitions() {
		ti.Partitions = append(ti.Partitions, PartitionInfo{Partition: p.Index, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
			Replicas: p.Replicas, ISR: p.Isr})
	}
	return ti
}

// fencedBrokers lists the registered brokers that are fenced, at this
// broker's listener (DescribeCluster v2 with IncludeFencedBrokers).
func (kc *kraftCluster) fencedBrokers() []BrokerInfo {
	im, _ := kc.image()
	return kc.brokersWhere(im, true)
}

// brokersOf lists the brokers clients may use: registered, unfenced and not
// shutting down (Kafka's Metadata lists the unfenced ones), at the listener
// this broker serves on.
func (kc *kraftCluster) brokersOf(im image.Image) []BrokerInfo { return kc.brokersWhere(im, false) }

// brokersWhere lists the registered brokers whose fenced state is fenced, at
// this broker's listener (a broker without it is left out).
func (kc *kraftCluster) brokersWhere(im image.Image, fenced bool) []BrokerInfo {
	var out []BrokerInfo
	for _, br := range im.Brokers() {
		if br.Fenced != fenced {
			continue
		}
		l, ok := br.Listener(kc.listener)
		if !ok {
			continue
		}
		bi := BrokerInfo{ID: br.ID, Host: l.Host, Port: int32(l.Port), Endpoints: kraftEndpoints(br.Listeners)}
		if br.Rack != nil {
			bi.Rack = *br.Rack
		}
		out = append(out, bi)
	}
	return out
}

// applyBrokerConfigs installs the dynamic broker configs (the cluster-wide
// default and this broker's own) from the image, as the ZooKeeper-mode
// cluster does from /config/brokers.
func (kc *kraftCluster) applyBrokerConfigs(im image.Image) {
	for _, name := range []string{defaultBrokerEntity, strconv.Itoa(int(kc.self.ID))} {
		entity := name
		if name == defaultBrokerEntity {
			entity = ""
		}
		cfg := im.Configs(image.ConfigResource{Type: image.ResourceBroker, Name: entity})
		if cfg == nil {
			cfg = map[string]string{}
		}
		kc.b.setDynamicConfig(name, cfg)
	}
}

func (kc *kraftCluster) ClusterID() string { return kc.clusterID }

// ControllerID answers as a KRaft broker does in Metadata and DescribeCluster:
// clients cannot reach the controllers, so Kafka names a random unfenced
// broker. The quorum leader is in DescribeQuorum.
func (kc *kraftCluster) ControllerID() int32 {
	kc.mu.RLock()
	defer kc.mu.RUnlock()
	if len(kc.brokers) == 0 {
		return -1
	}
	return kc.brokers[rand.IntN(len(kc.brokers))].ID
}

func (kc *kraftCluster) Brokers() []BrokerInfo {
	kc.mu.RLock()
	defer kc.mu.RUnlock()
	return append([]BrokerInfo(nil), kc.brokers...)
}

// image returns the newest image and the channel closed when the next one arrives.
func (kc *kraftCluster) image() (image.Image, <-chan struct{}) {
	kc.mu.RLock()
	defer kc.mu.RUnlock()
	return kc.img, kc.signal
}

// waitImage waits until cond holds on this broker's image.
func (kc *kraftCluster) waitImage(ctx context.Context, cond func(image.Image) bool) error {
	for {
		im, next := kc.image()
		if cond(im) {
			return nil
		}
		select {
		case <-next:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// controllerRequest sends req to the active controller, bounded by ctx or
// kraftRequestTimeout.
func (kc *kraftCluster) controllerRequest(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, kraftRequestTimeout)
		defer cancel()
	}
	resp, err := kc.node.ControllerRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sending %s to the active controller: %w", kmsg.NameForKey(req.Key()), err)
	}
	return resp, nil
}

// topicError maps a controller's answer for a topic to the Cluster errors.
func topicError(code int16, msg *string) error {
	if code == 0 {
		return nil
	}
	text := kerr.ErrorForCode(code).Error()
	if msg != nil && *msg != "" {
		text = *msg
	}
	switch kerr.ErrorForCode(code) {
	case kerr.TopicAlreadyExists:
		return ErrTopicExists
	case kerr.UnknownTopicOrPartition, kerr.UnknownTopicID:
		return ErrUnknownTopic
	case kerr.InvalidTopicException:
		if msg != nil && *msg != "" {
			return collisionError{*msg}
		}
		return ErrInvalidTopic
	case kerr.InvalidPartitions:
		return fmt.Errorf("%w: %s", ErrInvalidPartitions, text)
	case kerr.InvalidReplicationFactor:
		return fmt.Errorf("%w: %s", ErrInvalidRF, text)
	case kerr.InvalidConfig:
		return fmt.Errorf("%w: %s", ErrInvalidConfig, text)
	}
	return fmt.Errorf("controller: %s", text)
}

func (kc *kraftCluster) CreateTopic(ctx context.Context, spec TopicSpec, validateOnly bool) (TopicInfo, error) {
	if !validTopicName(spec.Name) {
		return TopicInfo{}, ErrInvalidTopic
	}
	if spec.Partitions <= 0 {
		return TopicInfo{}, ErrInvalidPartitions
	}
	if spec.Internal && spec.Name == offsetsTopic {
		spec.ReplicationFactor = max(spec.ReplicationFactor, kc.b.cfg.OffsetsTopicReplicationFactor)
		if n := len(kc.Brokers()); int(spec.ReplicationFactor) > n && !validateOnly {
			// The first brokers of a cluster start one by one: create the
			// offsets topic once enough are unfenced.
			kc.createOffsetsTopicLater(spec)
			return TopicInfo{}, ErrTopicExists
		}
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 7
	req.ValidateOnly = validateOnly
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = spec.Name, spec.Partitions, spec.ReplicationFactor
	for k, v := range spec.Configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	raw, err := kc.controllerRequest(ctx, req)
	if err != nil {
		return TopicInfo{}, err
	}
	resp := raw.(*kmsg.CreateTopicsResponse)
	if len(resp.Topics) != 1 {
		return TopicInfo{}, fmt.Errorf("controller answered CreateTopics with %d topics", len(resp.Topics))
	}
	st := resp.Topics[0]
	if err := topicError(st.ErrorCode, st.ErrorMessage); err != nil {
		return TopicInfo{}, err
	}
	if validateOnly {
		return TopicInfo{Name: spec.Name, Internal: spec.Internal, Configs: spec.Configs}, nil
	}
	var out TopicInfo
	err = kc.waitImage(ctx, func(im image.Image) bool {
		t, ok := im.Topic(spec.Name)
		if !ok || t.ID != metadata.Uuid(st.TopicID) || t.NumPartitions() != int(spec.Partitions) {
			return false
		}
		out = topicInfoOf(im, t)
		return true
	})
	if err != nil {
		return TopicInfo{}, fmt.Errorf("topic %s created, not yet visible on broker %d: %w", spec.Name, kc.self.ID, err)
	}
	return out, nil
}

// createOffsetsTopicLater creates the offsets topic in the background once
// enough brokers are unfenced (or, after a minute, with the ones there are).
func (kc *kraftCluster) createOffsetsTopicLater(spec TopicSpec) {
	kc.b.wg.Add(1)
	go func() {
		defer kc.b.wg.Done()
		deadline := time.Now().Add(time.Minute)
		for {
			if _, ok := kc.Topic(spec.Name); ok {
				return
			}
			n := len(kc.Brokers())
			if n >= int(spec.ReplicationFactor) || (time.Now().After(deadline) && n > 0) {
				s := spec
				s.ReplicationFactor = int16(min(n, int(spec.ReplicationFactor)))
				s.Internal = false // skip the wait above on the retry
				ctx, cancel := context.WithTimeout(kc.b.ctx, 30*time.Second)
				_, err := kc.CreateTopic(ctx, s, false)
				cancel()
				if err == nil || errors.Is(err, ErrTopicExists) {
					return
				}
				kc.log.Warn("creating offsets topic", "err", err)
			}
			_, next := kc.image()
			select {
			case <-next:
			case <-time.After(time.Second):
			case <-kc.b.ctx.Done():
				return
			}
		}
	}()
}

func (kc *kraftCluster) DeleteTopic(ctx context.Context, name string) error {
	t, ok := kc.Topic(name)
	if !ok {
		return ErrUnknownTopic
	}
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.Version = 6
	req.TimeoutMillis = 30000
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.Topic = kmsg.StringPtr(name)
	// v6 names topics in Topics only: the active controller of a combined
	// node gets the request in process, without the version's encoding
	// dropping TopicNames, and would see the topic twice.
	req.Topics = append(req.Topics, dt)
	raw, err := kc.controllerRequest(ctx, req)
	if err != nil {
		return err
	}
	resp := raw.(*kmsg.DeleteTopicsResponse)
	if len(resp.Topics) != 1 {
		return fmt.Errorf("controller answered DeleteTopics with %d topics", len(resp.Topics))
	}
	if err := topicError(resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage); err != nil {
		return err
	}
	return kc.waitImage(ctx, func(im image.Image) bool {
		_, ok := im.TopicByID(metadata.Uuid(t.ID))
		return !ok
	})
}

func (kc *kraftCluster) CreatePartitions(ctx context.Context, name string, count int32, validateOnly bool) error {
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.Version = 3
	req.TimeoutMillis = 30000
	req.ValidateOnly = validateOnly
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = name, count
	req.Topics = append(req.Topics, rt)
	raw, err := kc.controllerRequest(ctx, req)
	if err != nil {
		return err
	}
	resp := raw.(*kmsg.CreatePartitionsResponse)
	if len(resp.Topics) != 1 {
		return fmt.Errorf("controller answered CreatePartitions with %d topics", len(resp.Topics))
	}
	if err := topicError(resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	return kc.waitImage(ctx, func(im image.Image) bool {
		t, ok := im.Topic(name)
		return ok && t.NumPartitions() >= int(count)
	})
}

func (kc *kraftCluster) SetTopicConfigs(ctx context.Context, name string, configs map[string]*string, replace, validateOnly bool) error {
	if err := validateConfigChanges(configs); err != nil {
		return err
	}
	cur, ok := kc.Topic(name)
	if !ok {
		return ErrUnknownTopic
	}
	want := applyConfigChanges(cur.Configs, configs, replace)
	if err := kc.alterConfigs(ctx, image.ResourceTopic, name, cur.Configs, want, validateOnly); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	return kc.waitImage(ctx, func(im image.Image) bool {
		return mapsEqual(im.Configs(image.ConfigResource{Type: image.ResourceTopic, Name: name}), want)
	})
}

// alterConfigs moves a resource's dynamic configs from cur to want with one
// IncrementalAlterConfigs (SET for new or changed keys, DELETE for dropped ones).
func (kc *kraftCluster) alterConfigs(ctx context.Context, typ int8, name string, cur, want map[string]string, validateOnly bool) error {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.Version = 1
	req.ValidateOnly = validateOnly
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceType(typ), name
	for k, v := range want {
		if old, ok := cur[k]; ok && old == v {
			continue
		}
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op, c.Value = k, kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr(v)
		res.Configs = append(res.Configs, c)
	}
	for k := range cur {
		if _, ok := want[k]; !ok {
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name, c.Op = k, kmsg.IncrementalAlterConfigOpDelete
			res.Configs = append(res.Configs, c)
		}
	}
	if len(res.Configs) == 0 {
		return nil
	}
	req.Resources = append(req.Resources, res)
	raw, err := kc.controllerRequest(ctx, req)
	if err != nil {
		return err
	}
	resp := raw.(*kmsg.IncrementalAlterConfigsResponse)
	if len(resp.Resources) != 1 {
		return fmt.Errorf("controller answered IncrementalAlterConfigs with %d resources", len(resp.Resources))
	}
	return topicError(resp.Resources[0].ErrorCode, resp.Resources[0].ErrorMessage)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// brokerEntityConfig reads a broker entity's dynamic configs from the image
// (defaultBrokerEntity is the cluster-wide default, Kafka's empty name).
func (kc *kraftCluster) brokerEntityConfig(_ context.Context, entity string) (map[string]string, error) {
	im, _ := kc.image()
	cfg := im.Configs(image.ConfigResource{Type: image.ResourceBroker, Name: kraftEntity(entity)})
	if cfg == nil {
		cfg = map[string]string{}
	}
	return cfg, nil
}

func (kc *kraftCluster) setBrokerEntityConfig(ctx context.Context, entity string, cfg map[string]string) error {
	cur, _ := kc.brokerEntityConfig(ctx, entity)
	if err := kc.alterConfigs(ctx, image.ResourceBroker, kraftEntity(entity), cur, cfg, false); err != nil {
		return err
	}
	return kc.waitImage(ctx, func(im image.Image) bool {
		got := im.Configs(image.ConfigResource{Type: image.ResourceBroker, Name: kraftEntity(entity)})
		return mapsEqual(got, cfg)
	})
}

// kraftEntity is the broker resource name in KRaft: the default entity is "".
func kraftEntity(entity string) string {
	if entity == defaultBrokerEntity {
		return ""
	}
	return entity
}
