// Command txnproducer is the end-to-end tests' transactional producer: it opens a franz-go
// transaction on partition 0 of a topic, writes a few records, says "open" on stdout and keeps the
// transaction open until it is killed or its stdin closes, so the console sees an ongoing transaction.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	bootstrap := flag.String("bootstrap", "", "comma-separated bootstrap servers")
	topic := flag.String("topic", "e2e-txn", "topic to write to (created with 2 partitions when missing)")
	id := flag.String("id", "e2e-txn-writer", "transactional.id")
	records := flag.Int("records", 3, "records written in the open transaction")
	flag.Parse()
	if err := run(strings.Split(*bootstrap, ","), *topic, *id, *records); err != nil {
		fmt.Fprintln(os.Stderr, "txnproducer:", err)
		os.Exit(1)
	}
}

func run(bootstrap []string, topic, id string, records int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.TransactionalID(id), kgo.TransactionTimeout(10*time.Minute),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, topic)
	if err == nil {
		err = res.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	if err := cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	for i := range records {
		// The topic's leaders may still be being elected: retry until the deadline.
		for {
			err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: fmt.Appendf(nil, "pending-%d", i)}).FirstErr()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("produce: %w", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	fmt.Println("open")
	_, _ = io.Copy(io.Discard, os.Stdin) // hold the transaction open until stdin closes
	return nil
}
