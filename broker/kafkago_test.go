package broker

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// kafka-go: Writer and group Reader (the demo traffic's clients; here with
// synchronous commits) and kafka-go's admin Client calls.
func TestKafkaGoWriterGroupReaderAndAdmin(t *testing.T) {
	b := newTestBroker(t)
	ctx := testCtx(t, 90*time.Second)
	// kafka-go's transport answers Metadata from a cache: keep it short.
	tr := &kafka.Transport{MetadataTTL: 50 * time.Millisecond}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(b.Addr()), Timeout: 10 * time.Second, Transport: tr}

	ct, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: "kg", NumPartitions: 2, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "3600000"}},
	}}})
	if err != nil || ct.Errors["kg"] != nil {
		t.Fatalf("create topic: %v %v", err, ct)
	}
	ct, err = cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: "kg", NumPartitions: 1, ReplicationFactor: 1}}})
	if err != nil || !errors.Is(ct.Errors["kg"], kafka.TopicAlreadyExists) {
		t.Fatalf("second create: want TopicAlreadyExists, got %v %v", err, ct.Errors["kg"])
	}

	w := &kafka.Writer{Addr: kafka.TCP(b.Addr()), Topic: "kg", Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond}
	var msgs []kafka.Message
	for i := 0; i < 40; i++ {
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("key-%d", i%7)), Value: []byte(fmt.Sprintf("val-%d", i)),
			Headers: []kafka.Header{{Key: "n", Value: []byte(fmt.Sprint(i))}}})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{b.Addr()}, GroupID: "kgo-group", Topic: "kg",
		MaxWait: 100 * time.Millisecond, CommitInterval: 0, StartOffset: kafka.FirstOffset,
		HeartbeatInterval: 200 * time.Millisecond, SessionTimeout: 6 * time.Second, RebalanceTimeout: 5 * time.Second})
	defer r.Close()
	// Per key, values must come back in the order written (same key, same
	// partition).
	lastByKey := map[string]int{}
	next := map[int]int64{}
	for i := 0; i < len(msgs); i++ {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		var n int
		fmt.Sscanf(string(m.Value), "val-%d", &n)
		if string(m.Key) != fmt.Sprintf("key-%d", n%7) || len(m.Headers) != 1 || string(m.Headers[0].Value) != fmt.Sprint(n) {
			t.Fatalf("message %q=%q headers %v does not match what was written", m.Key, m.Value, m.Headers)
		}
		if prev, ok := lastByKey[string(m.Key)]; ok && n <= prev {
			t.Fatalf("key %s: value %d after %d", m.Key, n, prev)
		}
		lastByKey[string(m.Key)] = n
		if m.Offset != next[m.Partition] {
			t.Fatalf("partition %d: offset %d, want %d", m.Partition, m.Offset, next[m.Partition])
		}
		next[m.Partition]++
	}
	of, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: "kgo-group", Topics: map[string][]int{"kg": {0, 1}}})
	if err != nil || of.Error != nil {
		t.Fatalf("offset fetch: %v %v", err, of)
	}
	for _, p := range of.Topics["kg"] {
		if p.Error != nil || p.CommittedOffset != next[p.Partition] {
			t.Fatalf("committed kg/%d = %d (%v), want %d", p.Partition, p.CommittedOffset, p.Error, next[p.Partition])
		}
	}

	lo, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		"kg": {kafka.FirstOffsetOf(0), kafka.LastOffsetOf(0), kafka.FirstOffsetOf(1), kafka.LastOffsetOf(1)}}})
	if err != nil {
		t.Fatalf("list offsets: %v", err)
	}
	for _, po := range lo.Topics["kg"] {
		if po.Error != nil || po.FirstOffset != 0 || po.LastOffset != next[po.Partition] {
			t.Fatalf("list offsets kg/%d: %+v, want 0..%d", po.Partition, po, next[po.Partition])
		}
	}

	dc, err := cl.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: "kg", ConfigNames: []string{"retention.ms"}}}})
	if err != nil || len(dc.Resources) != 1 || len(dc.Resources[0].ConfigEntries) != 1 ||
		dc.Resources[0].ConfigEntries[0].ConfigValue != "3600000" {
		t.Fatalf("describe configs: %v %+v", err, dc)
	}
	ac, err := cl.AlterConfigs(ctx, &kafka.AlterConfigsRequest{Resources: []kafka.AlterConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: "kg",
		Configs: []kafka.AlterConfigRequestConfig{{Name: "retention.ms", Value: "7200000"}}}}})
	if err != nil || ac.Errors[kafka.AlterConfigsResponseResource{Type: int8(kafka.ResourceTypeTopic), Name: "kg"}] != nil {
		t.Fatalf("alter configs: %v %+v", err, ac)
	}
	dc, err = cl.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: "kg", ConfigNames: []string{"retention.ms"}}}})
	if err != nil || dc.Resources[0].ConfigEntries[0].ConfigValue != "7200000" {
		t.Fatalf("describe after alter: %v %+v", err, dc)
	}

	cp, err := cl.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{Topics: []kafka.TopicPartitionsConfig{{Name: "kg", Count: 3}}})
	if err != nil || cp.Errors["kg"] != nil {
		t.Fatalf("create partitions: %v %+v", err, cp)
	}
	testenv.WaitFor(t, 5*time.Second, func() error {
		md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{"kg"}})
		if err != nil || len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 3 || md.Controller.ID != 0 {
			return fmt.Errorf("metadata after create partitions: %v %+v", err, md)
		}
		return nil
	})

	dg, err := cl.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{"kgo-group"}})
	if err != nil || len(dg.Groups) != 1 || dg.Groups[0].GroupState != "Stable" || len(dg.Groups[0].Members) != 1 {
		t.Fatalf("describe groups: %v %+v", err, dg)
	}
	lg, err := cl.ListGroups(ctx, &kafka.ListGroupsRequest{})
	if err != nil || len(lg.Groups) != 1 || lg.Groups[0].GroupID != "kgo-group" {
		t.Fatalf("list groups: %v %+v", err, lg)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		dg, err := cl.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{"kgo-group"}})
		if err != nil {
			return err
		}
		if s := dg.Groups[0].GroupState; s != "Empty" {
			return fmt.Errorf("group state %s after the reader left", s)
		}
		return nil
	})
	del, err := cl.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: []string{"kgo-group"}})
	if err != nil || del.Errors["kgo-group"] != nil {
		t.Fatalf("delete group: %v %+v", err, del)
	}

	dt, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{"kg"}})
	if err != nil || dt.Errors["kg"] != nil {
		t.Fatalf("delete topic: %v %+v", err, dt)
	}
	testenv.WaitFor(t, 5*time.Second, func() error {
		md, err := cl.Metadata(ctx, &kafka.MetadataRequest{})
		if err != nil {
			return err
		}
		for _, tp := range md.Topics {
			if tp.Name == "kg" {
				return errors.New("topic kg still listed after deletion")
			}
		}
		return nil
	})
}
