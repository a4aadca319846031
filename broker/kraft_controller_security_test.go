package broker

import (
	"context"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// controllerJAAS is the CONTROLLER listener's PLAIN config: the node's own
// credentials towards the others, and the users the listener accepts.
func controllerJAAS(password string) string {
	return `org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="` + password +
		`" user_controller="ctl-secret" user_intruder="intruder-secret";`
}

// Three controller-only nodes and a broker whose CONTROLLER listener is
// SASL_SSL with PLAIN and an ACL authorizer (only User:controller is a super
// user; the broker has only the client side: a truststore and its
// credentials): the quorum elects a leader, the broker registers and heartbeats,
// a topic is created through the broker (forwarded to the controller) and
// serves a franz-go producer and consumer. Controller 103 has the wrong
// password: it never gets any metadata. On the listener a wrong password
// is answered SASL_AUTHENTICATION_FAILED, a user that authenticates but
// is no super user gets CLUSTER_AUTHORIZATION_FAILED, and a request before
// authentication closes the connection.
func TestKRaftControllerListenerSASLSSL(t *testing.T) {
	pki := newTestPKI(t)
	certs := map[int]issued{}
	for _, id := range []int{1, 101, 102, 103} {
		certs[id] = pki.issue("node"+strconv.Itoa(id), pkix.Name{CommonName: "node-" + strconv.Itoa(id), Organization: []string{"osprey"}})
	}
	extra := func(id int) map[string]string {
		password := "ctl-secret"
		if id == 103 {
			password = "wrong-secret"
		}
		props := map[string]string{
			"listener.security.protocol.map":                   "PLAINTEXT:PLAINTEXT,CONTROLLER:SASL_SSL",
			"listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
			"sasl.mechanism.controller.protocol":               "PLAIN",
			"listener.name.controller.plain.sasl.jaas.config":  controllerJAAS(password),
			"listener.name.controller.ssl.keystore.type":       "PEM",
			"listener.name.controller.ssl.keystore.location":   certs[id].bundleFile,
			"listener.name.controller.ssl.truststore.type":     "PEM",
			"listener.name.controller.ssl.truststore.location": pki.caFile,
		}
		props["authorizer.class.name"] = standardAuthorizerClass
		props["super.users"] = "User:controller"
		if id < splitControllerIDBase {
			// The test's data clients are anonymous on PLAINTEXT.
			props["super.users"] = "User:controller;User:ANONYMOUS"
			// A broker only dials the controllers: it needs no keystore and offers no mechanism.
			delete(props, "listener.name.controller.ssl.keystore.location")
			delete(props, "listener.name.controller.ssl.keystore.type")
			delete(props, "listener.name.controller.sasl.enabled.mechanisms")
		}
		return props
	}
	c, ctls := newKRaftSplitProps(t, 3, 1, extra)
	ctx := testCtx(t, 45*time.Second)

	// The broker registered (startAll waited for it); the leader is one of
	// the two controllers with the right password.
	leader, _ := ctls[0].node.Quorum()
	if leader != 101 && leader != 102 {
		t.Fatalf("quorum leader %d; want 101 or 102", leader)
	}
	produceConsume(ctx, t, c, "secured-controller", 1)

	if off, mv := ctls[2].node.Offset(), ctls[2].node.Image().MetadataVersion(); off != -1 || mv != 0 {
		t.Errorf("controller 103 (wrong password) replayed up to offset %d, metadata.version %d; want nothing", off, mv)
	}

	addr := ctls[0].Addr()
	tlsCfg := pki.clientTLS(nil)
	_, err := dialKafka(ctx, addr, "test", &clientSecurity{tls: tlsCfg, mech: plain.Auth{User: "controller", Pass: "nope"}.AsMechanism()})
	if !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("wrong password: %v; want SASL_AUTHENTICATION_FAILED", err)
	}

	intruder, err := dialKafka(ctx, addr, "test", &clientSecurity{tls: tlsCfg, mech: plain.Auth{User: "intruder", Pass: "intruder-secret"}.AsMechanism()})
	if err != nil {
		t.Fatalf("intruder authenticates: %v", err)
	}
	defer intruder.Close()
	if code := describeQuorumCode(ctx, t, intruder); code != kerr.ClusterAuthorizationFailed.Code {
		t.Errorf("DescribeQuorum as User:intruder: %v; want CLUSTER_AUTHORIZATION_FAILED", kerr.ErrorForCode(code))
	}
	reg := kmsg.NewPtrBrokerRegistrationRequest()
	reg.BrokerID = 9
	resp, err := rawDo(ctx, intruder, reg)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.(*kmsg.BrokerRegistrationResponse).ErrorCode; code != kerr.ClusterAuthorizationFailed.Code {
		t.Errorf("BrokerRegistration as User:intruder: %v; want CLUSTER_AUTHORIZATION_FAILED", kerr.ErrorForCode(code))
	}
	// An ACL written through the broker reaches the controllers' authorizer
	// from the metadata log: DESCRIBE on the cluster lets DescribeQuorum in,
	// and does not imply CLUSTER_ACTION.
	mustCreateACLs(ctx, t, c.admin(), kadm.NewACLs().Allow("User:intruder").AllowHosts("*").Clusters().
		Operations(kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral))
	testenv.WaitFor(t, 10*time.Second, func() error {
		if code := describeQuorumCode(ctx, t, intruder); code != 0 {
			return fmt.Errorf("DescribeQuorum as User:intruder with an ACL: %w", kerr.ErrorForCode(code))
		}
		return nil
	})
	if resp, err = rawDo(ctx, intruder, reg); err != nil || resp.(*kmsg.BrokerRegistrationResponse).ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Errorf("BrokerRegistration as User:intruder with DESCRIBE: %v %+v; want CLUSTER_AUTHORIZATION_FAILED", err, resp)
	}

	admin, err := dialKafka(ctx, addr, "test", &clientSecurity{tls: tlsCfg, mech: plain.Auth{User: "controller", Pass: "ctl-secret"}.AsMechanism()})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if code := describeQuorumCode(ctx, t, admin); code != 0 {
		t.Errorf("DescribeQuorum as the super user: %v", kerr.ErrorForCode(code))
	}

	anon, err := dialKafka(ctx, addr, "test", &clientSecurity{tls: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if _, err := rawDo(ctx, anon, describeQuorumReq()); err == nil {
		t.Error("DescribeQuorum before SASL authentication answered; want the connection closed")
	}

	// An old client: SaslHandshake v0, then the PLAIN message as a bare token.
	v0, err := dialKafka(ctx, addr, "test", &clientSecurity{tls: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	defer v0.Close()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Mechanism = "PLAIN"
	if resp, err := rawDo(ctx, v0, hs); err != nil || resp.(*kmsg.SASLHandshakeResponse).ErrorCode != 0 {
		t.Fatalf("SaslHandshake v0: %v %+v", err, resp)
	}
	token := []byte("\x00controller\x00ctl-secret")
	if _, err := v0.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(token))), token...)); err != nil {
		t.Fatal(err)
	}
	if _, err := kafkawire.ReadFrame(v0.c, 0, 1024); err != nil {
		t.Fatalf("reading the answer token: %v", err)
	}
	if code := describeQuorumCode(ctx, t, v0); code != 0 {
		t.Errorf("DescribeQuorum after a v0 handshake: %v", kerr.ErrorForCode(code))
	}
}

// Three combined nodes whose CONTROLLER listener is SSL with mutual TLS:
// the principal is the client certificate's, mapped by
// ssl.principal.mapping.rules. The quorum elects a leader, the brokers
// register, a replicated topic serves franz-go; a client without a
// certificate is refused, and a certificate the rules map to a principal
// that is no super user gets CLUSTER_AUTHORIZATION_FAILED.
func TestKRaftControllerListenerMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	props := func(cfg *Config) map[string]string {
		node := pki.issue("node"+strconv.Itoa(int(cfg.NodeID)), pkix.Name{CommonName: "controller", Organization: []string{"osprey"}})
		return map[string]string{
			"listener.security.protocol.map":                       "PLAINTEXT:PLAINTEXT,CONTROLLER:SSL",
			"listener.name.controller.ssl.keystore.type":           "PEM",
			"listener.name.controller.ssl.keystore.location":       node.bundleFile,
			"listener.name.controller.ssl.truststore.type":         "PEM",
			"listener.name.controller.ssl.truststore.location":     pki.caFile,
			"listener.name.controller.ssl.client.auth":             "required",
			"listener.name.controller.ssl.principal.mapping.rules": "RULE:^CN=([a-z]+),O=osprey$/$1/",
		}
	}
	c := newKRaftTestCluster(t, 3, func(cfg *Config) {
		withSecurity(t, strings.Join(cfg.Listeners, ","), props(cfg))(cfg)
		// The data clients here are anonymous; on the controller listener a
		// certificate is required, so only mapped principals arrive there.
		for k, v := range map[string]string{"authorizer.class.name": standardAuthorizerClass, "super.users": "User:controller;User:ANONYMOUS"} {
			if _, err := cfg.parseAuthzProperty(k, v); err != nil {
				t.Fatal(err)
			}
		}
	})
	ctx := testCtx(t, 45*time.Second)
	// startAll waited for the three brokers to register with the active controller.
	if l, _ := c.brokers[0].cluster.(*kraftCluster).node.Quorum(); l < 1 || l > 3 {
		t.Fatalf("quorum leader %d; want one of the nodes", l)
	}
	produceConsume(ctx, t, c, "mtls-controller", 3)

	addr := c.cfgs[0].ControllerListeners[0][len("CONTROLLER://"):]
	if k, err := dialKafka(ctx, addr, "test", &clientSecurity{tls: pki.clientTLS(nil)}); err == nil {
		_, err = rawDo(ctx, k, describeQuorumReq())
		k.Close()
		if err == nil {
			t.Error("a client without a certificate was answered; want the TLS handshake refused")
		}
	}
	intruderCert := pki.issue("intruder", pkix.Name{CommonName: "intruder", Organization: []string{"osprey"}})
	intruder, err := dialKafka(ctx, addr, "test", &clientSecurity{tls: pki.clientTLS(&intruderCert)})
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Close()
	if code := describeQuorumCode(ctx, t, intruder); code != kerr.ClusterAuthorizationFailed.Code {
		t.Errorf("DescribeQuorum as User:intruder: %v; want CLUSTER_AUTHORIZATION_FAILED", kerr.ErrorForCode(code))
	}
}

// The controller listener's settings are checked at start, each refusal
// naming the key to fix.
func TestKRaftControllerListenerConfigRefusals(t *testing.T) {
	base := map[string]string{
		"process.roles": "broker,controller", "node.id": "1", "controller.quorum.voters": "1@127.0.0.1:9093",
		"controller.listener.names": "CONTROLLER", "listeners": "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
		"log.dirs":                       t.TempDir(),
		"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
		"listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
		"listener.name.controller.plain.sasl.jaas.config":  controllerJAAS("ctl-secret"),
		"sasl.mechanism.controller.protocol":               "PLAIN",
	}
	cases := []struct {
		name    string
		set     map[string]string
		del     string
		wantKey string
	}{
		{name: "accepted"},
		{name: "GSSAPI default", del: "sasl.mechanism.controller.protocol", wantKey: "sasl.mechanism.controller.protocol"},
		{name: "SCRAM client", set: map[string]string{"sasl.mechanism.controller.protocol": "SCRAM-SHA-512"}, wantKey: "sasl.mechanism.controller.protocol=SCRAM-SHA-512"},
		{name: "SCRAM enabled", set: map[string]string{"listener.name.controller.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256"},
			wantKey: "listener.name.controller.sasl.enabled.mechanisms"},
		{name: "no username", set: map[string]string{"listener.name.controller.plain.sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required user_controller="x";`},
			wantKey: "listener.name.controller.plain.sasl.jaas.config"},
		{name: "TLS without keystore", set: map[string]string{"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:SSL"},
			wantKey: "keystore.location"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			props := maps.Clone(base)
			maps.Copy(props, tc.set)
			delete(props, tc.del)
			_, err := ConfigFromProperties(props, testLogger(t))
			switch {
			case tc.wantKey == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantKey != "" && (err == nil || !strings.Contains(err.Error(), tc.wantKey)):
				t.Fatalf("err %v; want a refusal naming %s", err, tc.wantKey)
			case err != nil && strings.Contains(err.Error(), "ctl-secret"):
				t.Fatalf("the error shows a password: %v", err)
			}
		})
	}
}

// produceConsume creates topic (replication factor rf) through the
// cluster, produces 50 records with franz-go and reads them back.
func produceConsume(ctx context.Context, t *testing.T, c *testCluster, topic string, rf int16) {
	t.Helper()
	if _, err := c.admin().CreateTopic(ctx, 3, rf, nil, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	c.waitFullISR(topic, 20*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var want []string
	for i := range 50 {
		v := fmt.Sprintf("r%02d", i)
		want = append(want, v)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	var got []string
	for len(got) < len(want) && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil && ctx.Err() == nil {
			t.Fatalf("consume: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("consumed %d records %v; want the 50 produced", len(got), got)
	}
}

func describeQuorumReq() *kmsg.DescribeQuorumRequest {
	req := kmsg.NewPtrDescribeQuorumRequest()
	req.Version = 2
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = append(rt.Partitions, kmsg.NewDescribeQuorumRequestTopicPartition())
	req.Topics = append(req.Topics, rt)
	return req
}

// describeQuorumCode sends DescribeQuorum on k and returns its top-level error code.
func describeQuorumCode(ctx context.Context, t *testing.T, k *kafkaConn) int16 {
	t.Helper()
	resp, err := rawDo(ctx, k, describeQuorumReq())
	if err != nil {
		t.Fatalf("DescribeQuorum: %v", err)
	}
	return resp.(*kmsg.DescribeQuorumResponse).ErrorCode
}
