package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/broker"
)

// The acl section measures what authorization costs on the produce path:
// the same 1 KiB produce against one broker without an authorizer and one
// with the ACL authorizer holding 10,000 ACLs, the producer's topic
// matched by a prefixed ALLOW and a literal DENY for another host (so every
// request walks the literal, wildcard and prefixed entries of its topic).

const (
	aclBenchTopic = "bench-acl"
	aclBenchCount = 10000
)

// aclBroker starts a broker with file logs under dir; withACLs turns the
// authorizer on (allow.everyone.if.no.acl.found, so the cluster resource
// without ACLs lets the bench create its topic and ACLs).
func aclBroker(ctx context.Context, o *options, dir string, withACLs bool) (*target, error) {
	cfg := broker.DefaultConfig()
	cfg.LogDirs = []string{dir}
	cfg.NumPartitions = benchPartitions
	if withACLs {
		cfg.Authz = broker.AuthzConfig{AuthorizerClass: "org.apache.kafka.metadata.authorizer.StandardAuthorizer", AllowIfNoACL: true}
	}
	b, err := broker.New(cfg, broker.WithLogger(o.quiet))
	if err != nil {
		return nil, fmt.Errorf("configuring the Osprey broker: %w", err)
	}
	if err := b.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the Osprey broker: %w", err)
	}
	return &target{name: "Osprey", bootstrap: []string{b.Addr()}, close: func() { _ = b.Close() }}, nil
}

// loadBenchACLs creates aclBenchCount ACLs: 100 principals × 98 topics of
// literal WRITEs, 198 prefixed READs on other prefixes, and the two that
// apply to the bench topic.
func loadBenchACLs(ctx context.Context, bootstrap []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var principals, topics, prefixes []string
	for i := range 100 {
		principals = append(principals, fmt.Sprintf("User:app-%02d", i))
	}
	for i := range 98 {
		topics = append(topics, fmt.Sprintf("orders-%03d", i))
	}
	for i := range 99 {
		prefixes = append(prefixes, fmt.Sprintf("team-%02d-", i))
	}
	builders := []*kadm.ACLBuilder{
		kadm.NewACLs().Allow(principals...).Topics(topics...).Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral),
		kadm.NewACLs().Allow(principals[:2]...).Topics(prefixes...).Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternPrefixed),
		kadm.NewACLs().Allow("User:ANONYMOUS").Topics("bench").Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternPrefixed),
		kadm.NewACLs().Deny("User:ANONYMOUS").DenyHosts("192.0.2.1").Topics(aclBenchTopic).Operations(kadm.OpWrite).
			ResourcePatternType(kadm.ACLPatternLiteral),
	}
	n := 0
	for _, b := range builders {
		res, err := adm.CreateACLs(ctx, b)
		if err != nil {
			return fmt.Errorf("creating ACLs: %w", err)
		}
		for _, r := range res {
			if r.Err != nil {
				return fmt.Errorf("creating ACL %s on %s: %w", r.Principal, r.Name, r.Err)
			}
			n++
		}
	}
	if n != aclBenchCount {
		return fmt.Errorf("created %d ACLs, want %d", n, aclBenchCount)
	}
	return nil
}

func runACL(ctx context.Context, o *options, rep *report, _ *limits) {
	name := fmt.Sprintf("produce 1 KiB with %d ACLs", aclBenchCount)
	notRun := func(why string) { rep.add(row{Section: "acl", Name: name, Value: "-", Status: statusNotRun, Why: why}) }
	dir := filepath.Join(o.dir, "acl")
	var targets [2]*target
	for i, withACLs := range []bool{false, true} {
		d := filepath.Join(dir, fmt.Sprint(i))
		if err := os.MkdirAll(d, 0o750); err != nil {
			notRun(err.Error())
			return
		}
		t, err := aclBroker(ctx, o, d, withACLs)
		if err != nil {
			notRun(err.Error())
			return
		}
		defer t.close()
		targets[i] = t
		if err := createTopic(ctx, t.bootstrap, aclBenchTopic, benchPartitions, 1); err != nil {
			notRun(err.Error())
			return
		}
	}
	defer os.RemoveAll(dir)
	if err := loadBenchACLs(ctx, targets[1].bootstrap); err != nil {
		notRun(err.Error())
		return
	}
	dur, capBytes := o.dur(20*time.Second, 4*time.Second), o.size(1<<30, 512<<20)
	rounds := int(o.size(3, 2))
	var runs [2][]txnResult
	var errs [2]error
	for i := 0; i < rounds && ctx.Err() == nil; i++ {
		for j := range 2 {
			k := (i + j) % 2 // alternate which broker goes first
			o.log.Info("acl: produce", "round", i+1, "acls", k == 1, "duration", dur)
			r, err := txnProduce(ctx, targets[k].bootstrap, aclBenchTopic, dur, capBytes, 0)
			errs[k] = errors.Join(errs[k], err)
			runs[k] = append(runs[k], r)
		}
	}
	if len(runs[0]) == 0 || len(runs[1]) == 0 {
		notRun("interrupted")
		return
	}
	median := func(rs []txnResult) txnResult {
		sort.Slice(rs, func(i, j int) bool { return rs[i].rate() < rs[j].rate() })
		return rs[len(rs)/2]
	}
	none, with := median(runs[0]), median(runs[1])
	wv, nv := resultRate(with, errs[1]), resultRate(none, errs[0])
	st, why := atLeast(wv, 0.95*nv), errWhy(errs[1], errs[0])
	if st == statusMissed {
		why = fmt.Sprintf("with ACLs %s vs none %s; a decision is a few map lookups (BenchmarkAuthorize in broker/acl), "+
			"so a gap is the run's noise or CPU: %.1f CPU-seconds per GB with ACLs, %.1f without. With ACLs %s. Without %s",
			mbps(wv), mbps(nv), cpuPerGB(with.produceResult), cpuPerGB(none.produceResult), with.m.diagnose(), none.m.diagnose())
	}
	rep.add(row{Section: "acl", Name: name, Value: mbps(wv), Reference: "no authorizer " + mbps(nv),
		Ratio: ratio(wv, nv), Target: "≥ 0.95 × no authorizer", Status: st, Why: why})
	rep.note("ACL produce: two Osprey brokers (file logs, scratch directory), topic %s with %d partitions, RF 1; one "+
		"without an authorizer, one with the StandardAuthorizer name and %d ACLs (10,000: 9,800 literal WRITEs for 100 "+
		"principals on 98 other topics, 198 prefixed READs, a prefixed ALLOW WRITE bench for User:ANONYMOUS and a "+
		"literal DENY WRITE on %s from another host, so each produce request is decided by walking its topic's literal, "+
		"wildcard and prefixed entries). One franz-go idempotent producer, acks=all, no compression, random 1 KiB values "+
		"for %v or %s; %d rounds alternating which broker goes first, each figure the median round.",
		aclBenchTopic, benchPartitions, aclBenchCount, aclBenchTopic, dur, humanBytes(float64(capBytes)), rounds)
}
