package broker

import (
	"context"
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// The same loads as BenchmarkProduce and BenchmarkFetch over a SASL_SSL
// listener (PLAIN, TLS 1.3): the cost of encryption, and of fetching
// without sendfile.

func benchSecureTopic(b *testing.B) (*Broker, []kgo.Opt) {
	pki := newTestPKI(b)
	srv := pki.issue("broker", pkix.Name{CommonName: "broker"})
	br := newTestBroker(b, withDir(b.TempDir()), withSecurity(b, "SASL_SSL://127.0.0.1:0", map[string]string{
		"sasl.enabled.mechanisms":                       "PLAIN",
		"listener.name.sasl_ssl.plain.sasl.jaas.config": plainJAAS(nil),
		"ssl.keystore.location":                         srv.bundleFile,
	}))
	opts := []kgo.Opt{kgo.SeedBrokers(br.Addr()), kgo.DialTLSConfig(pki.clientTLS(nil)),
		kgo.SASL(plain.Auth{User: "admin", Pass: "admin-secret"}.AsMechanism())}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 4, 1, nil, "bench"); err != nil {
		b.Fatal(err)
	}
	return br, opts
}

func BenchmarkProduceSASLSSL(b *testing.B) {
	_, opts := benchSecureTopic(b)
	b.SetBytes(benchRecordSize)
	b.ResetTimer()
	benchProduceWith(b, opts, b.N)
}

func BenchmarkFetchSASLSSL(b *testing.B) {
	_, opts := benchSecureTopic(b)
	benchProduceWith(b, opts, b.N)
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics("bench"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(16<<20), kgo.FetchMaxPartitionBytes(4<<20))...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.SetBytes(benchRecordSize)
	b.ResetTimer()
	for n := 0; n < b.N; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("consumed %d of %d", n, b.N)
		}
		fs.EachError(func(t string, p int32, err error) { b.Fatalf("fetch %s/%d: %v", t, p, err) })
		n += fs.NumRecords()
	}
}
