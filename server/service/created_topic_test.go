package service

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/collector"
)

// The answer to a creation is a topic even before a snapshot shows it: what the request asked for,
// its partitions counted as starting and its lists empty, never a partial object.
func TestCreatedTopicBeforeTheSnapshotShowsIt(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := New(Options{Logger: log, Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	if err := svc.AddCluster(context.Background(), ClusterSpec{Name: "k", Source: "config", Admin: admin.Config{Bootstrap: kc.ListenAddrs()}}); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	if _, err := svc.Topic("k", "fresh"); err == nil {
		t.Fatal("the unpolled cluster already shows the topic")
	}
	d := svc.CreatedTopic("k", CreateTopicRequest{Name: "fresh", Partitions: 3, ReplicationFactor: 2})
	if d.Name != "fresh" || d.Partitions != 3 || d.ReplicationFactor != 2 || d.Starting != 3 {
		t.Errorf("created topic %+v, want fresh with 3 starting partitions, replication factor 2", d.TopicRow)
	}
	if d.Brokers == nil || d.PartitionsL == nil || d.Consumers == nil || d.SizeBytes != nil {
		t.Errorf("created topic lists %v %v %v size %v: lists empty (not null), size unknown", d.Brokers, d.PartitionsL, d.Consumers, d.SizeBytes)
	}
}
