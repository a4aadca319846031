// Command shareconsumer is the end-to-end tests' share group (KIP-932) consumer: it creates a topic,
// runs franz-go share consumers in one share group and keeps producing to the topic. Each record is
// acknowledged by its value: ACCEPT for one in three, RELEASE for another (delivered again, until
// the delivery count limit archives it) and REJECT for the third (archived at once), so delivery
// counts and archived records rise while the group works. It prints "consumed N" as records
// arrive and stops when stdin closes.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type options struct {
	bootstrap  []string
	topic      string
	partitions int
	group      string
	members    int
	every      time.Duration
}

func main() {
	var o options
	bootstrap := flag.String("bootstrap", "", "comma-separated bootstrap servers")
	flag.StringVar(&o.topic, "topic", "e2e-share", "topic to consume (created when missing)")
	flag.IntVar(&o.partitions, "partitions", 2, "partitions of the topic when it is created")
	flag.StringVar(&o.group, "group", "e2e-share", "the share group")
	flag.IntVar(&o.members, "members", 2, "share consumers in the group")
	flag.DurationVar(&o.every, "every", 300*time.Millisecond, "how often one record is written to each partition")
	flag.Parse()
	o.bootstrap = strings.Split(*bootstrap, ",")
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "shareconsumer:", err)
		os.Exit(1)
	}
}

// ackFor is the acknowledgement of a record by its value's sequence number.
func ackFor(r *kgo.Record) kgo.AckStatus {
	seq, _ := strconv.Atoi(string(r.Value[strings.LastIndexByte(string(r.Value), '-')+1:]))
	switch seq % 3 {
	case 0:
		return kgo.AckAccept
	case 1:
		return kgo.AckRelease
	}
	return kgo.AckReject
}

func run(o options) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(o.bootstrap...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return fmt.Errorf("producer client: %w", err)
	}
	defer prod.Close()
	if err := createTopic(ctx, prod, o); err != nil {
		return err
	}
	var consumed atomic.Int64
	done := make(chan struct{})
	for i := range o.members {
		cl, err := kgo.NewClient(kgo.SeedBrokers(o.bootstrap...), kgo.ShareGroup(o.group), kgo.ConsumeTopics(o.topic),
			kgo.FetchMaxWait(200*time.Millisecond), kgo.ClientID(fmt.Sprintf("share-%d", i+1)))
		if err != nil {
			return fmt.Errorf("share consumer client: %w", err)
		}
		go func() {
			defer func() { done <- struct{}{} }()
			defer cl.Close() // leaves the share group
			for ctx.Err() == nil {
				cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
					r.Ack(ackFor(r))
					consumed.Add(1)
				})
			}
		}()
	}
	go produce(ctx, prod, o)
	go report(ctx, &consumed)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() { // until stdin closes
	}
	cancel()
	for range o.members {
		<-done
	}
	return nil
}

// produce writes one record to each partition every o.every until ctx ends; the share group starts
// at the log end, so records written after it joined are what it receives.
func produce(ctx context.Context, cl *kgo.Client, o options) {
	t := time.NewTicker(o.every)
	defer t.Stop()
	for seq := 0; ; seq++ {
		for p := range o.partitions {
			cl.Produce(ctx, &kgo.Record{Topic: o.topic, Partition: int32(p), Value: fmt.Appendf(nil, "r-%d-%d", p, seq)}, nil)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// report prints how many deliveries the members have had, once a second while it changes.
func report(ctx context.Context, consumed *atomic.Int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := int64(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n := consumed.Load(); n != last {
			fmt.Printf("consumed %d\n", n)
			last = n
		}
	}
}

func createTopic(ctx context.Context, cl *kgo.Client, o options) error {
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := kadm.NewClient(cl).CreateTopic(cctx, int32(o.partitions), 1, nil, o.topic)
	if err == nil {
		err = res.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", o.topic, err)
	}
	return nil
}
