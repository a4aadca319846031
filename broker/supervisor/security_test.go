package supervisor

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// A secured cluster started from the server.properties files the
// supervisor writes: `osprey broker --config` child processes whose one
// listener speaks SASL_PLAINTEXT, to clients and to each other.
func TestChildProcessSASLCluster(t *testing.T) {
	addr, chroot := testenv.ZooKeeperChroot(t)
	jaas := `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" ` +
		`user_admin="admin-secret" user_alice="alice-secret";`
	c := newTestSupervisor(t, Options{Brokers: 2, Mode: ChildProcess, ZooKeeper: addr + chroot,
		Properties: map[string]string{"replica.lag.time.max.ms": "2000", "offsets.topic.num.partitions": "3",
			"zookeeper.session.timeout.ms":                   "4000",
			"listener.security.protocol.map":                 "PLAINTEXT:SASL_PLAINTEXT",
			"sasl.enabled.mechanisms":                        "PLAIN",
			"sasl.mechanism.inter.broker.protocol":           "PLAIN",
			"listener.name.plaintext.plain.sasl.jaas.config": jaas,
		}})
	defer c.Close()
	props, err := os.ReadFile(c.Status()[0].ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(props), "listener.name.plaintext.plain.sasl.jaas.config=") {
		t.Fatalf("server.properties lacks the JAAS config:\n%s", props)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seeds := strings.Split(c.BootstrapServers(), ",")

	anon, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	if err := anon.Ping(pctx); err == nil {
		t.Fatal("a client without SASL was served")
	}
	pcancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.SASL(plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism()),
		kgo.DefaultProduceTopic("secured"), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 2, nil, "secured"); err != nil {
		t.Fatal(err)
	}
	// acks=all with two replicas: the follower fetched over SASL.
	testenv.WaitFor(t, time.Minute, func() error {
		return cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr()
	})
	testenv.WaitFor(t, time.Minute, func() error {
		md, err := adm.Metadata(ctx, "secured")
		if err != nil {
			return err
		}
		p := md.Topics["secured"].Partitions[0]
		if len(p.ISR) != 2 {
			return fmt.Errorf("ISR %v", p.ISR)
		}
		return nil
	})
}

// A cluster that starts with its SCRAM users, as child processes in both metadata modes: the one
// listener is named by its protocol (Options.Listener), the user is written to ZooKeeper before the
// broker starts, or into the KRaft node's bootstrap metadata at format (done in this process: no
// password on a command line), and the supervisor's readiness check signs in with ClientOptions. The
// user then signs in with franz-go's SCRAM client and writes; a wrong password is refused.
func TestChildProcessStartsWithSCRAMUsers(t *testing.T) {
	for _, kraft := range []bool{false, true} {
		t.Run(map[bool]string{false: "zookeeper", true: "kraft"}[kraft], func(t *testing.T) {
			auth := scram.Auth{User: "admin", Pass: "admin-secret-1"}.AsSha512Mechanism()
			opts := Options{Brokers: 1, Mode: ChildProcess, KRaft: kraft, Listener: "SASL_PLAINTEXT",
				ScramUsers:    []ScramUser{{Mechanism: "SCRAM-SHA-512", Name: "admin", Password: "admin-secret-1"}},
				ClientOptions: []kgo.Opt{kgo.SASL(auth)},
				Properties: map[string]string{"offsets.topic.num.partitions": "1", "sasl.enabled.mechanisms": "SCRAM-SHA-512",
					"sasl.mechanism.inter.broker.protocol":                        "SCRAM-SHA-512",
					"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-secret-1";`}}
			if !kraft {
				addr, chroot := testenv.ZooKeeperChroot(t)
				opts.ZooKeeper = addr + chroot
			}
			c := newTestSupervisor(t, opts)
			defer c.Close()
			props, err := os.ReadFile(c.Status()[0].ConfigPath)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(props), "listeners=SASL_PLAINTEXT://") {
				t.Fatalf("server.properties does not name the listener SASL_PLAINTEXT:\n%s", props)
			}
			if st, err := os.Stat(c.Status()[0].ConfigPath); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("server.properties mode %v (%v), want 0600: it holds a password", st.Mode().Perm(), err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			seeds := strings.Split(c.BootstrapServers(), ",")
			bad, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequestRetries(0),
				kgo.SASL(scram.Auth{User: "admin", Pass: "wrong-password"}.AsSha512Mechanism()))
			if err != nil {
				t.Fatal(err)
			}
			pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
			if err := bad.Ping(pctx); err == nil {
				t.Error("a wrong password was accepted")
			}
			pcancel()
			bad.Close()
			cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.SASL(auth), kgo.DefaultProduceTopic("users"), kgo.AllowAutoTopicCreation())
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			testenv.WaitFor(t, 30*time.Second, func() error {
				return cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr()
			})
		})
	}
}
