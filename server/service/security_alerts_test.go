package service

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/osprey-kafka/osprey/alert"
	"github.com/osprey-kafka/osprey/collector"
)

// On a secured runtime cluster the collector reads its brokers' failed authentications and client
// quota throttling: wrong-password logins by franz-go make auth_failures_per_minute fire for the
// listener, and a producer over a user+client-id quota makes principal_throttled fire naming the
// user and client id; each resolves after a poll interval without them.
func TestSecurityAlertsOnSecuredRuntimeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a runtime cluster")
	}
	ctx := context.Background()
	st := newOpsTestStore(t)
	ev, err := alert.New(alert.Options{Store: st, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer ev.Stop()
	asvc := alert.NewService(ev)
	for _, in := range []alert.RuleInput{
		{Name: "auth", Kind: alert.KindAuthFailures, Threshold: 1, Severity: alert.SeverityCritical},
		{Name: "throttled", Kind: alert.KindPrincipalThrottled, Severity: alert.SeverityWarning},
	} {
		if _, err := asvc.CreateRule(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	svc := New(Options{Store: st, Logger: quietLog(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour, LogDirsInterval: time.Hour}})
	t.Cleanup(svc.Stop)
	who := Caller{Identity: Identity{Name: "test", Kind: "admin-token", Role: RoleAdmin}}
	view, err := svc.CreateRuntimeCluster(ctx, who, RuntimeRequest{Name: "sec", Brokers: 1, MetadataStore: "local", Secured: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.DeleteRuntimeCluster(context.Background(), Caller{}, "sec") })
	svc.runtime.mu.Lock()
	cred := *svc.runtime.clusters["sec"].sec
	svc.runtime.mu.Unlock()
	boot := []string{view.Bootstrap}
	trustCA := kgo.DialTLSConfig(trustOnly(t, cred.pki.caFile()))

	firing := func(kind alert.Kind) []alert.ActiveAlert {
		t.Helper()
		snap, err := svc.PollNow(ctx, "sec")
		if err != nil {
			t.Fatal(err)
		}
		if err := ev.Observe(ctx, snap); err != nil {
			t.Fatal(err)
		}
		var out []alert.ActiveAlert
		for _, a := range ev.Active() {
			if a.Kind == kind && a.State == "firing" {
				out = append(out, a)
			}
		}
		return out
	}
	if a := firing(alert.KindAuthFailures); len(a) != 0 {
		t.Fatalf("before any failure: %+v", a)
	}

	for range 3 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(boot...), kgo.RequestRetries(0), trustCA,
			kgo.SASL(scram.Auth{User: cred.User, Pass: "wrong-password"}.AsSha512Mechanism()))
		if err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := cl.Ping(pctx); err == nil {
			t.Fatal("a wrong password was accepted")
		}
		cancel()
		cl.Close()
	}
	a := firing(alert.KindAuthFailures)
	if len(a) != 1 || a[0].Labels["listener"] != "SASL_SSL" || a[0].Value <= 1 {
		t.Fatalf("after 3 failed logins: %+v", a)
	}
	if a := firing(alert.KindAuthFailures); len(a) != 0 {
		t.Fatalf("a poll later without failures: %+v", a)
	}

	adminAuth := kgo.SASL(scram.Auth{User: cred.User, Pass: cred.Password}.AsSha512Mechanism())
	adm, err := kgo.NewClient(kgo.SeedBrokers(boot...), trustCA, adminAuth)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	user, client := cred.User, "slow-producer"
	res, err := kadm.NewClient(adm).AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
		Entity: kadm.ClientQuotaEntity{{Type: "user", Name: &user}, {Type: "client-id", Name: &client}},
		Ops:    []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: 4096}}}})
	if err == nil && len(res) == 1 {
		err = res[0].Err
	}
	if err != nil {
		t.Fatalf("alter client quotas: %v", err)
	}
	if a := firing(alert.KindPrincipalThrottled); len(a) != 0 {
		t.Fatalf("before producing: %+v", a)
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(boot...), trustCA, adminAuth, kgo.ClientID(client), kgo.DefaultProduceTopic("metered"),
		kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	value := make([]byte, 8<<10) // random: the producer's compression does not shrink it
	_, _ = rand.Read(value)
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// The broker measures the rate over its quota window (10 s at least): 48 KiB puts the producer
	// just over 4 KiB/s, so it is throttled for about two seconds.
	for range 6 {
		if err := prod.ProduceSync(pctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	a = firing(alert.KindPrincipalThrottled)
	if len(a) != 1 || a[0].Labels["user"] != user || a[0].Labels["client_id"] != client || a[0].Value <= 0 {
		t.Fatalf("after producing over the quota: %+v", a)
	}
	if a := firing(alert.KindPrincipalThrottled); len(a) != 0 {
		t.Fatalf("a poll later without producing: %+v", a)
	}
}
