package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/osprey-kafka/osprey/broker"
)

// The security section measures what TLS and SASL cost on one broker that
// serves PLAINTEXT, SSL, SASL_SSL and SASL_PLAINTEXT listeners at once, so
// each secured figure and its PLAINTEXT reference come from the same broker,
// the same topic and the same minutes: produce over SASL_SSL (SCRAM-SHA-256,
// TLS with a CA made here), fetch over SSL (no sendfile under TLS), and how
// many SCRAM authentications a pool of connections completes per second.

const (
	secBenchTopic   = "bench-security"
	secBenchUser    = "bench"
	secBenchPass    = "bench-secret-password"
	secBenchIters   = 8192 // kadm's default for a new SCRAM credential
	secAuthParallel = 8
)

// secBroker is the secured broker and the client options for each listener.
type secBroker struct {
	b        *broker.Broker
	plain    []string // PLAINTEXT bootstrap
	ssl      []string
	saslSSL  []string
	saslTCP  []string // SASL_PLAINTEXT: SCRAM without TLS, for the authentication rate
	tls      *tls.Config
	scramMec kgo.Opt
}

func (s *secBroker) close() { _ = s.b.Close() }

// benchCA makes a CA and a server certificate for 127.0.0.1, writes the
// server's key and chain as a PEM keystore under dir, and returns the client
// TLS config that trusts the CA.
func benchCA(dir string) (keystore string, client *tls.Config, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", nil, fmt.Errorf("CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "osprey-bench CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", nil, fmt.Errorf("CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", nil, fmt.Errorf("CA certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", nil, fmt.Errorf("broker key: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", nil, fmt.Errorf("broker certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", nil, fmt.Errorf("broker key: %w", err)
	}
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	keystore = filepath.Join(dir, "broker.pem")
	if err := os.WriteFile(keystore, pemData, 0o600); err != nil {
		return "", nil, fmt.Errorf("writing the keystore: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return keystore, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}, nil
}

// startSecBroker starts one broker with file logs under dir and four
// listeners, and creates the SCRAM user over PLAINTEXT (no authorizer).
func startSecBroker(ctx context.Context, o *options, dir string) (*secBroker, error) {
	keystore, clientTLS, err := benchCA(dir)
	if err != nil {
		return nil, err
	}
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o750); err != nil {
		return nil, err
	}
	cfg, err := broker.ConfigFromProperties(map[string]string{
		"log.dirs":                logs,
		"num.partitions":          fmt.Sprint(benchPartitions),
		"listeners":               "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms": "SCRAM-SHA-256",
		"ssl.keystore.type":       "PEM",
		"ssl.keystore.location":   keystore,
	}, o.quiet)
	if err != nil {
		return nil, fmt.Errorf("configuring the secured broker: %w", err)
	}
	b, err := broker.New(cfg, broker.WithLogger(o.quiet))
	if err != nil {
		return nil, fmt.Errorf("configuring the secured broker: %w", err)
	}
	if err := b.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the secured broker: %w", err)
	}
	s := &secBroker{b: b, tls: clientTLS,
		plain: []string{b.ListenerAddr("PLAINTEXT")}, ssl: []string{b.ListenerAddr("SSL")},
		saslSSL: []string{b.ListenerAddr("SASL_SSL")}, saslTCP: []string{b.ListenerAddr("SASL_PLAINTEXT")},
		scramMec: kgo.SASL(scram.Auth{User: secBenchUser, Pass: secBenchPass}.AsSha256Mechanism())}
	if err := s.createUser(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *secBroker) createUser(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.plain...))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: secBenchUser,
		Mechanism: kadm.ScramSha256, Iterations: secBenchIters, Password: secBenchPass}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		return fmt.Errorf("creating the SCRAM user: %w", err)
	}
	return nil
}

func (s *secBroker) saslSSLOpts() []kgo.Opt { return []kgo.Opt{kgo.DialTLSConfig(s.tls), s.scramMec} }

func runSecurity(ctx context.Context, o *options, rep *report, _ *limits) {
	dir := filepath.Join(o.dir, "security")
	names := []string{"produce 1 KiB over SASL_SSL (SCRAM-SHA-256)", "fetch 1 KiB records over SSL",
		fmt.Sprintf("SCRAM-SHA-256 authentications, %d connections at a time", secAuthParallel)}
	notRun := func(why string) {
		for _, n := range names {
			rep.add(row{Section: "security", Name: n, Value: "-", Status: statusNotRun, Why: why})
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		notRun(err.Error())
		return
	}
	defer os.RemoveAll(dir)
	s, err := startSecBroker(ctx, o, dir)
	if err != nil {
		notRun(err.Error())
		return
	}
	defer s.close()
	if err := createTopic(ctx, s.plain, secBenchTopic, benchPartitions, 1); err != nil {
		notRun(err.Error())
		return
	}
	rounds := int(o.size(3, 2))
	produced := secProduceRows(ctx, o, rep, s, rounds)
	secFetchRows(ctx, o, rep, s, rounds, produced)
	secAuthRows(ctx, o, rep, s, rounds)
}

// medianTxn is the run with the median rate.
func medianTxn(rs []txnResult) txnResult {
	s := append([]txnResult(nil), rs...)
	sort.Slice(s, func(i, j int) bool { return s[i].rate() < s[j].rate() })
	return s[len(s)/2]
}

// secProduceRows produces over PLAINTEXT and SASL_SSL in alternating order
// and returns the records now in the topic.
func secProduceRows(ctx context.Context, o *options, rep *report, s *secBroker, rounds int) int64 {
	name := "produce 1 KiB over SASL_SSL (SCRAM-SHA-256)"
	dur, capBytes := o.dur(20*time.Second, 4*time.Second), o.size(1<<30, 512<<20)
	var runs [2][]txnResult
	var errs [2]error
	var records int64
	for i := 0; i < rounds && ctx.Err() == nil; i++ {
		for j := range 2 {
			k := (i + j) % 2 // alternate which listener goes first
			o.log.Info("security: produce", "round", i+1, "sasl_ssl", k == 1, "duration", dur)
			boot, extra := s.plain, []kgo.Opt(nil)
			if k == 1 {
				boot, extra = s.saslSSL, s.saslSSLOpts()
			}
			r, err := txnProduce(ctx, boot, secBenchTopic, dur, capBytes, 0, extra...)
			errs[k] = errors.Join(errs[k], err)
			runs[k] = append(runs[k], r)
			records += r.records
		}
	}
	if len(runs[0]) == 0 || len(runs[1]) == 0 {
		rep.add(row{Section: "security", Name: name, Value: "-", Status: statusNotRun, Why: "interrupted"})
		return records
	}
	plain, sec := medianTxn(runs[0]), medianTxn(runs[1])
	sv, pv := resultRate(sec, errs[1]), resultRate(plain, errs[0])
	st, why := atLeast(sv, 0.6*pv), errWhy(errs[1], errs[0])
	if st == statusMissed {
		why = fmt.Sprintf("SASL_SSL %s vs PLAINTEXT %s; %.1f CPU-seconds per GB over SASL_SSL, %.1f over PLAINTEXT "+
			"(client and broker both encrypt here). SASL_SSL: %s. PLAINTEXT: %s",
			mbps(sv), mbps(pv), cpuPerGB(sec.produceResult), cpuPerGB(plain.produceResult), sec.m.diagnose(), plain.m.diagnose())
	}
	rep.add(row{Section: "security", Name: name, Value: mbps(sv), Reference: "PLAINTEXT " + mbps(pv),
		Ratio: ratio(sv, pv), Target: "≥ 0.6 × PLAINTEXT", Status: st, Why: why})
	rep.note("Security produce: one Osprey broker (file logs, scratch directory) with PLAINTEXT, SSL, SASL_SSL and "+
		"SASL_PLAINTEXT listeners, a PEM keystore signed by an ECDSA P-256 CA made in the run (TLS 1.3 negotiated), "+
		"SCRAM-SHA-256 user with %d iterations; topic %s, %d partitions, RF 1. The same franz-go idempotent producer "+
		"as the acl section (acks=all, no compression, random 1 KiB values) for %v or %s, once over PLAINTEXT and once "+
		"over SASL_SSL per round, %d rounds alternating which goes first, each figure the median round. CPU (client and "+
		"broker in this process): %.1f CPU-seconds per GB over SASL_SSL, %.1f over PLAINTEXT; SASL_SSL median round: %s; "+
		"PLAINTEXT median round: %s.", secBenchIters, secBenchTopic, benchPartitions, dur, humanBytes(float64(capBytes)),
		rounds, cpuPerGB(sec.produceResult), cpuPerGB(plain.produceResult), sec.m.diagnose(), plain.m.diagnose())
	return records
}

// secFetchRows consumes the topic from the start over PLAINTEXT and SSL in
// alternating order (the data is in the page cache after the first read).
func secFetchRows(ctx context.Context, o *options, rep *report, s *secBroker, rounds int, records int64) {
	name := "fetch 1 KiB records over SSL"
	maxDur := o.dur(20*time.Second, 4*time.Second)
	var runs [2][]produceResult
	var errs [2]error
	for i := 0; i < rounds && ctx.Err() == nil && records > 0; i++ {
		for j := range 2 {
			k := (i + j) % 2
			o.log.Info("security: fetch", "round", i+1, "ssl", k == 1, "records", records)
			boot, extra := s.plain, []kgo.Opt(nil)
			if k == 1 {
				boot, extra = s.ssl, []kgo.Opt{kgo.DialTLSConfig(s.tls)}
			}
			r, err := consume(ctx, boot, secBenchTopic, records, maxDur, extra...)
			errs[k] = errors.Join(errs[k], err)
			runs[k] = append(runs[k], r)
		}
	}
	if len(runs[0]) == 0 || len(runs[1]) == 0 {
		rep.add(row{Section: "security", Name: name, Value: "-", Status: statusNotRun, Why: "interrupted or nothing produced"})
		return
	}
	plain, sec := medianRate(runs[0]), medianRate(runs[1])
	sv, pv := resultRate(sec, errs[1]), resultRate(plain, errs[0])
	st := statusNoTarget
	if math.IsNaN(sv) || math.IsNaN(pv) {
		st = statusNotRun
	}
	rep.add(row{Section: "security", Name: name, Value: mbps(sv), Reference: "PLAINTEXT " + mbps(pv),
		Ratio: ratio(sv, pv), Target: "report (TLS cannot use sendfile)", Status: st, Why: errWhy(errs[1], errs[0])})
	rep.note("Security fetch: the same broker and topic after the produce runs (%d records); one franz-go consumer "+
		"from the start (16 MiB fetches, 4 MiB per partition) until it has read them all or %v, over PLAINTEXT and "+
		"over SSL per round, %d rounds alternating which goes first, each figure the median round. On PLAINTEXT the "+
		"broker hands record data from the segment files to the socket with sendfile(2); under TLS it must read the "+
		"files and encrypt through a buffer (docs/BROKER.md, Security), so the SSL figure pays a copy and AES-GCM per "+
		"byte in the broker, and the client decrypts too. CPU: %.1f CPU-seconds per GB over SSL, %.1f over PLAINTEXT; "+
		"SSL median round: %s; PLAINTEXT median round: %s.", records, maxDur, rounds, cpuPerGB(sec), cpuPerGB(plain),
		sec.m.diagnose(), plain.m.diagnose())
}

// authRun is one timed burst of SCRAM authentications.
type authRun struct {
	auths int64
	m     *meter
}

func (r authRun) rate() float64 {
	if r.m == nil || r.m.wall <= 0 {
		return math.NaN()
	}
	return float64(r.auths) / r.m.wall.Seconds()
}

// cpuPerAuth is the process's CPU time per authentication.
func (r authRun) cpuPerAuth() time.Duration {
	if r.auths == 0 || r.m == nil {
		return 0
	}
	return r.m.cpu / time.Duration(r.auths)
}

// scramAuths runs secAuthParallel goroutines for dur, each opening a client
// on the SASL_PLAINTEXT listener, authenticating (ApiVersions, SaslHandshake,
// two SaslAuthenticate rounds of SCRAM-SHA-256), asking for broker-only
// Metadata (franz-go's Ping) and closing.
func scramAuths(ctx context.Context, s *secBroker, dur time.Duration) (authRun, error) {
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	m := startMeter()
	end := time.Now().Add(dur)
	for range secAuthParallel {
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				cl, err := kgo.NewClient(kgo.SeedBrokers(s.saslTCP...), s.scramMec)
				if err == nil {
					pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					err = cl.Ping(pctx)
					cancel()
					cl.Close()
				}
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("authenticating: %w", err) })
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	m.stop()
	return authRun{auths: n.Load(), m: m}, firstErr
}

// pbkdf2Cost is the CPU time of the client's one PBKDF2-HMAC-SHA-256
// (secBenchIters iterations), the bulk of a SCRAM client's work: franz-go
// derives the salted password anew for every authentication.
func pbkdf2Cost() time.Duration {
	const n = 50
	salt := make([]byte, 16)
	c0 := cpuTime()
	for range n {
		_, _ = pbkdf2.Key(sha256.New, secBenchPass, salt, secBenchIters, sha256.Size)
	}
	return (cpuTime() - c0) / n
}

func secAuthRows(ctx context.Context, o *options, rep *report, s *secBroker, rounds int) {
	name := fmt.Sprintf("SCRAM-SHA-256 authentications, %d connections at a time", secAuthParallel)
	dur := o.dur(10*time.Second, 3*time.Second)
	var runs []authRun
	var errs error
	var kdf []time.Duration
	for i := 0; i < rounds && ctx.Err() == nil; i++ {
		o.log.Info("security: SCRAM authentications", "round", i+1, "duration", dur)
		r, err := scramAuths(ctx, s, dur)
		errs = errors.Join(errs, err)
		runs = append(runs, r)
		kdf = append(kdf, pbkdf2Cost())
	}
	if len(runs) == 0 {
		rep.add(row{Section: "security", Name: name, Value: "-", Status: statusNotRun, Why: "interrupted"})
		return
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].rate() < runs[j].rate() })
	sortDurations(kdf)
	r, k := runs[len(runs)/2], kdf[len(kdf)/2]
	v := resultRate(r, errs)
	st, val := statusNoTarget, fmt.Sprintf("%.0f auths/s", v)
	if math.IsNaN(v) {
		st, val = statusNotRun, "-"
	}
	perAuth := r.cpuPerAuth()
	rest := max(0, perAuth-k)
	rep.add(row{Section: "security", Name: name, Value: val,
		Reference: fmt.Sprintf("CPU per auth %s, of which client PBKDF2 %s", ms(perAuth), ms(k)),
		Target:    "report", Status: st, Why: errWhy(errs)})
	rep.note("Security authentications: %d goroutines for %v each loop over a new franz-go client on the "+
		"SASL_PLAINTEXT listener (SCRAM without TLS, so the figure is SCRAM's and not a TLS handshake's): TCP connect, "+
		"ApiVersions, SaslHandshake, the two SaslAuthenticate rounds of SCRAM-SHA-256, a broker-only Metadata (Ping), "+
		"close; %d rounds, the median. The user's credential has %d iterations, so the client derives its salted "+
		"password with PBKDF2-HMAC-SHA-256 × %d on every authentication (franz-go does not cache it), measured alone at "+
		"%s of CPU; the broker only checks the proof against the stored key (a few HMACs), so of the %s of CPU per "+
		"authentication (client and broker in this process) %s is everything but the client's PBKDF2 — the broker's "+
		"share plus the client's connection and framing, an upper bound on the server-side CPU per auth. Median round: %s.",
		secAuthParallel, dur, rounds, secBenchIters, secBenchIters, ms(k), ms(perAuth), ms(rest), r.m.diagnose())
}
