// Command osprey-bench measures Osprey against its references in one run and
// writes docs/BENCHMARKS.md: the machine's own limits (loopback TCP, sequential
// file writes, sendfile), Osprey's broker beside franz-go's kfake, the
// multi-broker cluster, transactions and the log cleaner, produce with 10,000 ACLs beside none,
// produce and fetch over SASL_SSL / SSL beside PLAINTEXT and SCRAM authentications per second, the collector at 100,000 partitions / 5,000 groups
// beside a naive poller, the HTTP API beside /healthz, a soak of 500 API clients and 200 event
// streams against that fixture (p99 and memory over 10 minutes), KRaft mode's controller
// failover and metadata propagation at 100,000 partitions beside ZooKeeper
// mode's, and metrics writes into MariaDB beside SQLite. Each figure's reference is measured in the same run,
// so a noisy machine moves both.
//
// Usage: osprey-bench [-quick] [-only machine,broker,cluster,txn,acl,security,kraft,collector,api,insights,soak,store] [-out docs/BENCHMARKS.md]
//
// `make bench` runs it through deploy/scripts/bench.sh, which starts MariaDB first.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

// sections in run order. The collector runs before the broker benchmarks so
// that its peak-RSS figure is not inflated by heap the broker runs left behind.
var sections = []string{"machine", "collector", "api", "insights", "soak", "broker", "cluster", "txn", "acl", "security", "kraft", "store"}

type options struct {
	quick    bool
	only     map[string]bool
	out      string
	merge    bool
	dir      string
	command  string
	mysqlDSN string
	log      *slog.Logger
	quiet    *slog.Logger
}

func (o *options) want(s string) bool { return len(o.only) == 0 || o.only[s] }

// onlyList is -only's sections in run order.
func (o *options) onlyList() []string {
	var out []string
	for _, s := range sections {
		if o.only[s] {
			out = append(out, s)
		}
	}
	return out
}

// size picks the full or the -quick value.
func (o *options) size(full, quick int64) int64 {
	if o.quick {
		return quick
	}
	return full
}

func (o *options) dur(full, quick time.Duration) time.Duration {
	if o.quick {
		return quick
	}
	return full
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == fixtureChildArg {
		os.Exit(runFixtureChild(os.Args[2:]))
	}
	os.Exit(run())
}

// parseOptions reads the command line into options, printing why and
// returning ok false when -only names an unknown section.
func parseOptions() (o options, cpuProfile string, ok bool) {
	var only string
	flag.BoolVar(&o.quick, "quick", false, "small sizes and short durations (smoke test, minutes)")
	flag.StringVar(&only, "only", "", "comma-separated sections to run: "+strings.Join(sections, ","))
	flag.StringVar(&o.out, "out", "docs/BENCHMARKS.md", "where to write the report (empty: do not write)")
	flag.BoolVar(&o.merge, "merge", false, "with -only: replace those sections' rows, why lines and notes in the report at -out, keeping the rest")
	flag.StringVar(&o.dir, "dir", "", "scratch directory for broker logs and the file tests (default: a new temp dir)")
	flag.StringVar(&o.command, "command", "", "command line recorded in the report (default: this program's)")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (to see where a missed figure's time goes)")
	flag.StringVar(&o.mysqlDSN, "mysql-dsn", os.Getenv("OSPREY_TEST_MYSQL_DSN"), "MariaDB DSN without a database (default $OSPREY_TEST_MYSQL_DSN)")
	flag.Parse()
	o.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	o.quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
	if only != "" {
		o.only = map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(sections, s) {
				fmt.Fprintf(os.Stderr, "unknown section %q (have %s)\n", s, strings.Join(sections, ","))
				return o, "", false
			}
			o.only[s] = true
		}
	}
	return o, cpuProfile, true
}

func run() int {
	o, cpuProfile, ok := parseOptions()
	if !ok {
		return 2
	}
	if o.command == "" {
		o.command = strings.Join(os.Args, " ")
	}
	if o.dir == "" {
		d, err := os.MkdirTemp("", "osprey-bench-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "creating scratch dir: %v\n", err)
			return 1
		}
		defer os.RemoveAll(d)
		o.dir = d
	} else if err := os.MkdirAll(o.dir, 0o750); err != nil {
		fmt.Fprintf(os.Stderr, "creating scratch dir: %v\n", err)
		return 1
	}

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "creating the CPU profile: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "starting the CPU profile: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	began := time.Now()
	whole := startMeter()
	rep := &report{began: began.UTC(), command: o.command, quick: o.quick, machine: describeMachine(o.dir), loadStart: loadAvg()}
	lim := &limits{}
	runSections(ctx, &o, rep, lim)
	rep.took = time.Since(began)
	rep.whole = whole.stop()
	rep.printTable(os.Stdout)
	if o.out != "" {
		write := rep.writeMarkdown
		if o.merge && len(o.only) > 0 {
			write = func(path string) error { return rep.mergeMarkdown(path, o.onlyList()) }
		}
		if err := write(o.out); err != nil {
			fmt.Fprintf(os.Stderr, "writing %s: %v\n", o.out, err)
			return 1
		}
		fmt.Printf("\nwrote %s (whole run %v)\n", o.out, rep.took.Round(time.Second))
	}
	if ctx.Err() != nil {
		return 130
	}
	return 0
}

// runSections runs the sections -only asks for, in their order, until ctx ends.
func runSections(ctx context.Context, o *options, rep *report, lim *limits) {
	steps := map[string]func(context.Context, *options, *report, *limits){
		"machine":   runMachine,
		"collector": runCollector,
		"api":       runAPI,
		"insights":  runInsights,
		"soak":      runSoak,
		"broker":    runBroker,
		"cluster":   runCluster,
		"txn":       runTxn,
		"acl":       runACL,
		"security":  runSecurity,
		"kraft":     runKRaft,
		"store":     runStore,
	}
	for _, s := range sections {
		if !o.want(s) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		t0 := time.Now()
		o.log.Info("section start", "section", s)
		steps[s](ctx, o, rep, lim)
		o.log.Info("section done", "section", s, "took", time.Since(t0).Round(time.Millisecond))
		if s == o.lastFixtureSection() && lim.fx != nil {
			// Nothing after this section uses the fixture: free its memory and CPU.
			lim.fx.close()
			lim.fx = nil
		}
	}
	if lim.fx != nil {
		lim.fx.close()
	}
}

// lastFixtureSection is the last section to run that uses the large-cluster fixture ("" if none).
func (o *options) lastFixtureSection() string {
	last := ""
	for _, s := range []string{"collector", "api", "insights", "soak"} {
		if o.want(s) {
			last = s
		}
	}
	return last
}

// limits carries the machine figures to the sections that compare against them.
type limits struct {
	loopback float64 // bytes/s
	diskSeq  float64 // bytes/s
	sendfile float64 // bytes/s
	rf1Osp   float64 // Osprey produce bytes/s, 1 KiB records, single broker

	// fx is the large-cluster fixture shared by the collector and API sections.
	fx    *fixture
	fxErr error
}
