package service

import (
	"context"
	"sort"

	"github.com/osprey-kafka/osprey/admin"
)

// redriveBatch is how many records one produce call writes.
const redriveBatch = 500

// RedriveRequest selects records of a topic like a search and names the topic to copy them to.
type RedriveRequest struct {
	SearchRequest
	TargetTopic string `json:"targetTopic" required:"true" minLength:"1" maxLength:"249" description:"Topic to copy the selected records to"`
	// DryRun counts what would be copied, and where, without writing.
	DryRun bool `json:"dryRun,omitempty" description:"Count the records and their target partitions without writing"`
}

// RedriveResult says what a redrive selected and wrote (nothing for a dry run).
type RedriveResult struct {
	DryRun      bool   `json:"dryRun" required:"true"`
	TargetTopic string `json:"targetTopic" required:"true"`
	// Records and Bytes are what the selection holds; Produced how many were written.
	Records          int                `json:"records" required:"true"`
	Bytes            int64              `json:"bytes" required:"true"`
	Produced         int                `json:"produced" required:"true"`
	TargetPartitions []RedrivePartition `json:"targetPartitions" required:"true"`
	Scan             SearchDone         `json:"scan" required:"true"`
}

// RedrivePartition is how many selected records go to one partition of the target.
type RedrivePartition struct {
	Partition int32 `json:"partition" required:"true"`
	Records   int   `json:"records" required:"true"`
}

// Redrive copies the records a search selects to another topic of the cluster, key, value and
// headers kept (a dead-letter topic back to its source, say). A record goes to the partition Kafka's
// default partitioner gives its key in the target, or, without a key, to its own partition number
// modulo the target's partitions. Records are selected by their masked form (what the caller can
// see and search) and copied clear. The dry run scans the same way and writes nothing. Both are
// audited as topic.redrive.
func (s *Service) Redrive(ctx context.Context, who Caller, cluster, topic string, req RedriveRequest) (RedriveResult, error) {
	res := RedriveResult{DryRun: req.DryRun, TargetTopic: req.TargetTopic, TargetPartitions: []RedrivePartition{}}
	c, err := s.get(cluster)
	if err != nil {
		return res, err
	}
	snap, err := s.snapshot(cluster)
	if err != nil {
		return res, err
	}
	target, ok := snap.Topic(req.TargetTopic)
	if !ok {
		return res, topicNotFound(cluster, req.TargetTopic)
	}
	n := int32(len(target.Partitions))
	if req.TargetTopic == topic {
		return res, badRequest("invalid_target", "the target topic must differ from the source topic")
	}
	if n == 0 {
		return res, conflict("no_partitions", "topic %q has no partitions yet", req.TargetTopic)
	}
	params := map[string]any{"target": req.TargetTopic, "filter": req.Filter, "dryRun": req.DryRun, "partitions": req.Partitions,
		"startOffset": req.StartOffset, "endOffset": req.EndOffset, "startTime": req.StartTime, "endTime": req.EndTime}
	err = s.Audited(ctx, who, "topic.redrive", cluster, topic, params, func() error {
		q, err := s.prepareScan(ctx, who, cluster, topic, req.SearchRequest, true)
		if err != nil {
			return err
		}
		return s.runRedrive(ctx, c, q, n, req, &res)
	})
	return res, err
}

// runRedrive runs the scan, counting per target partition and writing in batches unless dry.
func (s *Service) runRedrive(ctx context.Context, c *cluster, q *Search, n int32, req RedriveRequest, res *RedriveResult) error {
	counts := map[int32]int{}
	var batch []admin.Message
	flush := func() error {
		if req.DryRun || len(batch) == 0 {
			return nil
		}
		if err := c.client.ProduceMessages(ctx, req.TargetTopic, batch); err != nil {
			return kafkaError(opProduce, req.TargetTopic, err)
		}
		res.Produced += len(batch)
		batch = batch[:0]
		return nil
	}
	q.collect = func(m admin.Message) error {
		part := m.Partition % n
		if m.Key != nil {
			part = KafkaPartition(m.Key, n)
		}
		counts[part]++
		res.Records++
		res.Bytes += int64(len(m.Key) + len(m.Value))
		if req.DryRun {
			return nil
		}
		m.Partition = part
		batch = append(batch, m)
		if len(batch) >= redriveBatch {
			return flush()
		}
		return nil
	}
	if err := q.Run(ctx, func(ev SearchEvent) error {
		if ev.Done != nil {
			res.Scan = *ev.Done
		}
		return nil
	}); err != nil {
		return err
	}
	for p, k := range counts {
		res.TargetPartitions = append(res.TargetPartitions, RedrivePartition{Partition: p, Records: k})
	}
	sort.Slice(res.TargetPartitions, func(i, j int) bool { return res.TargetPartitions[i].Partition < res.TargetPartitions[j].Partition })
	if res.Scan.Reason == SearchFailed {
		return (&UserError{Status: 502, Code: "redrive_failed", Message: "the redrive stopped: " + res.Scan.Error}).with("produced", res.Produced, "error", res.Scan.Error)
	}
	return flush()
}
