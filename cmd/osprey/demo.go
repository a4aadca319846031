package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/internal/lifecycle"
)

// demoTraffic keeps the embedded cluster alive on first start: a producer writing orders and payments
// at a few records a second, a consumer group that keeps up, and one that reads slowly so the lag
// pages have something to show. It is a lifecycle.Module; the traffic is optional, so a start that
// fails is logged and the console runs without it.
type demoTraffic struct {
	log   *slog.Logger
	seeds func() []string // the embedded cluster's bootstrap, known once the "service" module started

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ lifecycle.Module = (*demoTraffic)(nil)

var demoTopics = map[string]int32{"demo.orders": 6, "demo.payments": 3}

// demoClientID names the demo's clients in the console's group and connection views.
const demoClientID = "osprey-demo"

func (d *demoTraffic) Name() string { return "demo traffic" }

// Start creates the demo topics (those that exist are kept) and launches the producer and the two
// consumer groups.
func (d *demoTraffic) Start(ctx context.Context) error {
	bootstrap, log := d.seeds(), d.log
	admCl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		log.Warn("demo traffic not started", "err", err)
		return nil
	}
	ctx, d.cancel = context.WithCancel(ctx)
	adm := kadm.NewClient(admCl)
	// Replicated like a production topic when the cluster has the brokers for it.
	rf := int16(min(3, len(bootstrap)))
	for t, n := range demoTopics {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := adm.CreateTopic(cctx, n, rf, map[string]*string{"min.insync.replicas": kadm.StringPtr("1")}, t)
		ccancel()
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			log.Warn("demo traffic: creating topic", "topic", t, "err", err)
		}
	}
	admCl.Close()

	d.wg.Add(3)
	go func() { defer d.wg.Done(); d.produce(ctx, bootstrap, log) }()
	go func() { defer d.wg.Done(); d.consume(ctx, bootstrap, "demo-billing", 0, log) }()
	go func() { defer d.wg.Done(); d.consume(ctx, bootstrap, "demo-analytics", 400*time.Millisecond, log) }()
	return nil
}

// The demo's producer and consumer groups use segmentio/kafka-go, not franz-go: the console speaks to
// clusters through admin (franz-go), so the demo traffic is a second, independent client implementation
// running against Osprey's own runtime whenever the product runs (its Writer's batching, its group
// Reader's join/sync/heartbeat/commit protocol and versions).

// produce writes an order about every 200 ms, every third one a payment, until ctx ends.
func (d *demoTraffic) produce(ctx context.Context, bootstrap []string, log *slog.Logger) {
	tr := &kafka.Transport{ClientID: demoClientID}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(bootstrap...), Transport: tr, Balancer: &kafka.RoundRobin{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 20 * time.Millisecond}
	defer func() { _ = w.Close() }()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n++
		topic := "demo.orders"
		value := fmt.Sprintf(`{"order":%d,"amount":%.2f,"currency":"EUR"}`, n, rand.Float64()*200)
		if n%3 == 0 {
			topic = "demo.payments"
			value = fmt.Sprintf(`{"payment":%d,"order":%d,"status":"captured"}`, n/3, n)
		}
		err := w.WriteMessages(ctx, kafka.Message{Topic: topic, Key: []byte(fmt.Sprintf("k%d", n%17)), Value: []byte(value),
			Headers: []kafka.Header{{Key: "source", Value: []byte("osprey-demo")}}})
		if err != nil && ctx.Err() == nil {
			log.Debug("demo producer", "topic", topic, "err", err)
		}
	}
}

// consume reads both demo topics as group, pausing after every five records when pause > 0 so that the
// group lags, until ctx ends. Offsets are committed every few seconds, as consumers usually do.
func (d *demoTraffic) consume(ctx context.Context, bootstrap []string, group string, pause time.Duration, log *slog.Logger) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: bootstrap, GroupID: group, GroupTopics: []string{"demo.orders", "demo.payments"},
		Dialer: &kafka.Dialer{ClientID: demoClientID, Timeout: 10 * time.Second}, MaxBytes: 16 << 10,
		MaxWait: 500 * time.Millisecond, CommitInterval: 5 * time.Second})
	defer func() { _ = r.Close() }()
	for n := 1; ; n++ {
		if _, err := r.ReadMessage(ctx); err != nil {
			if ctx.Err() == nil {
				log.Warn("demo consumer stopped", "group", group, "err", err)
			}
			return
		}
		if pause > 0 && n%5 == 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
		}
	}
}

// Stop ends the traffic and waits for its clients to close.
func (d *demoTraffic) Stop(context.Context) error {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
	return nil
}
