// Command securecluster is the security pages' end-to-end cluster, one of:
//
//   - runtime (the default): a one-broker Osprey runtime cluster in this process whose listener is
//     SASL_PLAINTEXT (PLAIN for the console's user, SCRAM-SHA-256/512 for users made from the console)
//     with the ACL authorizer on and the console's user the only super user;
//   - kfake: franz-go's kfake with SASL and ACLs enabled and the console's user a SCRAM-SHA-512 super
//     user (a cluster that is not Osprey's).
//
// It prints "listening <addr> <mechanism>" on stdout and runs until SIGTERM or until its stdin closes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/broker/supervisor"
)

func main() {
	kind := flag.String("kind", "runtime", "runtime or kfake")
	user := flag.String("user", "console", "the console's user (a super user)")
	password := flag.String("password", "", "its password")
	dir := flag.String("dir", "", "data directory (runtime)")
	flag.Parse()
	if *password == "" {
		fmt.Fprintln(os.Stderr, "securecluster: -password is required")
		os.Exit(2)
	}
	addr, mech, stop, err := start(*kind, *user, *password, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "securecluster:", err)
		os.Exit(1)
	}
	defer stop()
	fmt.Printf("listening %s %s\n", addr, mech)
	// Until the test closes stdin or sends SIGTERM; either way stop runs and removes a temp data dir.
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case <-done:
	case <-sig:
	}
}

func start(kind, user, password, dir string) (addr, mech string, stop func(), err error) {
	if kind == "kfake" {
		kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.EnableACLs(),
			kfake.Superuser("SCRAM-SHA-512", user, password), kfake.SeedTopics(1, "orders", "payments"))
		if err != nil {
			return "", "", nil, err
		}
		return kc.ListenAddrs()[0], "SCRAM-SHA-512", kc.Close, nil
	}
	removeDir := func() {}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "osprey-e2e-securecluster-"); err != nil {
			return "", "", nil, err
		}
		removeDir = func() { _ = os.RemoveAll(dir) }
	}
	jaas := fmt.Sprintf(`org.apache.kafka.common.security.plain.PlainLoginModule required username=%q password=%q user_%s=%q;`, user, password, user, password)
	props := map[string]string{
		// The supervisor names the listener PLAINTEXT on the port it picks; the map makes it SASL.
		"listener.security.protocol.map":                 "PLAINTEXT:SASL_PLAINTEXT",
		"sasl.enabled.mechanisms":                        "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
		"sasl.mechanism.inter.broker.protocol":           "PLAIN",
		"listener.name.plaintext.plain.sasl.jaas.config": jaas,
		"authorizer.class.name":                          "kafka.security.authorizer.AclAuthorizer",
		"super.users":                                    "User:" + user,
		"offsets.topic.replication.factor":               "1",
	}
	sup, err := supervisor.New(supervisor.Options{Brokers: 1, Mode: supervisor.InProcess, DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Properties: props})
	if err != nil {
		return "", "", nil, err
	}
	if err := sup.Start(context.Background()); err != nil {
		_ = sup.Close()
		removeDir()
		return "", "", nil, err
	}
	return sup.BootstrapServers(), "PLAIN", func() { _ = sup.Close(); removeDir() }, nil
}
