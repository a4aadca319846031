// Command describequorum prints a KRaft cluster's DescribeQuorum answer as JSON, read with franz-go
// and nothing of Osprey's, for end-to-end tests that compare the console's Quorum page with what the
// cluster itself says.
//
//	go run ./internal/testenv/describequorum host:port[,host:port]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type replica struct {
	ID           int32 `json:"id"`
	LogEndOffset int64 `json:"logEndOffset"`
}

type answer struct {
	LeaderID      int32     `json:"leaderId"`
	LeaderEpoch   int32     `json:"leaderEpoch"`
	HighWatermark int64     `json:"highWatermark"`
	Voters        []replica `json:"voters"`
	Observers     []replica `json:"observers"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: describequorum host:port[,host:port]")
		os.Exit(2)
	}
	if err := run(strings.Split(os.Args[1], ",")); err != nil {
		fmt.Fprintln(os.Stderr, "describequorum:", err)
		os.Exit(1)
	}
}

func run(seeds []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	t.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = []kmsg.DescribeQuorumRequestTopic{t}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return fmt.Errorf("unexpected answer shape: %d topics", len(resp.Topics))
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return err
	}
	a := answer{LeaderID: p.LeaderID, LeaderEpoch: p.LeaderEpoch, HighWatermark: p.HighWatermark, Voters: []replica{}, Observers: []replica{}}
	for _, v := range p.CurrentVoters {
		a.Voters = append(a.Voters, replica{ID: v.ReplicaID, LogEndOffset: v.LogEndOffset})
	}
	for _, o := range p.Observers {
		a.Observers = append(a.Observers, replica{ID: o.ReplicaID, LogEndOffset: o.LogEndOffset})
	}
	return json.NewEncoder(os.Stdout).Encode(a)
}
