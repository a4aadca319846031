package admin

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Broker is one broker as the cluster describes it.
type Broker struct {
	ID   int32
	Host string
	Port int32
	Rack string
}

// Metadata is a Metadata response in plain types. Topics are sorted by name,
// partitions by number.
type Metadata struct {
	ClusterID    string
	ControllerID int32
	Brokers      []Broker // sorted by ID
	Topics       []TopicMetadata
}

// TopicMetadata describes one topic.
type TopicMetadata struct {
	Name       string
	ID         [16]byte
	Internal   bool
	Err        error // topic-level Kafka error, if any
	Partitions []PartitionMetadata
}

// PartitionMetadata describes one partition. Leader is -1 when offline.
type PartitionMetadata struct {
	Partition   int32
	Leader      int32
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32
	Offline     []int32
	Err         error
}

// Metadata fetches cluster metadata with one request. topics == nil asks for
// every topic; an empty non-nil slice asks for brokers only. It also refreshes
// the broker address book used by per-broker calls.
func (c *Client) Metadata(ctx context.Context, topics []string) (*Metadata, error) {
	req := kmsg.NewPtrMetadataRequest()
	if topics != nil {
		req.Topics = make([]kmsg.MetadataRequestTopic, 0, len(topics))
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
	}
	// v1+ so that a null topic list means all topics; v12 is the last with
	// names only semantics we rely on and which every supported broker has.
	resp, err := c.requestAny(ctx, req, 1, 12)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	r := resp.(*kmsg.MetadataResponse)
	md := &Metadata{ControllerID: r.ControllerID}
	if r.ClusterID != nil {
		md.ClusterID = *r.ClusterID
	}
	md.Brokers = make([]Broker, 0, len(r.Brokers))
	for _, b := range r.Brokers {
		br := Broker{ID: b.NodeID, Host: b.Host, Port: b.Port}
		if b.Rack != nil {
			br.Rack = *b.Rack
		}
		md.Brokers = append(md.Brokers, br)
	}
	sort.Slice(md.Brokers, func(i, j int) bool { return md.Brokers[i].ID < md.Brokers[j].ID })
	md.Topics = make([]TopicMetadata, 0, len(r.Topics))
	for _, t := range r.Topics {
		tm := TopicMetadata{ID: t.TopicID, Internal: t.IsInternal, Err: codeErr(req.Key(), t.ErrorCode, nil)}
		if t.Topic != nil {
			tm.Name = *t.Topic
		}
		tm.Partitions = make([]PartitionMetadata, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			tm.Partitions = append(tm.Partitions, PartitionMetadata{
				Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
				Replicas: p.Replicas, ISR: p.ISR, Offline: p.OfflineReplicas,
				Err: codeErr(req.Key(), p.ErrorCode, nil),
			})
		}
		sort.Slice(tm.Partitions, func(i, j int) bool { return tm.Partitions[i].Partition < tm.Partitions[j].Partition })
		md.Topics = append(md.Topics, tm)
	}
	sort.Slice(md.Topics, func(i, j int) bool { return md.Topics[i].Name < md.Topics[j].Name })
	c.setBrokers(md.Brokers)
	return md, nil
}

// ClusterDescription is a DescribeCluster response.
type ClusterDescription struct {
	ClusterID    string
	ControllerID int32
	Brokers      []Broker
	Fenced       map[int32]bool // KRaft: brokers fenced by the controller
	// FencedKnown says the answer can report fencing (DescribeCluster v2, Kafka 4.0+).
	FencedKnown bool
}

// DescribeCluster asks any broker for the cluster id, controller and brokers. In KRaft mode the
// controller it names is a broker picked at random (the broker forwards to the real controller), so
// the active controller is DescribeQuorum's leader, not this.
func (c *Client) DescribeCluster(ctx context.Context) (*ClusterDescription, error) {
	req := kmsg.NewPtrDescribeClusterRequest()
	req.IncludeFencedBrokers = true // v2+ (Kafka 4.0): fenced KRaft brokers are listed, with IsFenced
	resp, err := c.requestAny(ctx, req, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("describe cluster: %w", err)
	}
	r := resp.(*kmsg.DescribeClusterResponse)
	if e := codeErr(r.Key(), r.ErrorCode, nil); e != nil {
		return nil, fmt.Errorf("describe cluster: %w", e)
	}
	d := &ClusterDescription{ClusterID: r.ClusterID, ControllerID: r.ControllerID, Fenced: map[int32]bool{}, FencedKnown: r.Version >= 2}
	for _, b := range r.Brokers {
		br := Broker{ID: b.NodeID, Host: b.Host, Port: b.Port}
		if b.Rack != nil {
			br.Rack = *b.Rack
		}
		d.Brokers = append(d.Brokers, br)
		if b.IsFenced {
			d.Fenced[b.NodeID] = true
		}
	}
	sort.Slice(d.Brokers, func(i, j int) bool { return d.Brokers[i].ID < d.Brokers[j].ID })
	return d, nil
}

// LogDirs is one broker's DescribeLogDirs answer.
type LogDirs struct {
	Broker int32
	Dirs   []LogDir
	// Bytes is the sum of partition sizes over all dirs (futures excluded).
	Bytes int64
}

// LogDir is one log directory on a broker.
type LogDir struct {
	Path        string
	Err         error
	TotalBytes  int64 // -1 when the broker does not report it (before v4)
	UsableBytes int64
	// Partitions maps topic → partition → size in bytes.
	Partitions map[string]map[int32]int64
}

// DescribeLogDirs asks one broker for the size of every partition it holds.
func (c *Client) DescribeLogDirs(ctx context.Context, broker int32) (*LogDirs, error) {
	req := kmsg.NewPtrDescribeLogDirsRequest() // nil Topics: everything
	resp, err := c.requestBroker(ctx, broker, req, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("describe log dirs on broker %d: %w", broker, err)
	}
	r := resp.(*kmsg.DescribeLogDirsResponse)
	if e := codeErr(req.Key(), r.ErrorCode, nil); e != nil {
		return nil, fmt.Errorf("describe log dirs on broker %d: %w", broker, e)
	}
	out := &LogDirs{Broker: broker}
	for _, d := range r.Dirs {
		ld := LogDir{Path: d.Dir, Err: codeErr(req.Key(), d.ErrorCode, nil), TotalBytes: -1, UsableBytes: -1, Partitions: map[string]map[int32]int64{}}
		if r.Version >= 4 {
			ld.TotalBytes, ld.UsableBytes = d.TotalBytes, d.UsableBytes
		}
		for _, t := range d.Topics {
			m := ld.Partitions[t.Topic]
			if m == nil {
				m = make(map[int32]int64, len(t.Partitions))
				ld.Partitions[t.Topic] = m
			}
			for _, p := range t.Partitions {
				if p.IsFuture {
					continue
				}
				m[p.Partition] = p.Size
				out.Bytes += p.Size
			}
		}
		out.Dirs = append(out.Dirs, ld)
	}
	return out, nil
}

// DeleteRecords deletes records before the given offsets (topic → partition →
// offset; -1 means the high watermark), sending one request per leader. It
// returns the new low watermarks and a per-partition error map.
func (c *Client) DeleteRecords(ctx context.Context, md *Metadata, before map[string]map[int32]int64) (map[string]map[int32]int64, map[string]map[int32]error, error) {
	byLeader := map[int32]map[string][]kmsg.DeleteRecordsRequestTopicPartition{}
	perr := map[string]map[int32]error{}
	setErr := func(t string, p int32, err error) {
		if perr[t] == nil {
			perr[t] = map[int32]error{}
		}
		perr[t][p] = err
	}
	for t, parts := range before {
		for p, off := range parts {
			leader := leaderOf(md, t, p)
			if leader < 0 {
				setErr(t, p, metadataErr(kerr.LeaderNotAvailable))
				continue
			}
			if byLeader[leader] == nil {
				byLeader[leader] = map[string][]kmsg.DeleteRecordsRequestTopicPartition{}
			}
			rp := kmsg.NewDeleteRecordsRequestTopicPartition()
			rp.Partition, rp.Offset = p, off
			byLeader[leader][t] = append(byLeader[leader][t], rp)
		}
	}
	low := map[string]map[int32]int64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for leader, topics := range byLeader {
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.TimeoutMillis = int32(c.cfg.Timeout.Milliseconds())
		for t, ps := range topics {
			rt := kmsg.NewDeleteRecordsRequestTopic()
			rt.Topic, rt.Partitions = t, ps
			req.Topics = append(req.Topics, rt)
		}
		wg.Go(func() {
			resp, err := c.requestBroker(ctx, leader, req, 0, -1)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				for _, rt := range req.Topics {
					for _, rp := range rt.Partitions {
						setErr(rt.Topic, rp.Partition, err)
					}
				}
				return
			}
			for _, rt := range resp.(*kmsg.DeleteRecordsResponse).Topics {
				for _, rp := range rt.Partitions {
					if e := codeErr(req.Key(), rp.ErrorCode, nil); e != nil {
						setErr(rt.Topic, rp.Partition, e)
						continue
					}
					if low[rt.Topic] == nil {
						low[rt.Topic] = map[int32]int64{}
					}
					low[rt.Topic][rp.Partition] = rp.LowWatermark
				}
			}
		})
	}
	wg.Wait()
	return low, perr, nil
}

func leaderOf(md *Metadata, topic string, partition int32) int32 {
	i := sort.Search(len(md.Topics), func(i int) bool { return md.Topics[i].Name >= topic })
	if i == len(md.Topics) || md.Topics[i].Name != topic {
		return -1
	}
	for _, p := range md.Topics[i].Partitions {
		if p.Partition == partition {
			return p.Leader
		}
	}
	return -1
}

// TopicConfigValue reads one config key (e.g. "min.insync.replicas") of many
// topics with a single DescribeConfigs request. Topics whose describe failed
// are missing from the map.
func (c *Client) TopicConfigValue(ctx context.Context, topics []string, key string) (map[string]string, error) {
	vals, err := c.TopicConfigValues(ctx, topics, key)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(vals))
	for t, kv := range vals {
		if v, ok := kv[key]; ok {
			out[t] = v
		}
	}
	return out, nil
}

// TopicConfigValues reads a few config keys of many topics with a single
// DescribeConfigs request: topic → key → value. Topics whose describe failed
// are missing from the map, keys without a value from a topic's map.
func (c *Client) TopicConfigValues(ctx context.Context, topics []string, keys ...string) (map[string]map[string]string, error) {
	out := make(map[string]map[string]string, len(topics))
	if len(topics) == 0 {
		return out, nil
	}
	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, t := range topics {
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType = kmsg.ConfigResourceTypeTopic
		r.ResourceName = t
		r.ConfigNames = keys
		req.Resources = append(req.Resources, r)
	}
	resp, err := c.requestAny(ctx, req, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("describe configs (%s): %w", strings.Join(keys, ", "), err)
	}
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	for _, r := range resp.(*kmsg.DescribeConfigsResponse).Resources {
		if r.ErrorCode != 0 {
			continue
		}
		m := make(map[string]string, len(keys))
		for _, e := range r.Configs {
			if want[e.Name] && e.Value != nil {
				m[e.Name] = *e.Value
			}
		}
		out[r.ResourceName] = m
	}
	return out, nil
}
