//go:build ignore

// capture records real four-letter-word answers from running ZooKeeper
// servers into files for the parser tests. capture.sh starts the servers and
// runs it; see there.
//
// Usage: go run capture.go -out DIR label=host:port ...
// For each label it opens two client sessions (one idle, one that created and
// watched a node), then writes DIR/<label>_<cmd>.txt for each command.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

func main() {
	out := flag.String("out", ".", "directory for the captured files")
	cmds := flag.String("cmds", "ruok,srvr,mntr,cons,stat,xxxx", "commands to capture")
	sessions := flag.Bool("sessions", true, "open client sessions first (for cons)")
	flag.Parse()
	for _, arg := range flag.Args() {
		label, addr, ok := strings.Cut(arg, "=")
		if !ok {
			log.Fatalf("argument %q: want label=host:port", arg)
		}
		var closers []func()
		if *sessions {
			for i := 0; i < 2; i++ {
				c, _, err := zk.Connect([]string{addr}, 20*time.Second, zk.WithLogInfo(false))
				if err != nil {
					log.Fatal(err)
				}
				closers = append(closers, c.Close)
				if i == 1 {
					p := fmt.Sprintf("/capture-%d", time.Now().UnixNano())
					if _, err := c.Create(p, []byte("x"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
						log.Fatalf("%s: create: %v", label, err)
					}
					if _, _, _, err := c.GetW(p); err != nil {
						log.Fatalf("%s: getw: %v", label, err)
					}
				} else if _, _, err := c.Exists("/"); err != nil {
					log.Fatalf("%s: exists: %v", label, err)
				}
			}
		}
		for _, cmd := range strings.Split(*cmds, ",") {
			answer, err := send(addr, cmd)
			if err != nil {
				log.Fatalf("%s %s: %v", label, cmd, err)
			}
			name := filepath.Join(*out, label+"_"+cmd+".txt")
			if err := os.WriteFile(name, answer, 0o644); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%s: %d bytes\n", name, len(answer))
		}
		for _, c := range closers {
			c()
		}
	}
}

func send(addr, cmd string) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, cmd); err != nil {
		return nil, err
	}
	return io.ReadAll(c)
}
