package broker

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	kscram "github.com/twmb/franz-go/pkg/sasl/scram"
)

// SCRAM-SHA-256 and -512 over SASL_PLAINTEXT, end to end, with clients
// nobody here wrote: franz-go's sasl/scram, kcat (librdkafka) and
// kafka-python. The users are made with AlterUserScramCredentials through
// a PLAINTEXT listener, as an operator would before closing it.

// scramBroker is one broker with a PLAINTEXT listener (for the admin) and a
// SASL_PLAINTEXT listener offering both SCRAM mechanisms, and the SCRAM
// users alice (SHA-256) and bob (SHA-512, 8192 iterations).
func scramBroker(t *testing.T) *Broker {
	t.Helper()
	b := newTestBroker(t, withDir(t.TempDir()), withSecurity(t, "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", map[string]string{
		"sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512",
	}))
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.ListenerAddr("PLAINTEXT")))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	altered, err := kadm.NewClient(cl).AlterUserSCRAMs(testCtx(t, 30*time.Second), nil, []kadm.UpsertSCRAM{
		{User: "alice", Mechanism: kadm.ScramSha256, Password: "alice-secret"},
		{User: "bob", Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "bob-secret"},
	})
	if err != nil || !altered.Ok() {
		t.Fatalf("creating SCRAM users: %v %+v", err, altered)
	}
	return b
}

func scramClient(t *testing.T, addr, mech, user, pass string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	auth := kscram.Auth{User: user, Pass: pass}
	m := auth.AsSha256Mechanism()
	if mech == "SCRAM-SHA-512" {
		m = auth.AsSha512Mechanism()
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.SASL(m), kgo.AllowAutoTopicCreation()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestSCRAMFranzGo(t *testing.T) {
	b := scramBroker(t)
	addr := b.ListenerAddr("SASL_PLAINTEXT")
	ctx := testCtx(t, 60*time.Second)
	for _, u := range []struct{ mech, user, pass string }{
		{"SCRAM-SHA-256", "alice", "alice-secret"},
		{"SCRAM-SHA-512", "bob", "bob-secret"},
	} {
		topic := "scram-" + u.user
		cl := scramClient(t, addr, u.mech, u.user, u.pass, kgo.ConsumeTopics(topic))
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("hi " + u.user)}).FirstErr(); err != nil {
			t.Fatalf("%s %s produce: %v", u.mech, u.user, err)
		}
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil || fs.NumRecords() != 1 || string(fs.Records()[0].Value) != "hi "+u.user {
			t.Fatalf("%s %s consume: %v, %d records", u.mech, u.user, err, fs.NumRecords())
		}
		if ps := connPrincipals(b, "SASL_PLAINTEXT"); !containsString(ps, "User:"+u.user) {
			t.Fatalf("principals %v, want User:%s", ps, u.user)
		}
	}
	for _, bad := range []struct{ mech, user, pass string }{
		{"SCRAM-SHA-256", "alice", "wrong"},
		{"SCRAM-SHA-512", "alice", "alice-secret"}, // alice has no SHA-512 credential
		{"SCRAM-SHA-256", "nobody", "x"},
	} {
		err := scramClient(t, addr, bad.mech, bad.user, bad.pass, kgo.RequestRetries(0)).Ping(ctx)
		if !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("%s %s/%s: %v, want SASL_AUTHENTICATION_FAILED", bad.mech, bad.user, bad.pass, err)
		}
		if strings.Contains(err.Error(), bad.pass) {
			t.Fatalf("the refusal repeats the password: %v", err)
		}
	}
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestKcatSCRAM(t *testing.T) {
	b := scramBroker(t)
	addr := b.ListenerAddr("SASL_PLAINTEXT")
	ctx := testCtx(t, 120*time.Second)
	args := func(mech, user, pass string) []string {
		return []string{"-b", addr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=" + mech,
			"-X", "sasl.username=" + user, "-X", "sasl.password=" + pass}
	}
	for _, u := range []struct{ mech, user, pass string }{
		{"SCRAM-SHA-256", "alice", "alice-secret"},
		{"SCRAM-SHA-512", "bob", "bob-secret"},
	} {
		topic := "kc-scram-" + u.user
		runKcat(t, ctx, "k1:v1\nk2:v2\n", append(args(u.mech, u.user, u.pass), "-P", "-t", topic, "-K:")...)
		msgs := parseKcatJSON(t, runKcat(t, ctx, "", append(args(u.mech, u.user, u.pass), "-C", "-t", topic, "-e", "-J", "-o", "beginning")...))
		if len(msgs) != 2 || msgs[0].Payload != "v1" || msgs[1].Key != "k2" {
			t.Fatalf("kcat %s consumed %+v", u.mech, msgs)
		}
	}
	stderr := kcatFails(t, ctx, append(args("SCRAM-SHA-512", "bob", "wrong"), "-L", "-m", "5")...)
	if !strings.Contains(stderr, "Authentication failed") && !strings.Contains(stderr, "SASL") {
		t.Errorf("kcat with a wrong password: %s", stderr)
	}
}

func TestKafkaPythonSCRAM(t *testing.T) {
	b := scramBroker(t)
	addr := b.ListenerAddr("SASL_PLAINTEXT")
	ctx := testCtx(t, 180*time.Second)
	opts := func(mech, user, pass string) string {
		return fmt.Sprintf(`{"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": %q, "sasl_plain_username": %q, "sasl_plain_password": %q}`,
			mech, user, pass)
	}
	for _, u := range []struct{ mech, user, pass string }{
		{"SCRAM-SHA-256", "alice", "alice-secret"},
		{"SCRAM-SHA-512", "bob", "bob-secret"},
	} {
		out, err := runKafkaPython(t, ctx, addr, "py-scram-"+u.user, opts(u.mech, u.user, u.pass))
		if err != nil || out != "py-0,py-1,py-2" {
			t.Fatalf("kafka-python %s: %q, %v", u.mech, out, err)
		}
	}
	failures := counterValue(b.authFails.failures.WithLabelValues("SASL_PLAINTEXT"))
	wrong := strings.TrimSuffix(opts("SCRAM-SHA-256", "alice", "nope"), "}") + `, "max_block_ms": 3000}`
	if _, err := runKafkaPython(t, ctx, addr, "py-scram-alice", wrong); err == nil {
		t.Fatal("kafka-python with a wrong password succeeded")
	}
	if n := counterValue(b.authFails.failures.WithLabelValues("SASL_PLAINTEXT")) - failures; n < 1 {
		t.Errorf("kafka-python's wrong password: %v failures counted", n)
	}
}

// Brokers whose inter-broker listener authenticates with SCRAM-SHA-512
// (ScramLoginModule) replicate once their user exists: made with
// AlterUserScramCredentials on the PLAINTEXT listener, it reaches every
// broker through /config/users or the KRaft image, and the followers'
// fetches (and in ZooKeeper mode the controller's requests) log in with it.
func TestInterBrokerSCRAMReplication(t *testing.T) {
	props := map[string]string{
		"listener.security.protocol.map":                        "PLAINTEXT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
		"inter.broker.listener.name":                            "INTERNAL",
		"sasl.enabled.mechanisms":                               "SCRAM-SHA-512",
		"sasl.mechanism.inter.broker.protocol":                  "SCRAM-SHA-512",
		"listener.name.internal.scram-sha-512.sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="broker-secret";`,
	}
	createUser := func(t *testing.T, c *testCluster) {
		ctx := testCtx(t, 30*time.Second)
		altered, err := c.admin().AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
			{User: "broker", Mechanism: kadm.ScramSha512, Password: "broker-secret"}})
		if err != nil || !altered.Ok() {
			t.Fatalf("creating the inter-broker user: %v %+v", err, altered)
		}
	}
	t.Run("zookeeper", func(t *testing.T) {
		c := newTestCluster(t, 3, localConnector(t), withSecurity(t, "PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0", props))
		createUser(t, c)
		testInterBrokerSASL(t, c)
	})
	t.Run("kraft", func(t *testing.T) {
		c := newKRaftTestCluster(t, 3, func(cfg *Config) {
			withSecurity(t, strings.Join(append(cfg.Listeners, "INTERNAL://127.0.0.1:0"), ","), props)(cfg)
		})
		createUser(t, c)
		testInterBrokerSASL(t, c)
	})
}
