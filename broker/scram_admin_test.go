package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	kscram "github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/osprey-kafka/osprey/broker/kraft/metaprops"
	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/sasl"
	"github.com/osprey-kafka/osprey/broker/zkdata"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// SCRAM users through kadm (AlterUserSCRAMs / DescribeUserSCRAMs), in every
// metadata mode: the credentials a broker then authenticates with are the
// ones the client's password derives.

func TestScramUsersSingleBroker(t *testing.T) {
	dir := t.TempDir()
	b := newTestBroker(t, withDir(dir))
	testScramUsers(t, []string{b.Addr()}, func() []*Broker { return []*Broker{b} })
	// The credentials survive a restart (osprey-scram.json), and the file
	// holds no password.
	b.Close()
	b2 := newTestBroker(t, withDir(dir))
	if _, ok := b2.view().(sasl.CredentialLookup).ScramCredential("bob", sasl.ScramSHA256); !ok {
		t.Fatal("bob's credential is gone after a restart")
	}
}

func TestScramUsersZooKeeperLocalStore(t *testing.T) {
	testScramUsersZK(t, localConnector(t))
}

func TestScramUsersZooKeeper(t *testing.T) {
	testScramUsersZK(t, zkConnector(t))
}

func TestScramUsersKRaft(t *testing.T) {
	c := newKRaftTestCluster(t, 3)
	testScramUsers(t, c.addrs(), c.running)
}

func testScramUsersZK(t *testing.T, conn metastore.Connector) {
	c := newTestCluster(t, 3, conn)
	testScramUsers(t, c.addrs(), c.running)

	// /config/users/bob as Kafka writes it, with a change notification.
	s, err := conn.Connect(testCtx(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := testCtx(t, 10*time.Second)
	data, _, err := s.Get(ctx, "/config/users/bob")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), `{"version":1,"config":{"SCRAM-SHA-256":"salt=`) {
		t.Fatalf("/config/users/bob = %s", data)
	}
	cfg, err := zkdata.DecodeConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := zkdata.DecodeScramCredential(cfg["SCRAM-SHA-256"])
	if err != nil || cred.Iterations != 8192 || len(cred.Salt) == 0 || len(cred.StoredKey) != 32 || len(cred.ServerKey) != 32 {
		t.Fatalf("bob's credential: %+v, %v", cred, err)
	}
	want, _ := sasl.NewCredential(sasl.ScramSHA256, "bob-secret", cred.Salt, 8192)
	if string(want.StoredKey) != string(cred.StoredKey) {
		t.Fatal("stored_key is not bob's password's")
	}
	changes, _, err := s.Children(ctx, zkdata.ConfigChangesPath)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ch := range changes {
		d, _, err := s.Get(ctx, zkdata.ConfigChangesPath+"/"+ch)
		if err == nil && string(d) == `{"version":2,"entity_path":"users/bob"}` {
			found = true
		}
	}
	if !found {
		t.Fatalf("no users/bob notification among %v", changes)
	}

	// The node is shared with client quotas: a credential change keeps them.
	cfg["producer_byte_rate"] = "1048576"
	if _, err := s.Set(ctx, "/config/users/bob", zkdata.EncodeConfig(cfg), -1); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	altered, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "bob", Mechanism: kadm.ScramSha512, Password: "bob-512"}})
	if err != nil || !altered.Ok() {
		t.Fatalf("alter bob 512: %v %+v", err, altered)
	}
	data, _, err = s.Get(ctx, "/config/users/bob")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = zkdata.DecodeConfig(data); err != nil || cfg["producer_byte_rate"] != "1048576" || cfg["SCRAM-SHA-256"] == "" || cfg["SCRAM-SHA-512"] == "" {
		t.Fatalf("/config/users/bob after a second credential: %v (%v)", cfg, err)
	}
}

// testScramUsers drives the admin APIs through the brokers at seeds and
// checks that every broker of brokers() authenticates with the result.
func testScramUsers(t *testing.T, seeds []string, brokers func() []*Broker) {
	ctx := testCtx(t, 90*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	altered, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: "alice", Mechanism: kadm.ScramSha256, Password: "alice-secret"},
		{User: "bob", Mechanism: kadm.ScramSha256, Iterations: 8192, Password: "bob-secret"},
	})
	if err != nil || !altered.Ok() {
		t.Fatalf("alter: %v %+v", err, altered)
	}
	altered, err = adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "alice", Mechanism: kadm.ScramSha512, Password: "alice-512"}})
	if err != nil || !altered.Ok() {
		t.Fatalf("alter alice 512: %v %+v", err, altered)
	}

	// A KRaft broker describes from its own image, which may lag the one
	// that took the change by a moment: every broker must get there.
	waitDescribe(t, ctx, adm, "[SCRAM-SHA-256=iterations=4096 SCRAM-SHA-512=iterations=4096] [SCRAM-SHA-256=iterations=8192] 2",
		func(d kadm.DescribedUserSCRAMs) string {
			return fmt.Sprint(d["alice"].CredInfos, d["bob"].CredInfos, len(d))
		})
	described, err := adm.DescribeUserSCRAMs(ctx, "bob", "carol")
	if err != nil || described["bob"].Err != nil || !errors.Is(described["carol"].Err, kerr.ResourceNotFound) {
		t.Fatalf("describe bob, carol: %v %+v", err, described)
	}

	// Every broker authenticates alice and bob with their passwords.
	waitScramLogin(t, brokers, sasl.ScramSHA256, "alice", "alice-secret", true)
	waitScramLogin(t, brokers, sasl.ScramSHA512, "alice", "alice-512", true)
	waitScramLogin(t, brokers, sasl.ScramSHA256, "bob", "bob-secret", true)
	waitScramLogin(t, brokers, sasl.ScramSHA256, "bob", "alice-secret", false)

	// Kafka's refusals, sent raw (kadm checks some of them itself).
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	add := func(user string, mech int8, iterations int32) {
		u := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
		u.Name, u.Mechanism, u.Iterations, u.Salt, u.SaltedPassword = user, mech, iterations, []byte("salt"), []byte("salted")
		req.Upsertions = append(req.Upsertions, u)
	}
	add("few", 1, 1000)
	add("unknown-mech", 3, 4096)
	add("", 1, 4096)
	add("twice", 1, 4096)
	add("twice", 1, 4096)
	d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
	d.Name, d.Mechanism = "ghost", 1
	req.Deletions = append(req.Deletions, d)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int16{}
	for _, r := range resp.Results {
		codes[r.User] = r.ErrorCode
	}
	want := map[string]int16{"few": kerr.UnacceptableCredential.Code, "unknown-mech": kerr.UnsupportedSaslMechanism.Code,
		"": kerr.UnacceptableCredential.Code, "twice": kerr.DuplicateResource.Code, "ghost": kerr.ResourceNotFound.Code}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("refusals %v, want %v", codes, want)
	}

	// Deleting one mechanism leaves the other; alice's 512 login stops.
	altered, err = adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: "alice", Mechanism: kadm.ScramSha512}}, nil)
	if err != nil || !altered.Ok() {
		t.Fatalf("delete alice 512: %v %+v", err, altered)
	}
	waitDescribe(t, ctx, adm, "[SCRAM-SHA-256=iterations=4096]", func(d kadm.DescribedUserSCRAMs) string {
		return fmt.Sprint(d["alice"].CredInfos)
	}, "alice")
	waitScramLogin(t, brokers, sasl.ScramSHA512, "alice", "alice-512", false)
}

// waitDescribe waits until DescribeUserSCRAMs of users (none: all), as
// show prints it, is want on every broker the client asks.
func waitDescribe(t *testing.T, ctx context.Context, adm *kadm.Client, want string, show func(kadm.DescribedUserSCRAMs) string, users ...string) {
	t.Helper()
	testenv.WaitFor(t, 30*time.Second, func() error {
		for range 3 { // kgo spreads admin requests over the brokers
			d, err := adm.DescribeUserSCRAMs(ctx, users...)
			if err != nil {
				return err
			}
			if err := d.Error(); err != nil {
				return err
			}
			if got := show(d); got != want {
				return fmt.Errorf("described %s, want %s", got, want)
			}
		}
		return nil
	})
}

// waitScramLogin waits until every broker's SCRAM mechanism, fed its own
// credentials, lets user in with password (ok) or refuses it (!ok), as
// franz-go's SCRAM client sees it.
func waitScramLogin(t *testing.T, brokers func() []*Broker, mech, user, password string, ok bool) {
	t.Helper()
	testenv.WaitFor(t, 30*time.Second, func() error {
		for _, b := range brokers() {
			lookup, isLookup := b.view().(sasl.CredentialLookup)
			if !isLookup {
				return fmt.Errorf("broker %d's cluster keeps no credentials", b.cfg.BrokerID)
			}
			m, err := sasl.NewScram(mech, lookup)
			if err != nil {
				return err
			}
			err = scramLogin(m, user, password)
			if ok && err != nil {
				return fmt.Errorf("broker %d: %s %s: %v", b.cfg.BrokerID, mech, user, err)
			}
			if !ok && err == nil {
				return fmt.Errorf("broker %d: %s %s logged in with the wrong password", b.cfg.BrokerID, mech, user)
			}
		}
		return nil
	})
}

func scramLogin(m sasl.Mechanism, user, password string) error {
	auth := kscram.Auth{User: user, Pass: password}
	client := auth.AsSha256Mechanism()
	if m.Name() == sasl.ScramSHA512 {
		client = auth.AsSha512Mechanism()
	}
	sess, msg, err := client.Authenticate(context.Background(), "broker")
	if err != nil {
		return err
	}
	ex := m.Start()
	for {
		out, done, err := ex.Step(msg)
		if err != nil {
			return err
		}
		cdone, next, err := sess.Challenge(out)
		if err != nil {
			return err
		}
		if done {
			if !cdone {
				return errors.New("server done before the client")
			}
			return nil
		}
		msg = next
	}
}

// TestScramBootstrapUsersKRaft: a KRaft node formatted with --add-scram
// starts with the user, before any admin request.
func TestScramBootstrapUsersKRaft(t *testing.T) {
	ports := freePorts(t, 2)
	props := map[string]string{
		"process.roles":                         "broker,controller",
		"node.id":                               "1",
		"controller.quorum.voters":              fmt.Sprintf("1@127.0.0.1:%d", ports[1]),
		"controller.listener.names":             "CONTROLLER",
		"listeners":                             fmt.Sprintf("PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", ports[0], ports[1]),
		"log.dirs":                              t.TempDir(),
		"controller.quorum.election.timeout.ms": "500",
		"controller.quorum.fetch.timeout.ms":    "1000",
	}
	cfg, err := ConfigFromProperties(props, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OffsetsTopicPartitions, cfg.OffsetsTopicReplicationFactor = 1, 1
	recs, err := metaprops.ParseAddScram([]string{"SCRAM-SHA-512=[name=admin,password=admin-secret,iterations=8192]"})
	if err != nil {
		t.Fatal(err)
	}
	err = metaprops.Format(metaprops.FormatOptions{ClusterID: "T3NwcmV5S1JhZnRUZXN0MQ", NodeID: 1, Directories: cfg.LogDirs,
		MetadataLogDir: cfg.MetadataDir(), ControllerListenerName: "CONTROLLER", Scram: recs})
	if err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, brokers: make([]*Broker, 1), cfgs: []Config{cfg}}
	c.startAll()
	waitScramLogin(t, c.running, sasl.ScramSHA512, "admin", "admin-secret", true)
	waitScramLogin(t, c.running, sasl.ScramSHA512, "admin", "wrong", false)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	d, err := kadm.NewClient(cl).DescribeUserSCRAMs(testCtx(t, 30*time.Second))
	if err != nil || fmt.Sprint(d["admin"].CredInfos) != "[SCRAM-SHA-512=iterations=8192]" {
		t.Fatalf("describe: %v %+v", err, d)
	}
}

// TestScramAdminNeedsClusterACLs: with an authorizer, describing needs
// DESCRIBE and altering ALTER on the cluster, as in Kafka.
func TestScramAdminNeedsClusterACLs(t *testing.T) {
	b := newTestBroker(t, withDir(t.TempDir()), withAuthorizer())
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t, 30*time.Second)
	adm := kadm.NewClient(cl)
	if _, err := adm.DescribeUserSCRAMs(ctx); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("describe as ANONYMOUS: %v", err)
	}
	if _, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "x", Mechanism: kadm.ScramSha256, Password: "p"}}); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alter as ANONYMOUS: %v", err)
	}
	if _, ok := b.view().(sasl.CredentialLookup).ScramCredential("x", sasl.ScramSHA256); ok {
		t.Fatal("a refused alter stored a credential")
	}
}
