// Command securecluster is the security pages' end-to-end cluster: a franz-go kfake cluster with
// SASL and ACLs enabled and one SCRAM-SHA-512 super user (the console's), a topic, and nothing else.
// It prints "listening <addr>" on stdout and runs until it is killed or its stdin closes.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	user := flag.String("user", "console", "SCRAM-SHA-512 super user")
	password := flag.String("password", "", "its password")
	flag.Parse()
	if *password == "" {
		fmt.Fprintln(os.Stderr, "securecluster: -password is required")
		os.Exit(2)
	}
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("SCRAM-SHA-512", *user, *password), kfake.SeedTopics(1, "orders", "payments"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "securecluster:", err)
		os.Exit(1)
	}
	defer kc.Close()
	fmt.Printf("listening %s\n", kc.ListenAddrs()[0])
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes stdin or kills the process
}
