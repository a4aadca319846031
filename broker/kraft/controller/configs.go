package controller

import (
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// listConfigs are the topic configurations of type LIST (APPEND and
// SUBTRACT apply to them) with their defaults.
var listConfigs = map[string]string{
	"cleanup.policy":                          "delete",
	"leader.replication.throttled.replicas":   "",
	"follower.replication.throttled.replicas": "",
}

// resourceTypeName is Kafka's ConfigResource.Type name.
func resourceTypeName(t kmsg.ConfigResourceType) string {
	switch t {
	case kmsg.ConfigResourceTypeTopic:
		return "TOPIC"
	case kmsg.ConfigResourceTypeBroker:
		return "BROKER"
	case kmsg.ConfigResourceTypeBrokerLogger:
		return "BROKER_LOGGER"
	case 16:
		return "CLIENT_METRICS"
	case 32:
		return "GROUP"
	}
	return "UNKNOWN"
}

// configChange is one key's new value (nil: deleted).
type configChange struct {
	key   string
	value *string
}

// checkResource refuses a resource type the controller does not hold and a
// resource that does not exist (Kafka's ConfigResourceExistenceChecker).
func checkResource(img image.Image, t kmsg.ConfigResourceType, name string) *apiError {
	switch t {
	case kmsg.ConfigResourceTypeTopic:
		if _, ok := img.Topic(name); !ok {
			return newErr(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", name)
		}
	case kmsg.ConfigResourceTypeBroker:
		if name == "" {
			return nil
		}
		id, err := strconv.ParseInt(name, 10, 32)
		if err != nil {
			return newErr(kerr.InvalidRequest, "Invalid broker name %s", name)
		}
		_, broker := img.Broker(int32(id))
		_, controller := img.Controller(int32(id))
		if !broker && !controller {
			return newErr(kerr.BrokerIDNotRegistered, "No node with id %d found.", id)
		}
	default:
		return newErr(kerr.InvalidRequest, "Unexpected resource type %s.", resourceTypeName(t))
	}
	return nil
}

// writeConfigs validates and adds the ConfigRecords of one resource. A
// topic's record is written only when its value changes; a broker's always,
// so brokers reload it (Kafka's KAFKA-14136).
func (c *Controller) writeConfigs(b *batch, img image.Image, t kmsg.ConfigResourceType, name string, changes []configChange) *apiError {
	if err := checkResource(img, t, name); err != nil {
		return err
	}
	res := image.ConfigResource{Type: int8(t), Name: name}
	if t == kmsg.ConfigResourceTypeTopic {
		set := map[string]string{}
		for _, ch := range changes {
			if ch.value != nil {
				set[ch.key] = *ch.value
			}
		}
		if err := c.validateTopicConfigs(set); err != nil {
			return err
		}
	}
	for _, ch := range changes {
		cur, had := img.Config(res, ch.key)
		if t == kmsg.ConfigResourceTypeTopic && (ch.value == nil && !had || ch.value != nil && had && cur == *ch.value) {
			continue
		}
		b.add(&metadata.ConfigRecord{ResourceType: int8(t), ResourceName: name, Name: ch.key, Value: ch.value}, 0)
	}
	return nil
}

// incrementalAlterConfigs answers IncrementalAlterConfigs (v0-1) for topics
// and brokers: SET, DELETE, and APPEND / SUBTRACT on list configurations.
func (c *Controller) incrementalAlterConfigs(b *batch, req *kmsg.IncrementalAlterConfigsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	seen := map[image.ConfigResource]int{}
	for _, r := range req.Resources {
		seen[image.ConfigResource{Type: int8(r.ResourceType), Name: r.ResourceName}]++
	}
	work := b
	if req.ValidateOnly {
		work = newBatch(b.image())
	}
	img := work.view() // each resource is named once and changed once
	for _, r := range req.Resources {
		rr := kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		var aerr *apiError
		if seen[image.ConfigResource{Type: int8(r.ResourceType), Name: r.ResourceName}] > 1 {
			aerr = newErr(kerr.InvalidRequest, "Duplicate resource.")
		} else {
			var changes []configChange
			if changes, aerr = incrementalChanges(img, r); aerr == nil {
				aerr = c.writeConfigs(work, img, r.ResourceType, r.ResourceName, changes)
			}
		}
		rr.ErrorCode, rr.ErrorMessage = aerr.code(), aerr.message()
		resp.Resources = append(resp.Resources, rr)
	}
	if work != b {
		b.err = work.err
	}
	return resp
}

// incrementalChanges turns a resource's operations into new values.
func incrementalChanges(img image.Image, r kmsg.IncrementalAlterConfigsRequestResource) ([]configChange, *apiError) {
	res := image.ConfigResource{Type: int8(r.ResourceType), Name: r.ResourceName}
	var out []configChange
	for _, op := range r.Configs {
		switch op.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			out = append(out, configChange{op.Name, op.Value})
		case kmsg.IncrementalAlterConfigOpDelete:
			out = append(out, configChange{op.Name, nil})
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			def, isList := listConfigs[op.Name]
			if !isList || r.ResourceType != kmsg.ConfigResourceTypeTopic {
				return nil, newErr(kerr.InvalidConfig, "Can't %s to key %s because its type is not LIST.", op.Op, op.Name)
			}
			cur, ok := img.Config(res, op.Name)
			if !ok {
				cur = def
			}
			out = append(out, configChange{op.Name, strPtr(applyListOp(cur, op))})
		default:
			return nil, newErr(kerr.InvalidRequest, "Unknown operation type %d", int8(op.Op))
		}
	}
	return out, nil
}

// alterConfigs answers the legacy AlterConfigs (v0-2): the given values
// replace the resource's whole dynamic configuration (keys not given are
// deleted).
func (c *Controller) alterConfigs(b *batch, req *kmsg.AlterConfigsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	seen := map[image.ConfigResource]int{}
	for _, r := range req.Resources {
		seen[image.ConfigResource{Type: int8(r.ResourceType), Name: r.ResourceName}]++
	}
	work := b
	if req.ValidateOnly {
		work = newBatch(b.image())
	}
	img := work.view() // each resource is named once and changed once
	for _, r := range req.Resources {
		rr := kmsg.NewAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		res := image.ConfigResource{Type: int8(r.ResourceType), Name: r.ResourceName}
		var aerr *apiError
		switch {
		case resourceTypeName(r.ResourceType) == "UNKNOWN":
			aerr = newErr(kerr.UnsupportedVersion, "Unknown resource type %d.", int8(r.ResourceType))
		case seen[res] > 1:
			aerr = newErr(kerr.InvalidRequest, "Duplicate resource.")
		default:
			given := map[string]bool{}
			var changes []configChange
			for _, cfg := range r.Configs {
				given[cfg.Name] = true
				changes = append(changes, configChange{cfg.Name, cfg.Value})
			}
			cur := img.Configs(res)
			keys := make([]string, 0, len(cur))
			for k := range cur {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if !given[k] {
					changes = append(changes, configChange{k, nil})
				}
			}
			aerr = c.writeConfigs(work, img, r.ResourceType, r.ResourceName, changes)
		}
		rr.ErrorCode, rr.ErrorMessage = aerr.code(), aerr.message()
		resp.Resources = append(resp.Resources, rr)
	}
	if work != b {
		b.err = work.err
	}
	return resp
}

// applyListOp appends to or subtracts from a comma-separated list value
// (kept in order, each element once when appended), with sets so a long
// list in a request costs linear time.
func applyListOp(cur string, op kmsg.IncrementalAlterConfigsRequestResourceConfig) string {
	parts := slices.DeleteFunc(strings.Split(cur, ","), func(s string) bool { return s == "" })
	var vals []string
	if op.Value != nil {
		vals = strings.Split(*op.Value, ",")
	}
	if op.Op == kmsg.IncrementalAlterConfigOpSubtract {
		drop := map[string]bool{}
		for _, v := range vals {
			drop[v] = true
		}
		parts = slices.DeleteFunc(parts, func(s string) bool { return drop[s] })
		return strings.Join(parts, ",")
	}
	have := map[string]bool{}
	for _, p := range parts {
		have[p] = true
	}
	for _, v := range vals {
		if !have[v] {
			have[v] = true
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, ",")
}
