package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/broker/supervisor"
)

func init() { multiBroker = supervisedCluster }

// supervisedCluster stands up n in-process Osprey brokers with the cluster
// supervisor (broker/supervisor: the in-process metadata store, the console's
// embedded default), data under dir, and waits until every broker is registered.
func supervisedCluster(ctx context.Context, o *options, dir string, n int) ([]string, func(), error) {
	c, err := supervisor.New(supervisor.Options{Brokers: n, Mode: supervisor.InProcess, DataDir: dir, Logger: o.quiet})
	if err != nil {
		return nil, nil, fmt.Errorf("preparing %d brokers: %w", n, err)
	}
	stop := func() { _ = c.Close() }
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := c.Start(sctx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("starting %d brokers: %w", n, err)
	}
	boot := strings.Split(c.BootstrapServers(), ",")
	if err := waitBrokers(ctx, boot, n); err != nil {
		stop()
		return nil, nil, err
	}
	return boot, stop, nil
}

// waitBrokers polls metadata until n brokers and a controller are listed (up to 60 s).
func waitBrokers(ctx context.Context, boot []string, n int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(time.Minute)
	var last string
	for time.Now().Before(deadline) && ctx.Err() == nil {
		mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		md, err := adm.BrokerMetadata(mctx)
		cancel()
		if err == nil && len(md.Brokers) == n && md.Controller >= 0 {
			return nil
		}
		last = fmt.Sprintf("err %v, %d brokers", err, len(md.Brokers))
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the %d brokers did not all register within a minute (last: %s)", n, last)
}

// waitISR polls metadata until every partition of topic has rf replicas, all
// of them in the ISR (up to 60 s), so that acks=all really waits for rf copies.
func waitISR(ctx context.Context, boot []string, topic string, rf int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(time.Minute)
	last := "no metadata"
	for time.Now().Before(deadline) && ctx.Err() == nil {
		mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		md, err := adm.Metadata(mctx, topic)
		cancel()
		if err == nil {
			t, ok := md.Topics[topic]
			full := ok && t.Err == nil && len(t.Partitions) > 0
			for _, p := range t.Partitions {
				if len(p.Replicas) != rf || len(p.ISR) != rf || p.Leader < 0 {
					full = false
					last = fmt.Sprintf("partition %d: replicas %v, ISR %v, leader %d", p.Partition, p.Replicas, p.ISR, p.Leader)
					break
				}
			}
			if full {
				return nil
			}
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("topic %s: not every partition has %d in-sync replicas after a minute (last: %s)", topic, rf, last)
}
