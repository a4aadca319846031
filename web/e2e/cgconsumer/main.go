// Command cgconsumer is the end-to-end tests' group consumer: it creates a topic, writes a few records
// to each partition and runs franz-go consumers in one group with the consumer group protocol
// (KIP-848: the broker assigns the partitions), optionally beside a classic-protocol consumer in a
// second group. Members are added and removed by lines on stdin ("add", "remove": the newest member
// leaves the group); after each change it says "members N" on stdout. It stops when stdin closes.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type options struct {
	bootstrap    []string
	topic        string
	partitions   int
	group        string
	classicGroup string
	members      int
	records      int
}

func main() {
	var o options
	bootstrap := flag.String("bootstrap", "", "comma-separated bootstrap servers")
	flag.StringVar(&o.topic, "topic", "e2e-cg", "topic to consume (created when missing)")
	flag.IntVar(&o.partitions, "partitions", 6, "partitions of the topic when it is created")
	flag.StringVar(&o.group, "group", "e2e-cg", "the consumer-protocol (KIP-848) group")
	flag.StringVar(&o.classicGroup, "classic-group", "", "also run one classic-protocol consumer in this group")
	flag.IntVar(&o.members, "members", 2, "consumer-protocol members started at once")
	flag.IntVar(&o.records, "records", 5, "records written to each partition before consuming")
	flag.Parse()
	o.bootstrap = strings.Split(*bootstrap, ",")
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "cgconsumer:", err)
		os.Exit(1)
	}
}

// member is one running consumer; stop leaves the group and waits for its poll loop to end.
type member struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
}

func (m *member) stop() {
	m.cancel()
	<-m.done
	m.cl.Close() // a consumer-protocol member leaves the group here (member epoch -1)
}

func start(opts ...kgo.Opt) (*member, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("consumer client: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{cl: cl, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx) // offsets are committed by autocommit
		}
	}()
	return m, nil
}

func run(o options) error {
	if err := prepare(o); err != nil {
		return err
	}
	common := []kgo.Opt{kgo.SeedBrokers(o.bootstrap...), kgo.ConsumeTopics(o.topic),
		kgo.FetchMaxWait(200 * time.Millisecond), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	var members []*member
	n := 0
	add := func() error {
		n++
		// ServerSideBalancer selects the consumer group protocol: the broker's assignor decides.
		m, err := start(append([]kgo.Opt{kgo.ConsumerGroup(o.group), kgo.ServerSideBalancer(),
			kgo.ClientID(fmt.Sprintf("cg-%d", n))}, common...)...)
		if err != nil {
			return err
		}
		members = append(members, m)
		return nil
	}
	for range o.members {
		if err := add(); err != nil {
			return err
		}
	}
	if o.classicGroup != "" {
		m, err := start(append([]kgo.Opt{kgo.ConsumerGroup(o.classicGroup), kgo.ClientID("classic-1")}, common...)...)
		if err != nil {
			return err
		}
		defer m.stop()
	}
	defer func() {
		for _, m := range members {
			m.stop()
		}
	}()
	fmt.Printf("members %d\n", len(members))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch strings.TrimSpace(in.Text()) {
		case "add":
			if err := add(); err != nil {
				return err
			}
		case "remove":
			if len(members) > 0 {
				members[len(members)-1].stop()
				members = members[:len(members)-1]
			}
		default:
			continue
		}
		fmt.Printf("members %d\n", len(members))
	}
	return nil
}

// prepare creates the topic and writes records to each partition, so the group has positions and lag.
func prepare(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(o.bootstrap...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return fmt.Errorf("producer client: %w", err)
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).CreateTopic(ctx, int32(o.partitions), 1, nil, o.topic)
	if err == nil {
		err = res.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", o.topic, err)
	}
	for p := range o.partitions {
		for i := range o.records {
			r := &kgo.Record{Topic: o.topic, Partition: int32(p), Value: fmt.Appendf(nil, "r-%d-%d", p, i)}
			// The new topic's leaders may still be being elected: retry until the deadline.
			for {
				err := cl.ProduceSync(ctx, r).FirstErr()
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return fmt.Errorf("produce to %s/%d: %w", o.topic, p, err)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	return nil
}
