package service

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// A secured KRaft runtime cluster made through the service: two combined nodes that listen SASL_SSL
// with a certificate from the cluster's own CA and start with the console's SCRAM-SHA-512 admin user
// in their bootstrap metadata. A franz-go client that trusts that CA alone and signs in with SCRAM
// produces to a topic replicated between the two brokers (inter-broker traffic on the same secured
// listener, as the brokers' own user) and consumes it back; a PLAINTEXT client, a client that does
// not trust the CA and a wrong password are refused; the console's collector, connected the same
// way, sees both brokers and the topic. The key material stays in owner-only files and out of the
// view.
func TestSecuredKRaftRuntimeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a runtime cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := Options{Store: newOpsTestStore(t), Logger: quietLog(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour, LogDirsInterval: time.Hour}}
	svc := New(opts)
	stop := sync.OnceFunc(svc.Stop)
	t.Cleanup(stop)
	who := Caller{Identity: Identity{Name: "test", Kind: "admin-token", Role: RoleAdmin}}
	view, err := svc.CreateRuntimeCluster(ctx, who, RuntimeRequest{Name: "ksec", Brokers: 2, MetadataStore: "kraft", Secured: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.DeleteRuntimeCluster(context.Background(), Caller{}, "ksec") })
	if view.SecurityProtocol != "SASL_SSL" || view.SASLMechanism != "SCRAM-SHA-512" || view.AdminUser != runtimeAdminUser {
		t.Fatalf("view %+v, want SASL_SSL, SCRAM-SHA-512 and %s", view, runtimeAdminUser)
	}
	svc.runtime.mu.Lock()
	sec := *svc.runtime.clusters["ksec"].sec
	svc.runtime.mu.Unlock()
	raw, _ := json.Marshal(view)
	for _, secret := range []string{sec.Password, sec.BrokerPassword, "PRIVATE KEY"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("the view shows a secret: %s", raw)
		}
	}
	dir := svc.runtimeDir("ksec")
	for _, f := range []string{runtimeSecurityFile, filepath.Join(runtimeTLSDir, runtimeCAKeyFile), filepath.Join(runtimeTLSDir, runtimeBrokerFile)} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", f, err, modeOf(st))
		}
	}
	seeds := strings.Split(view.Bootstrap, ",")
	caOnly := trustOnly(t, sec.pki.caFile())
	admin := scram.Auth{User: sec.User, Pass: sec.Password}.AsSha512Mechanism()

	refused := map[string][]kgo.Opt{
		"PLAINTEXT":          nil,
		"wrong password":     {kgo.DialTLSConfig(caOnly), kgo.SASL(scram.Auth{User: sec.User, Pass: "wrong-password"}.AsSha512Mechanism())},
		"CA not trusted":     {kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: x509.NewCertPool()}), kgo.SASL(admin)},
		"TLS without SASL":   {kgo.DialTLSConfig(caOnly)},
		"SASL without TLS":   {kgo.SASL(admin)},
		"unknown SCRAM user": {kgo.DialTLSConfig(caOnly), kgo.SASL(scram.Auth{User: "mallory", Pass: sec.Password}.AsSha512Mechanism())},
	}
	for name, opts := range refused {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.RequestRetries(0)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = kadm.NewClient(cl).ListTopics(pctx)
		pcancel()
		cl.Close()
		if err == nil {
			t.Errorf("%s: the cluster answered", name)
		}
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DialTLSConfig(caOnly), kgo.SASL(admin),
		kgo.DefaultProduceTopic("payments"), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ConsumeTopics("payments"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 2, nil, "payments"); err != nil {
		t.Fatal(err)
	}
	// acks=all on two replicas: the follower fetched over the secured listener.
	testenv.WaitFor(t, 30*time.Second, func() error {
		return cl.ProduceSync(ctx, &kgo.Record{Value: []byte("paid")}).FirstErr()
	})
	fetches := cl.PollRecords(ctx, 1)
	if err := fetches.Err(); err != nil {
		t.Fatal(err)
	}
	if recs := fetches.Records(); len(recs) != 1 || string(recs[0].Value) != "paid" {
		t.Fatalf("consumed %v, want the record produced", recs)
	}

	collectorSees(ctx, t, svc)
	svc.runtime.mu.Lock()
	sup := svc.runtime.clusters["ksec"].sup
	svc.runtime.mu.Unlock()
	for _, b := range sup.Status() {
		data, err := os.ReadFile(b.LogPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{sec.Password, sec.BrokerPassword} {
			if strings.Contains(string(data), secret) {
				t.Fatalf("broker %d's log holds a password", b.ID)
			}
		}
	}

	// A console restarted on the same data directory brings the cluster back secured: the
	// credentials and the CA are read back, the users are in the metadata log already.
	stop()
	svc2 := New(opts)
	t.Cleanup(svc2.Stop)
	t.Cleanup(func() { _ = svc2.DeleteRuntimeCluster(context.Background(), Caller{}, "ksec") })
	svc2.RestoreRuntimeClusters(ctx)
	if v, err := svc2.RuntimeCluster("ksec"); err != nil || v.SecurityProtocol != "SASL_SSL" {
		t.Fatalf("after a restart: %+v, %v", v, err)
	}
	collectorSees(ctx, t, svc2)
}

// collectorSees waits until the console's collector, connected as the admin over TLS, sees both
// brokers of ksec and its topic.
func collectorSees(ctx context.Context, t *testing.T, svc *Service) {
	t.Helper()
	testenv.WaitFor(t, 30*time.Second, func() error {
		snap, err := svc.PollNow(ctx, "ksec")
		if err != nil {
			return err
		}
		if len(snap.Cluster.Errors) > 0 {
			return fmt.Errorf("poll errors: %v", snap.Cluster.Errors)
		}
		if len(snap.Brokers) != 2 {
			return fmt.Errorf("the collector sees %d brokers", len(snap.Brokers))
		}
		if _, ok := snap.Topic("payments"); !ok {
			return errors.New("the collector does not see the topic")
		}
		return nil
	})
}

// trustOnly is a TLS configuration whose only root is the CA in file.
func trustOnly(t *testing.T, file string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", file)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
}

func modeOf(st fs.FileInfo) fs.FileMode {
	if st == nil {
		return 0
	}
	return st.Mode().Perm()
}
