package controller

import (
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/internal/topicname"
)

// apiError is a Kafka error code with its message (Kafka's ApiError).
type apiError struct {
	err *kerr.Error
	msg string
}

func newErr(e *kerr.Error, format string, args ...any) *apiError {
	return &apiError{err: e, msg: fmt.Sprintf(format, args...)}
}

// defaultErr is an error with Kafka's default message for its code.
func defaultErr(e *kerr.Error) *apiError { return &apiError{err: e, msg: e.Description} }

func (e *apiError) code() int16 {
	if e == nil {
		return 0
	}
	return e.err.Code
}

func (e *apiError) message() *string {
	if e == nil {
		return nil
	}
	return strPtr(e.msg)
}

// newTopic is a topic CreateTopics will create.
type newTopic struct {
	name    string
	configs map[string]string
	parts   [][]int32 // replicas per partition
}

// createTopics answers CreateTopics (v0-7) as Kafka's ControllerApis and
// ReplicationControlManager.createTopics do: each topic is checked on its
// own; the topics that pass are created together (TopicRecord, its
// ConfigRecords, then its PartitionRecords); validate_only writes nothing.
func (c *Controller) createTopics(b *batch, req *kmsg.CreateTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	count := map[string]int{}
	for _, t := range req.Topics {
		count[t.Topic]++
	}
	work := newBatch(b.image())
	// Topics are looked up in the image the request started from and in
	// the topics it created so far (applying the batch per topic would copy
	// the image's maps every time).
	cr := &creation{img: work.view(), names: map[string]bool{}, ids: map[metadata.Uuid]bool{}}
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		if count[rt.Topic] > 1 {
			st.ErrorCode, st.ErrorMessage = kerr.InvalidRequest.Code, strPtr("Duplicate topic name.")
			resp.Topics = append(resp.Topics, st)
			continue
		}
		nt, aerr := c.checkNewTopic(cr, rt)
		if aerr == errTooLarge || aerr == nil && len(work.recs)+1+len(nt.configs)+len(nt.parts) > maxRecordsPerUserOp {
			return tooLarge(b, resp, req)
		}
		if aerr == nil {
			var id metadata.Uuid
			if id, aerr = c.newTopicID(cr); aerr == nil {
				c.writeTopic(work, cr.img, id, nt)
				cr.add(nt.name, id)
				st.TopicID = id
				st.NumPartitions, st.ReplicationFactor = int32(len(nt.parts)), int16(len(nt.parts[0]))
				st.Configs = createdConfigs(nt.configs)
			}
		}
		st.ErrorCode, st.ErrorMessage = aerr.code(), aerr.message()
		resp.Topics = append(resp.Topics, st)
	}
	b.err = work.err
	if !req.ValidateOnly && work.err == nil {
		*b = *work
		if len(cr.names) > 0 {
			c.log.Info("created topics", "count", len(cr.names))
		}
	}
	return resp
}

// maxRecordsPerUserOp is Kafka's MAX_RECORDS_PER_USER_OP: a CreateTopics or
// CreatePartitions that would write more records is refused as a whole.
const maxRecordsPerUserOp = 10000

// errTooLarge is a topic whose records alone are more than
// maxRecordsPerUserOp (found before placing its replicas).
var errTooLarge = &apiError{err: kerr.PolicyViolation, msg: "Unable to perform excessively large batch operation."}

// tooLarge answers every topic of a request that would write too many
// records with Kafka's error for it; b is left empty.
func tooLarge(b *batch, resp *kmsg.CreateTopicsResponse, req *kmsg.CreateTopicsRequest) kmsg.Response {
	resp.Topics = resp.Topics[:0]
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic, st.ErrorCode, st.ErrorMessage = rt.Topic, errTooLarge.code(), errTooLarge.message()
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// createdConfigs lists the configurations a topic was created with, as
// dynamic topic configurations (source 1). The broker's defaults are not
// known here.
func createdConfigs(cfg map[string]string) []kmsg.CreateTopicsResponseTopicConfig {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]kmsg.CreateTopicsResponseTopicConfig, 0, len(keys))
	for _, k := range keys {
		cc := kmsg.NewCreateTopicsResponseTopicConfig()
		cc.Name, cc.Value, cc.Source = k, strPtr(cfg[k]), 1
		out = append(out, cc)
	}
	return out
}

// validateTopicName is Kafka's Topic.validate with its messages.
func validateTopicName(name string) *apiError {
	var reason string
	switch {
	case name == "":
		reason = "the empty string is not allowed"
	case name == ".":
		reason = "'.' is not allowed"
	case name == "..":
		reason = "'..' is not allowed"
	case len(name) > topicname.MaxLen:
		reason = fmt.Sprintf("the length of '%s' is longer than the max allowed length %d", name, topicname.MaxLen)
	case topicname.Validate(name) != nil:
		reason = fmt.Sprintf("'%s' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'", name)
	default:
		return nil
	}
	return newErr(kerr.InvalidTopicException, "Topic name is invalid: %s", reason)
}

// creation is what one CreateTopics knows of the topics: the image it
// started from and the topics it created since.
type creation struct {
	img     image.Image
	names   map[string]bool
	ids     map[metadata.Uuid]bool
	unified map[string]string // '.'/'_'-unified name -> a topic with it, built on first use
}

func (cr *creation) add(name string, id metadata.Uuid) {
	cr.names[name], cr.ids[id] = true, true
	if cr.unified != nil && topicname.HasCollisionChars(name) {
		cr.unified[unifyName(name)] = name
	}
}

func unifyName(name string) string { return strings.ReplaceAll(name, ".", "_") }

// collision is a live topic (or one created earlier in the same request)
// whose name differs from name only by '.' and '_'.
func (cr *creation) collision(name string) (string, bool) {
	if !topicname.HasCollisionChars(name) {
		return "", false
	}
	if cr.unified == nil {
		cr.unified = map[string]string{}
		for _, t := range cr.img.Topics() {
			if topicname.HasCollisionChars(t.Name) {
				cr.unified[unifyName(t.Name)] = t.Name
			}
		}
		for n := range cr.names {
			if topicname.HasCollisionChars(n) {
				cr.unified[unifyName(n)] = n
			}
		}
	}
	other, ok := cr.unified[unifyName(name)]
	if !ok || other == name {
		return "", false
	}
	return other, true
}

func (c *Controller) checkNewTopic(cr *creation, rt kmsg.CreateTopicsRequestTopic) (newTopic, *apiError) {
	img := cr.img
	nt := newTopic{name: rt.Topic, configs: map[string]string{}}
	if err := validateTopicName(rt.Topic); err != nil {
		return nt, err
	}
	if other, ok := cr.collision(rt.Topic); ok {
		return nt, newErr(kerr.InvalidTopicException, "Topic '%s' collides with existing topic: %s", rt.Topic, other)
	}
	if _, ok := img.Topic(rt.Topic); ok || cr.names[rt.Topic] {
		return nt, newErr(kerr.TopicAlreadyExists, "Topic '%s' already exists.", rt.Topic)
	}
	var nulls []string
	for _, cfg := range rt.Configs {
		if cfg.Value == nil {
			nulls = append(nulls, cfg.Name)
			continue
		}
		nt.configs[cfg.Name] = *cfg.Value
	}
	if len(nulls) > 0 {
		return nt, newErr(kerr.InvalidConfig, "Null value not supported for topic configs: %s", strings.Join(nulls, ","))
	}
	if err := c.validateTopicConfigs(nt.configs); err != nil {
		return nt, err
	}
	var aerr *apiError
	if len(rt.ReplicaAssignment) > 0 {
		nt.parts, aerr = manualAssignment(img, rt)
	} else {
		nt.parts, aerr = c.autoAssignment(img, rt, img.NumTopics()+len(cr.names))
	}
	return nt, aerr
}

func (c *Controller) validateTopicConfigs(cfg map[string]string) *apiError {
	if c.cfg.ValidateTopicConfig == nil {
		return nil
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := c.cfg.ValidateTopicConfig(k, cfg[k]); err != nil {
			return newErr(kerr.InvalidConfig, "%s", err.Error())
		}
	}
	return nil
}

func manualAssignment(img image.Image, rt kmsg.CreateTopicsRequestTopic) ([][]int32, *apiError) {
	if rt.ReplicationFactor != -1 {
		return nil, newErr(kerr.InvalidRequest, "A manual partition assignment was specified, but replication factor was not set to -1.")
	}
	if rt.NumPartitions != -1 {
		return nil, newErr(kerr.InvalidRequest, "A manual partition assignment was specified, but numPartitions was not set to -1.")
	}
	parts := map[int32][]int32{}
	rf := -1
	for _, a := range rt.ReplicaAssignment {
		if _, dup := parts[a.Partition]; dup {
			return nil, newErr(kerr.InvalidReplicaAssignment, "Found multiple manual partition assignments for partition %d", a.Partition)
		}
		if err := validateManual(img, a.Replicas, rf); err != nil {
			return nil, err
		}
		rf = len(a.Replicas)
		if !slices.ContainsFunc(a.Replicas, func(id int32) bool { return isActive(img, id) }) {
			return nil, newErr(kerr.InvalidReplicaAssignment, "All brokers specified in the manual partition assignment for partition %d are fenced or in controlled shutdown.", a.Partition)
		}
		parts[a.Partition] = slices.Clone(a.Replicas)
	}
	out := make([][]int32, len(parts))
	for i := range out {
		r, ok := parts[int32(i)]
		if !ok {
			return nil, newErr(kerr.InvalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence")
		}
		out[i] = r
	}
	return out, nil
}

// validateManual is Kafka's validateManualPartitionAssignment; rf < 0 means
// any replication factor.
func validateManual(img image.Image, replicas []int32, rf int) *apiError {
	if len(replicas) == 0 {
		return newErr(kerr.InvalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
	}
	sorted := slices.Sorted(slices.Values(replicas))
	for i, id := range sorted {
		if _, ok := img.Broker(id); !ok {
			return newErr(kerr.InvalidReplicaAssignment, "The manual partition assignment includes broker %d, but no such broker is registered.", id)
		}
		if i > 0 && sorted[i-1] == id {
			return newErr(kerr.InvalidReplicaAssignment, "The manual partition assignment includes the broker %d more than once.", id)
		}
	}
	if rf >= 0 && len(replicas) != rf {
		return newErr(kerr.InvalidReplicaAssignment, "The manual partition assignment includes a partition with %d replica(s), but this is not consistent with previous partitions, which have %d replica(s).", len(replicas), rf)
	}
	return nil
}

func (c *Controller) autoAssignment(img image.Image, rt kmsg.CreateTopicsRequestTopic, start int) ([][]int32, *apiError) {
	if rt.ReplicationFactor < -1 || rt.ReplicationFactor == 0 {
		return nil, newErr(kerr.InvalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value.")
	}
	if rt.NumPartitions < -1 || rt.NumPartitions == 0 {
		return nil, newErr(kerr.InvalidPartitions, "Number of partitions was set to an invalid non-positive value.")
	}
	n, rf := rt.NumPartitions, rt.ReplicationFactor
	if n == -1 {
		n = max(c.cfg.DefaultPartitions, 1)
	}
	if rf == -1 {
		rf = max(c.cfg.DefaultReplicationFactor, 1)
	}
	if n > maxRecordsPerUserOp {
		return nil, errTooLarge
	}
	parts, err := place(img, 0, int(n), int(rf), start)
	if err != nil {
		return nil, newErr(kerr.InvalidReplicationFactor, "Unable to replicate the partition %d time(s): %s", rf, err.msg)
	}
	for _, r := range parts {
		if !slices.ContainsFunc(r, func(id int32) bool { return isActive(img, id) }) {
			return nil, newErr(kerr.InvalidReplicationFactor, "Unable to replicate the partition %d time(s): All brokers are currently fenced or in controlled shutdown.", rf)
		}
	}
	return parts, nil
}

// place assigns rf replicas to each of n partitions numbered from first,
// rack-unaware, as Kafka's ZooKeeper-era AdminUtils does: partition p's first
// replica is broker (p+start) mod N of the usable brokers sorted by id, the
// others follow at a shift that grows every N partitions, so leaders and
// followers spread evenly. Kafka's KRaft StripedReplicaPlacer starts at a
// random offset; here start is given (the caller passes the topic count) so
// placement is deterministic. Unfenced brokers are used first: when rf
// exceeds their number, every unfenced broker gets a replica and fenced
// brokers make up the rest, as Kafka places on fenced brokers only then.
func place(img image.Image, first, n, rf, start int) ([][]int32, *apiError) {
	var unfenced, fenced []int32
	for _, br := range img.Brokers() {
		if br.Fenced {
			fenced = append(fenced, br.ID)
		} else {
			unfenced = append(unfenced, br.ID)
		}
	}
	switch {
	case rf <= 0:
		return nil, &apiError{kerr.InvalidReplicationFactor, fmt.Sprintf("Invalid replication factor %d: the replication factor must be positive.", rf)}
	case len(unfenced) == 0:
		return nil, &apiError{kerr.InvalidReplicationFactor, "All brokers are currently fenced."}
	case rf > len(unfenced)+len(fenced):
		return nil, &apiError{kerr.InvalidReplicationFactor, fmt.Sprintf("The target replication factor of %d cannot be reached because only %d broker(s) are registered.", rf, len(unfenced)+len(fenced))}
	}
	out := make([][]int32, 0, n)
	if rf > len(unfenced) {
		for i := range n {
			p := first + i
			r := rotate(unfenced, p+start)
			r = append(r, rotate(fenced, p+start)[:rf-len(unfenced)]...)
			out = append(out, r)
		}
		return out, nil
	}
	brokers := unfenced
	nb := len(brokers)
	for i := range n {
		p := first + i
		shift := start + p/nb
		firstIdx := (p + start) % nb
		r := []int32{brokers[firstIdx]}
		for j := range rf - 1 {
			off := 1 + (shift+j)%(nb-1)
			r = append(r, brokers[(firstIdx+off)%nb])
		}
		out = append(out, r)
	}
	return out, nil
}

func rotate(s []int32, by int) []int32 {
	if len(s) == 0 {
		return nil
	}
	by %= len(s)
	return append(slices.Clone(s[by:]), s[:by]...)
}

// writeTopic adds the records creating nt with id; img has the brokers.
func (c *Controller) writeTopic(b *batch, img image.Image, id metadata.Uuid, nt newTopic) {
	b.add(&metadata.TopicRecord{Name: nt.name, TopicID: id}, 0)
	keys := make([]string, 0, len(nt.configs))
	for k := range nt.configs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := nt.configs[k]
		b.add(&metadata.ConfigRecord{ResourceType: image.ResourceTopic, ResourceName: nt.name, Name: k, Value: &v}, 0)
	}
	for i, replicas := range nt.parts {
		addPartition(b, img, id, int32(i), replicas)
	}
}

// addPartition adds a new partition's PartitionRecord: its active replicas
// (in img, which has the brokers as b has them) are the ISR, the first of
// them leads, epochs start at 0.
func addPartition(b *batch, img image.Image, id metadata.Uuid, index int32, replicas []int32) {
	var isr []int32
	for _, r := range replicas {
		if isActive(img, r) {
			isr = append(isr, r)
		}
	}
	rec := &metadata.PartitionRecord{PartitionID: index, TopicID: id, Replicas: slices.Clone(replicas), Isr: isr, Leader: isr[0]}
	v := partitionVersion(b.mv)
	if v >= 1 {
		for _, r := range replicas {
			rec.Directories = append(rec.Directories, defaultDir(img, r))
		}
	}
	b.add(rec, v)
}

// newTopicID draws a topic id no live topic has.
func (c *Controller) newTopicID(cr *creation) (metadata.Uuid, *apiError) {
	for {
		id, err := metadata.RandomUuid(c.cfg.Rand)
		if err != nil {
			return id, newErr(kerr.UnknownServerError, "%s", err.Error())
		}
		if _, taken := cr.img.TopicByID(id); !taken && !cr.ids[id] {
			return id, nil
		}
	}
}

// deleteTopics answers DeleteTopics (v0-6) as Kafka's ControllerApis does:
// topics by name (v0-5, or v6+ with no id) or by id; each live one gets a
// RemoveTopicRecord.
func (c *Controller) deleteTopics(b *batch, req *kmsg.DeleteTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	type target struct {
		name *string
		id   metadata.Uuid
	}
	var targets []target
	for _, n := range req.TopicNames {
		targets = append(targets, target{name: strPtr(n)})
	}
	for _, t := range req.Topics {
		targets = append(targets, target{name: t.Topic, id: t.TopicID})
	}
	names, ids := map[string]int{}, map[metadata.Uuid]int{}
	for _, t := range targets {
		if t.name != nil && t.id.IsZero() {
			names[*t.name]++
		} else if t.name == nil && !t.id.IsZero() {
			ids[t.id]++
		}
	}
	removed := map[metadata.Uuid]bool{}
	img := b.view() // topics removed by this request are in removed
	for _, t := range targets {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = t.name, t.id
		aerr := c.deleteTopic(b, img, t.name, t.id, names, ids, removed, &st)
		st.ErrorCode, st.ErrorMessage = aerr.code(), aerr.message()
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (c *Controller) deleteTopic(b *batch, img image.Image, name *string, id metadata.Uuid, names map[string]int, ids map[metadata.Uuid]int,
	removed map[metadata.Uuid]bool, st *kmsg.DeleteTopicsResponseTopic) *apiError {
	var t image.Topic
	switch {
	case name == nil && id.IsZero():
		return newErr(kerr.InvalidRequest, "Neither topic name nor id were specified.")
	case name != nil && !id.IsZero():
		return newErr(kerr.InvalidRequest, "You may not specify both topic name and topic id.")
	case name != nil:
		if names[*name] > 1 {
			return newErr(kerr.InvalidRequest, "Duplicate topic name.")
		}
		var ok bool
		if t, ok = img.Topic(*name); !ok {
			return defaultErr(kerr.UnknownTopicOrPartition)
		}
		st.TopicID = t.ID
		if ids[t.ID] > 0 || removed[t.ID] {
			return newErr(kerr.InvalidRequest, "The provided topic name maps to an ID that was already supplied.")
		}
	default:
		if ids[id] > 1 {
			return newErr(kerr.InvalidRequest, "Duplicate topic id.")
		}
		var ok bool
		if t, ok = img.TopicByID(id); !ok || removed[id] {
			return defaultErr(kerr.UnknownTopicID)
		}
		st.Topic = strPtr(t.Name)
	}
	removed[t.ID] = true
	b.add(&metadata.RemoveTopicRecord{TopicID: t.ID}, 0)
	c.log.Info("deleted topic", "topic", t.Name, "id", t.ID.String())
	return nil
}

// createPartitions answers CreatePartitions (v0-3) as Kafka's
// ReplicationControlManager.createPartitions does; validate_only writes
// nothing.
func (c *Controller) createPartitions(b *batch, req *kmsg.CreatePartitionsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	count := map[string]int{}
	for _, t := range req.Topics {
		count[t.Topic]++
	}
	work := newBatch(b.image())
	img := work.view() // each topic is named once and changed once
	for _, rt := range req.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		var aerr *apiError
		if count[rt.Topic] > 1 {
			aerr = newErr(kerr.InvalidRequest, "Duplicate topic name.")
		} else {
			aerr = c.addPartitions(work, img, rt)
		}
		if aerr == errTooLarge || len(work.recs) > maxRecordsPerUserOp {
			resp.Topics = resp.Topics[:0]
			for _, rt := range req.Topics {
				st := kmsg.NewCreatePartitionsResponseTopic()
				st.Topic, st.ErrorCode, st.ErrorMessage = rt.Topic, errTooLarge.code(), errTooLarge.message()
				resp.Topics = append(resp.Topics, st)
			}
			return resp
		}
		st.ErrorCode, st.ErrorMessage = aerr.code(), aerr.message()
		resp.Topics = append(resp.Topics, st)
	}
	b.err = work.err
	if !req.ValidateOnly && work.err == nil {
		*b = *work
	}
	return resp
}

func (c *Controller) addPartitions(b *batch, img image.Image, rt kmsg.CreatePartitionsRequestTopic) *apiError {
	t, ok := img.Topic(rt.Topic)
	if !ok {
		return defaultErr(kerr.UnknownTopicOrPartition)
	}
	have := int32(t.NumPartitions())
	switch {
	case rt.Count == have:
		return newErr(kerr.InvalidPartitions, "Topic already has %d partition(s).", have)
	case rt.Count < have:
		return newErr(kerr.InvalidPartitions, "The topic %s currently has %d partition(s); %d would not be an increase.", rt.Topic, have, rt.Count)
	}
	additional := int(rt.Count - have)
	if additional > maxRecordsPerUserOp {
		return errTooLarge
	}
	if rt.Assignment != nil && len(rt.Assignment) != additional {
		return newErr(kerr.InvalidReplicaAssignment, "Attempted to add %d additional partition(s), but only %d assignment(s) were specified.", additional, len(rt.Assignment))
	}
	p0, ok := t.Partition(0)
	if !ok || have == 0 {
		return newErr(kerr.UnknownServerError, "Invalid state: topic %s appears to have no partitions.", rt.Topic)
	}
	rf := len(p0.Replicas)
	var parts [][]int32
	if rt.Assignment != nil {
		for i, a := range rt.Assignment {
			if err := validateManual(img, a.Replicas, rf); err != nil {
				return err
			}
			if !slices.ContainsFunc(a.Replicas, func(id int32) bool { return isActive(img, id) }) {
				return newErr(kerr.InvalidReplicaAssignment, "All brokers specified in the manual partition assignment for partition %d are fenced or in controlled shutdown.", int(have)+i)
			}
			parts = append(parts, slices.Clone(a.Replicas))
		}
	} else {
		var perr *apiError
		if parts, perr = place(img, int(have), additional, rf, indexOfTopic(img, t.Name)); perr != nil {
			return perr
		}
		for _, r := range parts {
			if !slices.ContainsFunc(r, func(id int32) bool { return isActive(img, id) }) {
				return newErr(kerr.InvalidReplicationFactor, "Unable to replicate the partition %d time(s): All brokers are currently fenced or in controlled shutdown.", rf)
			}
		}
	}
	for i, r := range parts {
		addPartition(b, img, t.ID, have+int32(i), r)
	}
	return nil
}

// indexOfTopic is the topic's position by name, the start offset of its
// added partitions' placement.
func indexOfTopic(img image.Image, name string) int {
	for i, t := range img.Topics() {
		if t.Name == name {
			return i
		}
	}
	return 0
}
