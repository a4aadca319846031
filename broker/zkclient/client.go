// Package zkclient reads and writes Apache Kafka's ZooKeeper-mode layout
// (broker/zkdata) through a metastore session, with Kafka's znodes, versions
// and controller-epoch fencing: what the broker runtime's controller and
// brokers use on real ZooKeeper or the local store.
package zkclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// Errors of Client operations (test with errors.Is; metastore's errors are
// wrapped as they are).
var (
	// ErrControllerMoved: a fenced write found /controller_epoch at another
	// version (a newer controller was elected), or the election was lost.
	// The caller must stop acting as controller.
	ErrControllerMoved = errors.New("zkclient: controller moved")
	// ErrTopicExists: CreateTopic of an existing topic.
	ErrTopicExists = errors.New("zkclient: topic already exists")
	// ErrAdminRequestExists: an /admin/reassign_partitions or
	// /admin/preferred_replica_election request is already pending.
	ErrAdminRequestExists = errors.New("zkclient: admin request already in progress")
	// ErrBrokerRegistered: another session holds /brokers/ids/<id>.
	ErrBrokerRegistered = errors.New("zkclient: broker id already registered")
)

// Client reads and writes Kafka's ZooKeeper-mode layout through one
// metastore session, with the same znodes, versions and fencing as Kafka's
// KafkaZkClient. Writes a controller makes take the controller epoch's
// zkVersion (Election.EpochZkVersion) and are applied in a Multi behind a
// check of /controller_epoch, so a deposed controller cannot write; pass
// metastore.AnyVersion to skip the check (tools, tests). Safe for
// concurrent use (the session is).
type Client struct {
	s metastore.Session
}

// NewClient wraps a session. The caller keeps ownership of the session.
func NewClient(s metastore.Session) *Client { return &Client{s: s} }

// EnsurePaths creates PersistentPaths (and their parents) where missing, as
// a Kafka broker does when it starts.
func EnsurePaths(ctx context.Context, s metastore.Session) error {
	for _, p := range zkdata.PersistentPaths {
		if err := metastore.EnsurePath(ctx, s, p); err != nil {
			return fmt.Errorf("zkclient: ensuring Kafka paths: %w", err)
		}
	}
	return nil
}

// Session returns the wrapped session.
func (c *Client) Session() metastore.Session { return c.s }

// EnsurePaths creates Kafka's persistent paths (see the package function).
func (c *Client) EnsurePaths(ctx context.Context) error { return EnsurePaths(ctx, c.s) }

// fencedMulti applies ops behind a check of the controller epoch's version.
// Errors of ops keep their index in ops.
func (c *Client) fencedMulti(ctx context.Context, epochZkVersion int32, ops ...metastore.Op) ([]metastore.OpResult, error) {
	if epochZkVersion == metastore.AnyVersion {
		return c.s.Multi(ctx, ops...)
	}
	all := append([]metastore.Op{metastore.CheckOp(zkdata.ControllerEpochPath, epochZkVersion)}, ops...)
	res, err := c.s.Multi(ctx, all...)
	var me *metastore.MultiError
	if errors.As(err, &me) {
		if me.Index == 0 {
			return nil, fmt.Errorf("%w: %s is no longer at version %d (%v)", ErrControllerMoved, zkdata.ControllerEpochPath, epochZkVersion, me.Err)
		}
		shifted := *me
		if shifted.Index > 0 {
			shifted.Index--
		}
		return nil, &shifted
	}
	if err != nil {
		return nil, err
	}
	return res[1:], nil
}

// deleteFenced deletes a node behind the epoch check; a missing node is not
// an error.
func (c *Client) deleteFenced(ctx context.Context, path string, epochZkVersion int32) error {
	_, err := c.fencedMulti(ctx, epochZkVersion, metastore.DeleteOp(path, metastore.AnyVersion))
	if errors.Is(err, metastore.ErrNoNode) {
		return nil
	}
	return err
}

// deleteTreeFenced deletes path and its subtree, children first, each delete
// behind the epoch check.
func (c *Client) deleteTreeFenced(ctx context.Context, path string, epochZkVersion int32) error {
	children, _, err := c.s.Children(ctx, path)
	if errors.Is(err, metastore.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, ch := range children {
		if err := c.deleteTreeFenced(ctx, metastore.Join(path, ch), epochZkVersion); err != nil {
			return err
		}
	}
	return c.deleteFenced(ctx, path, epochZkVersion)
}

// setOrCreate writes data at path, creating it (and its parents) if needed.
func (c *Client) setOrCreate(ctx context.Context, path string, data []byte) error {
	for attempt := 0; attempt < 3; attempt++ {
		_, err := c.s.Set(ctx, path, data, metastore.AnyVersion)
		if !errors.Is(err, metastore.ErrNoNode) {
			return err
		}
		if err := metastore.EnsurePath(ctx, c.s, metastore.Parent(path)); err != nil {
			return err
		}
		_, err = c.s.Create(ctx, path, data, metastore.Persistent)
		if !errors.Is(err, metastore.ErrNodeExists) {
			return err
		}
	}
	return fmt.Errorf("zkclient: writing %s: raced with concurrent deletes", path)
}

// watchData reads a node that may be missing and watches it: for an
// existing node the watch fires on its next change or deletion, for a
// missing one on its creation.
func (c *Client) watchData(ctx context.Context, path string) ([]byte, metastore.Stat, bool, <-chan metastore.Event, error) {
	ok, _, ch, err := c.s.ExistsW(ctx, path)
	if err != nil {
		return nil, metastore.Stat{}, false, nil, err
	}
	if !ok {
		return nil, metastore.Stat{}, false, ch, nil
	}
	data, st, err := c.s.Get(ctx, path)
	if errors.Is(err, metastore.ErrNoNode) {
		// Deleted in between: ch fires (EventNodeDeleted) right away.
		return nil, metastore.Stat{}, false, ch, nil
	}
	if err != nil {
		return nil, metastore.Stat{}, false, nil, err
	}
	return data, st, true, ch, nil
}

// ---- brokers ----

// RegisterBroker creates the broker's ephemeral /brokers/ids/<id>. If the
// node exists and belongs to this session (a retry after a lost reply) its
// data is replaced; if another session holds it, ErrBrokerRegistered.
func (c *Client) RegisterBroker(ctx context.Context, b zkdata.BrokerRegistration) error {
	path := zkdata.BrokerPath(b.ID)
	data := zkdata.EncodeBroker(b)
	_, err := c.s.Create(ctx, path, data, metastore.Ephemeral)
	if errors.Is(err, metastore.ErrNoNode) {
		if err := metastore.EnsurePath(ctx, c.s, zkdata.BrokerIDsPath); err != nil {
			return err
		}
		_, err = c.s.Create(ctx, path, data, metastore.Ephemeral)
	}
	if !errors.Is(err, metastore.ErrNodeExists) {
		return err
	}
	_, st, gerr := c.s.Get(ctx, path)
	if gerr != nil {
		return fmt.Errorf("registering broker %d: %w", b.ID, gerr)
	}
	if st.EphemeralOwner != c.s.ID() {
		return fmt.Errorf("%w: broker %d is held by session 0x%x", ErrBrokerRegistered, b.ID, st.EphemeralOwner)
	}
	_, err = c.s.Set(ctx, path, data, st.Version)
	return err
}

// Broker reads one registration (metastore.ErrNoNode if not registered).
func (c *Client) Broker(ctx context.Context, id int32) (zkdata.BrokerRegistration, metastore.Stat, error) {
	data, st, err := c.s.Get(ctx, zkdata.BrokerPath(id))
	if err != nil {
		return zkdata.BrokerRegistration{}, metastore.Stat{}, err
	}
	b, err := zkdata.DecodeBroker(id, data)
	return b, st, err
}

// BrokerIDs lists the registered broker ids, ascending.
func (c *Client) BrokerIDs(ctx context.Context) ([]int32, error) {
	names, _, err := c.s.Children(ctx, zkdata.BrokerIDsPath)
	if err != nil {
		return nil, err
	}
	return parseIDs(names), nil
}

// WatchBrokerIDs lists the registered broker ids and watches the list.
func (c *Client) WatchBrokerIDs(ctx context.Context) ([]int32, <-chan metastore.Event, error) {
	names, _, ch, err := c.s.ChildrenW(ctx, zkdata.BrokerIDsPath)
	if err != nil {
		return nil, nil, err
	}
	return parseIDs(names), ch, nil
}

// parseIDs keeps the numeric names, sorted (Kafka ignores other children).
func parseIDs(names []string) []int32 {
	ids := make([]int32, 0, len(names))
	for _, n := range names {
		if id, err := zkdata.ParseBrokerID(n); err == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Brokers reads every registration, by ascending id; brokers that vanish
// while being read are left out.
func (c *Client) Brokers(ctx context.Context) ([]zkdata.BrokerRegistration, error) {
	ids, err := c.BrokerIDs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]zkdata.BrokerRegistration, 0, len(ids))
	for _, id := range ids {
		b, _, err := c.Broker(ctx, id)
		if errors.Is(err, metastore.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// NextBrokerSequenceID returns a new cluster-unique number from
// /brokers/seqid's version, as Kafka does for broker.id.generation.enable.
func (c *Client) NextBrokerSequenceID(ctx context.Context) (int32, error) {
	st, err := c.s.Set(ctx, zkdata.BrokerSeqIDPath, nil, metastore.AnyVersion)
	if errors.Is(err, metastore.ErrNoNode) {
		if err := metastore.EnsurePath(ctx, c.s, zkdata.BrokerSeqIDPath); err != nil {
			return 0, err
		}
		st, err = c.s.Set(ctx, zkdata.BrokerSeqIDPath, nil, metastore.AnyVersion)
	}
	if err != nil {
		return 0, err
	}
	return st.Version, nil
}

// ---- controller ----

// Election is the outcome of a won controller election.
type Election struct {
	Epoch          int32 // the new controller epoch
	EpochZkVersion int32 // /controller_epoch's version: the fence for later writes
}

// Controller reads /controller (metastore.ErrNoNode when there is none).
func (c *Client) Controller(ctx context.Context) (zkdata.ControllerRegistration, metastore.Stat, error) {
	data, st, err := c.s.Get(ctx, zkdata.ControllerPath)
	if err != nil {
		return zkdata.ControllerRegistration{}, metastore.Stat{}, err
	}
	r, err := zkdata.DecodeController(data)
	return r, st, err
}

// WatchController reads /controller if present and watches it (creation
// when absent; change or deletion when present).
func (c *Client) WatchController(ctx context.Context) (zkdata.ControllerRegistration, bool, <-chan metastore.Event, error) {
	data, _, ok, ch, err := c.watchData(ctx, zkdata.ControllerPath)
	if err != nil || !ok {
		return zkdata.ControllerRegistration{}, false, ch, err
	}
	r, err := zkdata.DecodeController(data)
	if err != nil {
		return zkdata.ControllerRegistration{}, false, ch, err
	}
	return r, true, ch, nil
}

// ControllerEpoch reads /controller_epoch and its zkVersion
// (metastore.ErrNoNode before the first election).
func (c *Client) ControllerEpoch(ctx context.Context) (epoch, zkVersion int32, err error) {
	data, st, err := c.s.Get(ctx, zkdata.ControllerEpochPath)
	if err != nil {
		return 0, 0, err
	}
	epoch, err = zkdata.DecodeControllerEpoch(data)
	return epoch, st.Version, err
}

// ElectController tries to become controller as Kafka does: in one Multi,
// create the ephemeral /controller and bump /controller_epoch conditionally
// on the version just read. It returns ErrControllerMoved when another
// broker holds /controller or bumped the epoch first. When this session
// already is the controller (a retry), the current election is returned.
func (c *Client) ElectController(ctx context.Context, brokerID int32, now time.Time) (Election, error) {
	epoch, ver, err := c.ControllerEpoch(ctx)
	if errors.Is(err, metastore.ErrNoNode) {
		// Kafka's initial epoch is 0, so the first controller gets 1.
		if _, cerr := c.s.Create(ctx, zkdata.ControllerEpochPath, zkdata.EncodeControllerEpoch(0), metastore.Persistent); cerr != nil && !errors.Is(cerr, metastore.ErrNodeExists) {
			return Election{}, fmt.Errorf("creating %s: %w", zkdata.ControllerEpochPath, cerr)
		}
		epoch, ver, err = c.ControllerEpoch(ctx)
	}
	if err != nil {
		return Election{}, fmt.Errorf("reading controller epoch: %w", err)
	}
	reg := zkdata.EncodeController(zkdata.ControllerRegistration{BrokerID: brokerID, Timestamp: now.UnixMilli(), KRaftControllerEpoch: -1})
	res, err := c.s.Multi(ctx,
		metastore.CreateOp(zkdata.ControllerPath, reg, metastore.Ephemeral),
		metastore.SetOp(zkdata.ControllerEpochPath, zkdata.EncodeControllerEpoch(epoch+1), ver))
	if err == nil {
		return Election{Epoch: epoch + 1, EpochZkVersion: res[1].Stat.Version}, nil
	}
	var me *metastore.MultiError
	if !errors.As(err, &me) || !(errors.Is(err, metastore.ErrNodeExists) || errors.Is(err, metastore.ErrBadVersion)) {
		return Election{}, fmt.Errorf("electing controller: %w", err)
	}
	// Lost, unless the controller node is ours (the previous attempt's reply
	// was lost): then report the epoch it set.
	cur, st, gerr := c.Controller(ctx)
	if gerr == nil && st.EphemeralOwner == c.s.ID() && cur.BrokerID == brokerID {
		e, v, eerr := c.ControllerEpoch(ctx)
		if eerr != nil {
			return Election{}, eerr
		}
		return Election{Epoch: e, EpochZkVersion: v}, nil
	}
	if gerr == nil {
		return Election{}, fmt.Errorf("%w: broker %d is controller", ErrControllerMoved, cur.BrokerID)
	}
	return Election{}, fmt.Errorf("%w: %v", ErrControllerMoved, err)
}

// Resign deletes /controller if this session holds it (a controller
// shutting down gracefully; an expired session loses it by itself).
func (c *Client) Resign(ctx context.Context) error {
	_, st, err := c.s.Get(ctx, zkdata.ControllerPath)
	if errors.Is(err, metastore.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.EphemeralOwner != c.s.ID() {
		return nil
	}
	err = c.s.Delete(ctx, zkdata.ControllerPath, st.Version)
	if errors.Is(err, metastore.ErrNoNode) || errors.Is(err, metastore.ErrBadVersion) {
		return nil
	}
	return err
}

// ---- topics and partitions ----

// TopicNames lists /brokers/topics, sorted.
func (c *Client) TopicNames(ctx context.Context) ([]string, error) {
	names, _, err := c.s.Children(ctx, zkdata.TopicsPath)
	return names, err
}

// WatchTopicNames lists /brokers/topics and watches the list.
func (c *Client) WatchTopicNames(ctx context.Context) ([]string, <-chan metastore.Event, error) {
	names, _, ch, err := c.s.ChildrenW(ctx, zkdata.TopicsPath)
	return names, ch, err
}

// Topic reads a topic's assignment and the node's Stat (its Version is the
// expected version for SetTopicAssignment).
func (c *Client) Topic(ctx context.Context, name string) (zkdata.TopicAssignment, metastore.Stat, error) {
	data, st, err := c.s.Get(ctx, zkdata.TopicPath(name))
	if err != nil {
		return zkdata.TopicAssignment{}, metastore.Stat{}, err
	}
	a, err := zkdata.DecodeTopic(data)
	return a, st, err
}

// WatchTopic reads a topic's assignment and watches the node (the
// controller watches for added partitions and reassignments).
func (c *Client) WatchTopic(ctx context.Context, name string) (zkdata.TopicAssignment, metastore.Stat, <-chan metastore.Event, error) {
	data, st, ch, err := c.s.GetW(ctx, zkdata.TopicPath(name))
	if err != nil {
		return zkdata.TopicAssignment{}, metastore.Stat{}, nil, err
	}
	a, err := zkdata.DecodeTopic(data)
	if err != nil {
		return zkdata.TopicAssignment{}, metastore.Stat{}, ch, err
	}
	return a, st, ch, nil
}

// CreateTopic writes the topic's config (/config/topics/<t>, even when
// empty) and then its assignment, as Kafka's AdminZkClient does; the
// controller picks the new node up from its /brokers/topics watch.
func (c *Client) CreateTopic(ctx context.Context, name string, a zkdata.TopicAssignment, config map[string]string) error {
	if ok, _, err := c.s.Exists(ctx, zkdata.TopicPath(name)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: %s", ErrTopicExists, name)
	}
	if err := c.setOrCreate(ctx, zkdata.TopicConfigPath(name), zkdata.EncodeConfig(config)); err != nil {
		return fmt.Errorf("writing config of topic %s: %w", name, err)
	}
	if _, err := c.s.Create(ctx, zkdata.TopicPath(name), zkdata.EncodeTopic(a), metastore.Persistent); err != nil {
		if errors.Is(err, metastore.ErrNodeExists) {
			return fmt.Errorf("%w: %s", ErrTopicExists, name)
		}
		if errors.Is(err, metastore.ErrNoNode) {
			if err := metastore.EnsurePath(ctx, c.s, zkdata.TopicsPath); err != nil {
				return err
			}
			_, err = c.s.Create(ctx, zkdata.TopicPath(name), zkdata.EncodeTopic(a), metastore.Persistent)
			if err == nil {
				return nil
			}
		}
		return fmt.Errorf("creating topic %s: %w", name, err)
	}
	return nil
}

// SetTopicAssignment replaces a topic's assignment if the node is at
// expectedVersion, behind the controller fence; it returns the new Stat.
func (c *Client) SetTopicAssignment(ctx context.Context, name string, a zkdata.TopicAssignment, expectedVersion, epochZkVersion int32) (metastore.Stat, error) {
	res, err := c.fencedMulti(ctx, epochZkVersion, metastore.SetOp(zkdata.TopicPath(name), zkdata.EncodeTopic(a), expectedVersion))
	if err != nil {
		return metastore.Stat{}, fmt.Errorf("setting assignment of topic %s: %w", name, err)
	}
	return res[0].Stat, nil
}

// PartitionState reads a partition's state node and its Stat (its Version
// is Kafka's partitionEpoch / zkVersion for conditional updates).
func (c *Client) PartitionState(ctx context.Context, tp zkdata.TopicPartition) (zkdata.PartitionState, metastore.Stat, error) {
	data, st, err := c.s.Get(ctx, zkdata.PartitionStatePath(tp.Topic, tp.Partition))
	if err != nil {
		return zkdata.PartitionState{}, metastore.Stat{}, err
	}
	s, err := zkdata.DecodePartitionState(data)
	return s, st, err
}

// CreatePartitionState creates .../partitions/<p>/state (its parents are
// created unfenced, as Kafka does) behind the controller fence.
// metastore.ErrNodeExists if it exists.
func (c *Client) CreatePartitionState(ctx context.Context, tp zkdata.TopicPartition, s zkdata.PartitionState, epochZkVersion int32) error {
	if err := metastore.EnsurePath(ctx, c.s, zkdata.PartitionPath(tp.Topic, tp.Partition)); err != nil {
		return fmt.Errorf("creating partition %s: %w", tp, err)
	}
	_, err := c.fencedMulti(ctx, epochZkVersion,
		metastore.CreateOp(zkdata.PartitionStatePath(tp.Topic, tp.Partition), zkdata.EncodePartitionState(s), metastore.Persistent))
	if err != nil {
		return fmt.Errorf("creating state of %s: %w", tp, err)
	}
	return nil
}

// UpdatePartitionState replaces a partition's state if it is at
// expectedVersion, behind the controller fence; it returns the new version.
func (c *Client) UpdatePartitionState(ctx context.Context, tp zkdata.TopicPartition, s zkdata.PartitionState, expectedVersion, epochZkVersion int32) (int32, error) {
	res, err := c.fencedMulti(ctx, epochZkVersion,
		metastore.SetOp(zkdata.PartitionStatePath(tp.Topic, tp.Partition), zkdata.EncodePartitionState(s), expectedVersion))
	if err != nil {
		return 0, fmt.Errorf("updating state of %s: %w", tp, err)
	}
	return res[0].Stat.Version, nil
}

// DeleteTopic removes what the controller removes once a topic's deletion
// completed: /brokers/topics/<t> with its partitions, /config/topics/<t>
// and /admin/delete_topics/<t>, each delete fenced.
func (c *Client) DeleteTopic(ctx context.Context, name string, epochZkVersion int32) error {
	if err := c.deleteTreeFenced(ctx, zkdata.TopicPath(name), epochZkVersion); err != nil {
		return fmt.Errorf("deleting topic %s: %w", name, err)
	}
	if err := c.deleteFenced(ctx, zkdata.TopicConfigPath(name), epochZkVersion); err != nil {
		return fmt.Errorf("deleting config of topic %s: %w", name, err)
	}
	return c.RemoveTopicDeletion(ctx, name, epochZkVersion)
}

// ---- configs ----

// TopicConfig reads /config/topics/<t>; a missing node is an empty config,
// as in Kafka.
func (c *Client) TopicConfig(ctx context.Context, name string) (map[string]string, error) {
	data, _, err := c.s.Get(ctx, zkdata.TopicConfigPath(name))
	if errors.Is(err, metastore.ErrNoNode) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return zkdata.DecodeConfig(data)
}

// SetTopicConfig replaces a topic's config and announces the change with a
// /config/changes/config_change_<seq> node, as Kafka's AdminZkClient does;
// it returns the notification's path.
func (c *Client) SetTopicConfig(ctx context.Context, name string, config map[string]string) (string, error) {
	return c.SetEntityConfig(ctx, zkdata.ConfigTypeTopic, name, config)
}

// SetEntityConfig is SetTopicConfig for any entity type.
func (c *Client) SetEntityConfig(ctx context.Context, entityType, name string, config map[string]string) (string, error) {
	if err := c.setOrCreate(ctx, zkdata.ConfigEntityPath(entityType, name), zkdata.EncodeConfig(config)); err != nil {
		return "", fmt.Errorf("writing config of %s/%s: %w", entityType, name, err)
	}
	p, err := c.s.Create(ctx, zkdata.ConfigChangeCreatePath(), zkdata.EncodeConfigChange(entityType, name), metastore.Sequential)
	if errors.Is(err, metastore.ErrNoNode) {
		if err := metastore.EnsurePath(ctx, c.s, zkdata.ConfigChangesPath); err != nil {
			return "", err
		}
		p, err = c.s.Create(ctx, zkdata.ConfigChangeCreatePath(), zkdata.EncodeConfigChange(entityType, name), metastore.Sequential)
	}
	if err != nil {
		return "", fmt.Errorf("notifying config change of %s/%s: %w", entityType, name, err)
	}
	return p, nil
}

// WatchConfigChanges lists /config/changes (sorted, so in sequence order)
// and watches it.
func (c *Client) WatchConfigChanges(ctx context.Context) ([]string, <-chan metastore.Event, error) {
	names, _, ch, err := c.s.ChildrenW(ctx, zkdata.ConfigChangesPath)
	return names, ch, err
}

// ConfigChange reads one notification by its child name.
func (c *Client) ConfigChange(ctx context.Context, child string) (entityType, name string, err error) {
	data, _, err := c.s.Get(ctx, zkdata.ConfigChangesPath+"/"+child)
	if err != nil {
		return "", "", err
	}
	return zkdata.DecodeConfigChange(data)
}

// ---- admin requests ----

// RequestTopicDeletion creates /admin/delete_topics/<t> (what
// kafka-topics.sh --delete --zookeeper does); an existing request is fine.
func (c *Client) RequestTopicDeletion(ctx context.Context, name string) error {
	_, err := c.s.Create(ctx, zkdata.DeleteTopicPath(name), nil, metastore.Persistent)
	if errors.Is(err, metastore.ErrNoNode) {
		if err := metastore.EnsurePath(ctx, c.s, zkdata.DeleteTopicsPath); err != nil {
			return err
		}
		_, err = c.s.Create(ctx, zkdata.DeleteTopicPath(name), nil, metastore.Persistent)
	}
	if errors.Is(err, metastore.ErrNodeExists) {
		return nil
	}
	return err
}

// WatchTopicDeletions lists pending topic deletions and watches the list.
func (c *Client) WatchTopicDeletions(ctx context.Context) ([]string, <-chan metastore.Event, error) {
	names, _, ch, err := c.s.ChildrenW(ctx, zkdata.DeleteTopicsPath)
	return names, ch, err
}

// RemoveTopicDeletion deletes /admin/delete_topics/<t> (a completed or an
// invalid request), fenced.
func (c *Client) RemoveTopicDeletion(ctx context.Context, name string, epochZkVersion int32) error {
	return c.deleteFenced(ctx, zkdata.DeleteTopicPath(name), epochZkVersion)
}

// WriteReassignment creates /admin/reassign_partitions as
// kafka-reassign-partitions.sh --zookeeper and CMAK do;
// ErrAdminRequestExists while one is pending.
func (c *Client) WriteReassignment(ctx context.Context, rs []zkdata.Reassignment) error {
	return c.createAdmin(ctx, zkdata.ReassignPartitionsPath, zkdata.EncodeReassignment(rs))
}

// WatchReassignment reads the pending /admin/reassign_partitions, if any,
// and watches the node (creation when absent).
func (c *Client) WatchReassignment(ctx context.Context) ([]zkdata.Reassignment, bool, <-chan metastore.Event, error) {
	data, _, ok, ch, err := c.watchData(ctx, zkdata.ReassignPartitionsPath)
	if err != nil || !ok {
		return nil, false, ch, err
	}
	rs, err := zkdata.DecodeReassignment(data)
	return rs, err == nil, ch, err
}

// DeleteReassignment removes /admin/reassign_partitions, fenced.
func (c *Client) DeleteReassignment(ctx context.Context, epochZkVersion int32) error {
	return c.deleteFenced(ctx, zkdata.ReassignPartitionsPath, epochZkVersion)
}

// WritePreferredElection creates /admin/preferred_replica_election;
// ErrAdminRequestExists while one is pending.
func (c *Client) WritePreferredElection(ctx context.Context, tps []zkdata.TopicPartition) error {
	return c.createAdmin(ctx, zkdata.PreferredReplicaElectionPath, zkdata.EncodePartitions(tps))
}

// WatchPreferredElection reads the pending preferred election request, if
// any, and watches the node.
func (c *Client) WatchPreferredElection(ctx context.Context) ([]zkdata.TopicPartition, bool, <-chan metastore.Event, error) {
	data, _, ok, ch, err := c.watchData(ctx, zkdata.PreferredReplicaElectionPath)
	if err != nil || !ok {
		return nil, false, ch, err
	}
	tps, err := zkdata.DecodePartitions(data)
	return tps, err == nil, ch, err
}

// DeletePreferredElection removes /admin/preferred_replica_election, fenced.
func (c *Client) DeletePreferredElection(ctx context.Context, epochZkVersion int32) error {
	return c.deleteFenced(ctx, zkdata.PreferredReplicaElectionPath, epochZkVersion)
}

func (c *Client) createAdmin(ctx context.Context, path string, data []byte) error {
	_, err := c.s.Create(ctx, path, data, metastore.Persistent)
	if errors.Is(err, metastore.ErrNoNode) {
		if err := metastore.EnsurePath(ctx, c.s, zkdata.AdminPath); err != nil {
			return err
		}
		_, err = c.s.Create(ctx, path, data, metastore.Persistent)
	}
	if errors.Is(err, metastore.ErrNodeExists) {
		return fmt.Errorf("%w: %s", ErrAdminRequestExists, path)
	}
	return err
}

// ---- ISR change notifications ----

// NotifyIsrChange creates /isr_change_notification/isr_change_<seq> for
// partitions whose ISR the broker changed, and returns its child name.
func (c *Client) NotifyIsrChange(ctx context.Context, tps []zkdata.TopicPartition) (string, error) {
	p, err := c.s.Create(ctx, zkdata.IsrChangeCreatePath(), zkdata.EncodePartitions(tps), metastore.Sequential)
	if errors.Is(err, metastore.ErrNoNode) {
		if err := metastore.EnsurePath(ctx, c.s, zkdata.IsrChangeNotificationPath); err != nil {
			return "", err
		}
		p, err = c.s.Create(ctx, zkdata.IsrChangeCreatePath(), zkdata.EncodePartitions(tps), metastore.Sequential)
	}
	if err != nil {
		return "", err
	}
	return metastore.Base(p), nil
}

// WatchIsrChanges lists pending ISR change notifications (in sequence
// order) and watches the list.
func (c *Client) WatchIsrChanges(ctx context.Context) ([]string, <-chan metastore.Event, error) {
	names, _, ch, err := c.s.ChildrenW(ctx, zkdata.IsrChangeNotificationPath)
	return names, ch, err
}

// IsrChange reads one notification by child name.
func (c *Client) IsrChange(ctx context.Context, child string) ([]zkdata.TopicPartition, error) {
	data, _, err := c.s.Get(ctx, zkdata.IsrChangeNotificationPath+"/"+child)
	if err != nil {
		return nil, err
	}
	return zkdata.DecodePartitions(data)
}

// DeleteIsrChanges removes processed notifications, fenced.
func (c *Client) DeleteIsrChanges(ctx context.Context, children []string, epochZkVersion int32) error {
	for _, ch := range children {
		if err := c.deleteFenced(ctx, zkdata.IsrChangeNotificationPath+"/"+ch, epochZkVersion); err != nil {
			return err
		}
	}
	return nil
}

// ---- cluster id, producer ids ----

// ClusterID returns /cluster/id, creating it with proposed when absent (the
// first broker to start wins).
func (c *Client) ClusterID(ctx context.Context, proposed string) (string, error) {
	for attempt := 0; attempt < 3; attempt++ {
		data, _, err := c.s.Get(ctx, zkdata.ClusterIDPath)
		if err == nil {
			return zkdata.DecodeClusterID(data)
		}
		if !errors.Is(err, metastore.ErrNoNode) {
			return "", err
		}
		if err := metastore.EnsurePath(ctx, c.s, zkdata.ClusterPath); err != nil {
			return "", err
		}
		_, err = c.s.Create(ctx, zkdata.ClusterIDPath, zkdata.EncodeClusterID(proposed), metastore.Persistent)
		if err == nil {
			return proposed, nil
		}
		if !errors.Is(err, metastore.ErrNodeExists) {
			return "", err
		}
	}
	return "", fmt.Errorf("zkclient: %s keeps changing", zkdata.ClusterIDPath)
}

// AllocateProducerIDs reserves the next block of size producer ids for a
// broker by a conditional update of /latest_producer_id_block (Kafka's
// ZkProducerIdManager; its block size is 1000), retrying on conflicts.
func (c *Client) AllocateProducerIDs(ctx context.Context, broker int32, size int64) (zkdata.ProducerIDBlock, error) {
	if size <= 0 {
		return zkdata.ProducerIDBlock{}, fmt.Errorf("zkclient: producer id block size %d", size)
	}
	for {
		if err := ctx.Err(); err != nil {
			return zkdata.ProducerIDBlock{}, err
		}
		data, st, err := c.s.Get(ctx, zkdata.ProducerIDBlockPath)
		if errors.Is(err, metastore.ErrNoNode) {
			if err := metastore.EnsurePath(ctx, c.s, zkdata.ProducerIDBlockPath); err != nil {
				return zkdata.ProducerIDBlock{}, err
			}
			continue
		}
		if err != nil {
			return zkdata.ProducerIDBlock{}, err
		}
		next := zkdata.ProducerIDBlock{Broker: broker, Start: 0, End: size - 1}
		if len(data) > 0 {
			prev, err := zkdata.DecodeProducerIDBlock(data)
			if err != nil {
				return zkdata.ProducerIDBlock{}, err
			}
			next.Start = prev.End + 1
			next.End = prev.End + size
			if next.End < prev.End {
				return zkdata.ProducerIDBlock{}, errors.New("zkclient: producer ids exhausted")
			}
		}
		_, err = c.s.Set(ctx, zkdata.ProducerIDBlockPath, zkdata.EncodeProducerIDBlock(next), st.Version)
		if errors.Is(err, metastore.ErrBadVersion) {
			continue // another broker took a block; read again
		}
		if err != nil {
			return zkdata.ProducerIDBlock{}, err
		}
		return next, nil
	}
}
