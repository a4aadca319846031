package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// status of a figure against its target.
type status string

const (
	statusMet      status = "met"
	statusMissed   status = "MISSED"
	statusNoTarget status = "-"
	statusNotRun   status = "not measured"
)

// row is one figure of the report.
type row struct {
	Section   string
	Name      string
	Value     string
	Reference string // what it is compared with, and its value
	Ratio     string
	Target    string
	Status    status
	Why       string // for a missed target or a figure not measured: the reason, from what was measured
}

type report struct {
	began   time.Time
	took    time.Duration
	command string
	quick   bool
	machine machineInfo
	// loadStart is /proc/loadavg's 1-minute figure when the run began.
	loadStart string
	// whole is the CPU use over the whole run.
	whole *meter
	rows  []row
	notes []string // method notes, one per measurement, in the document
}

func (r *report) add(x row) {
	if x.Status == "" {
		x.Status = statusNoTarget
	}
	r.rows = append(r.rows, x)
	fmt.Fprintf(os.Stderr, "  %-10s %-46s %s  [%s]\n", x.Section, x.Name, x.Value, x.Status)
}

func (r *report) note(format string, a ...any) { r.notes = append(r.notes, fmt.Sprintf(format, a...)) }

// check returns met or missed for a figure that must be at least (or at most) a bound.
func atLeast(v, bound float64) status {
	if math.IsNaN(v) {
		return statusNotRun
	}
	if v >= bound {
		return statusMet
	}
	return statusMissed
}

func atMost(v, bound float64) status {
	if math.IsNaN(v) {
		return statusNotRun
	}
	if v <= bound {
		return statusMet
	}
	return statusMissed
}

func (r *report) printTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSECTION\tFIGURE\tVALUE\tREFERENCE\tRATIO\tTARGET\tSTATUS")
	for _, x := range r.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Section, x.Name, x.Value, x.Reference, x.Ratio, x.Target, x.Status)
	}
	_ = tw.Flush()
	for _, x := range r.rows {
		if x.Why != "" && (x.Status == statusMissed || x.Status == statusNotRun) {
			fmt.Fprintf(w, "* %s / %s: %s\n", x.Section, x.Name, x.Why)
		}
	}
}

func (r *report) writeMarkdown(path string) error {
	var b strings.Builder
	m := r.machine
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `cmd/osprey-bench` (run it with `make bench`; `deploy/scripts/bench.sh -quick` or "+
		"`-only broker,collector` run a part; with `-merge` a part's rows replace their own in this file). Every figure below was measured in one run together with its "+
		"reference, so the ratio compares numbers taken on the same machine minutes apart.\n\n")
	fmt.Fprintf(&b, "- Command: `%s`\n", r.command)
	fmt.Fprintf(&b, "- Date: %s (whole run %v)%s\n", r.began.Format("2006-01-02 15:04 MST"), r.took.Round(time.Second), map[bool]string{true: " — **-quick mode: small sizes, not representative**", false: ""}[r.quick])
	fmt.Fprintf(&b, "- Machine: %d cores (%s), %s memory, Linux %s, %s; scratch directory on %s\n",
		m.cores, m.cpuModel, humanBytes(float64(m.memBytes)), m.kernel, m.goVersion, m.fs)
	fmt.Fprintf(&b, "- Load average (1 min) at start %s, at the end %s: the machine is shared with other work, which is "+
		"why every run also reports the cores this process and the other processes used.\n", r.loadStart, loadAvg())
	if r.whole != nil {
		fmt.Fprintf(&b, "- Over the whole run %s; other processes include the collector fixture (a child of this "+
			"program) and MariaDB.\n", r.whole.cpuSummary())
	}
	fmt.Fprintf(&b, "- Client, broker and reference run in this one process on these cores unless said otherwise (the "+
		"collector fixture and MariaDB are separate processes); they share the CPU, the main limit on a %d-core machine.\n\n", m.cores)

	fmt.Fprintf(&b, "Ratio = value ÷ reference. Status compares the value with the target.\n\n")
	fmt.Fprintf(&b, "| Section | Figure | Value | Reference | Ratio | Target | Status |\n|---|---|---|---|---|---|---|\n")
	for _, x := range r.rows {
		fmt.Fprintln(&b, mdRow(x))
	}
	var missed []row
	for _, x := range r.rows {
		if x.Why != "" && (x.Status == statusMissed || x.Status == statusNotRun) {
			missed = append(missed, x)
		}
	}
	if len(missed) > 0 {
		fmt.Fprintf(&b, "\n## Targets missed or not measured, and why\n\n")
		for _, x := range missed {
			fmt.Fprintln(&b, mdWhy(x))
		}
	}
	fmt.Fprintf(&b, "\n## How each figure is measured\n\n")
	for _, n := range r.notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func mdStatus(s status) string {
	switch s {
	case statusMet:
		return "met"
	case statusMissed:
		return "**missed**"
	case statusNotRun:
		return "*not measured*"
	}
	return "-"
}

// machineInfo describes where the run happened.
type machineInfo struct {
	cores     int
	cpuModel  string
	memBytes  int64
	kernel    string
	goVersion string
	fs        string
}

func describeMachine(dir string) machineInfo {
	m := machineInfo{cores: runtime.NumCPU(), goVersion: runtime.Version(), cpuModel: "unknown CPU"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				m.memBytes = kb * 1024
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	m.fs = fsType(dir)
	return m
}

// fsType names the file system holding dir (from /proc/mounts, longest matching mount point).
func fsType(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "unknown file system"
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "unknown file system"
	}
	best, kind, dev := "", "", ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mp := f[1]
		if (abs == mp || strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best, kind, dev = mp, f[2], f[0]
		}
	}
	if best == "" {
		return "unknown file system"
	}
	var st syscall.Statfs_t
	free := ""
	if syscall.Statfs(abs, &st) == nil {
		free = fmt.Sprintf(", %s free", humanBytes(float64(st.Bavail)*float64(st.Bsize)))
	}
	return fmt.Sprintf("%s (%s, mounted at %s%s)", kind, dev, best, free)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// meter records wall and CPU time over a run: cores() says how many cores the
// process kept busy, others() how many the rest of the machine did (the
// machine is shared), the evidence for "CPU-bound" or "starved".
type meter struct {
	wall0  time.Time
	cpu0   time.Duration
	stat0  cpuStat
	procs0 map[int]procCPUSample
	top    string // the other processes that used the most CPU during the run
	wall   time.Duration
	cpu    time.Duration
	busy   float64 // machine-wide busy core-seconds over the run
	iowait float64 // machine-wide iowait core-seconds
}

func startMeter() *meter {
	return &meter{wall0: time.Now(), cpu0: cpuTime(), stat0: readCPUStat(), procs0: readProcs()}
}

func (m *meter) stop() *meter {
	m.wall = time.Since(m.wall0)
	m.cpu = cpuTime() - m.cpu0
	s := readCPUStat()
	m.busy = s.busy - m.stat0.busy
	m.iowait = s.iowait - m.stat0.iowait
	m.top = topOthers(m.procs0, readProcs(), m.wall)
	m.procs0 = nil
	return m
}

func (m *meter) cores() float64 {
	if m.wall <= 0 {
		return 0
	}
	return m.cpu.Seconds() / m.wall.Seconds()
}

// others is the cores kept busy by other processes (machine busy minus this process).
func (m *meter) others() float64 {
	if m.wall <= 0 {
		return 0
	}
	return max(0, m.busy/m.wall.Seconds()-m.cores())
}

// cpuSummary says, for a "why", where the CPU went during the run.
func (m *meter) cpuSummary() string {
	if m == nil || m.wall <= 0 {
		return "no CPU figures"
	}
	top := ""
	if m.top != "" && m.others() >= 0.2 {
		// Processes that exited during the run (compilers, tests) are not in the
		// after-sample, so these need not add up to the total.
		top = " (the largest still running at the end: " + m.top + ")"
	}
	return fmt.Sprintf("this process kept %.1f cores busy and other processes %.1f%s, of %d (iowait %.1f)",
		m.cores(), m.others(), top, runtime.NumCPU(), m.iowait/m.wall.Seconds())
}

// saturated reports whether the machine's cores were (nearly) all busy.
func (m *meter) saturated() bool {
	return m != nil && m.wall > 0 && m.busy/m.wall.Seconds() >= 0.75*float64(runtime.NumCPU())
}

// cpuStat is the machine-wide CPU time from /proc/stat, in core-seconds.
type cpuStat struct{ busy, iowait float64 }

func readCPUStat() cpuStat {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuStat{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return cpuStat{}
	}
	// user nice system idle iowait irq softirq steal, in USER_HZ (100/s on Linux).
	v := make([]float64, 8)
	for i := range v {
		v[i], _ = strconv.ParseFloat(f[i+1], 64)
		v[i] /= 100
	}
	return cpuStat{busy: v[0] + v[1] + v[2] + v[5] + v[6] + v[7], iowait: v[4]}
}

func humanBytes(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.1f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

func mbps(v float64) string {
	if math.IsNaN(v) || v <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB/s", v/1e6)
}

func ratio(v, ref float64) string {
	if math.IsNaN(v) || math.IsNaN(ref) || ref <= 0 || v <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v/ref)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// procStatus reads a kB field of /proc/self/status in bytes (0 if unavailable).
func procStatus(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// diagnose turns a run's CPU figures into the likely limit, for a "why".
func (m *meter) diagnose() string {
	if m == nil || m.wall <= 0 {
		return "no CPU figures"
	}
	s := m.cpuSummary()
	switch {
	case m.saturated() && m.others() >= 0.5:
		return s + ": the cores were saturated and other processes on this shared machine took a large part, so the run was short of CPU"
	case m.saturated():
		return s + ": CPU-bound, with client and server sharing the cores"
	default:
		return s + ": not CPU-bound, so the limit is round trips and waiting (pipelining), not processing"
	}
}

// loadAvg is the 1-minute load average ("?" if unreadable).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// procCPUSample is one process's name and CPU seconds so far.
type procCPUSample struct {
	comm string
	cpu  float64
}

// readProcs samples every process's CPU time from /proc/<pid>/stat.
func readProcs() map[int]procCPUSample {
	out := map[int]procCPUSample{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		open, close := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(string(b[close+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		out[pid] = procCPUSample{comm: string(b[open+1 : close]), cpu: (ut + st) / 100}
	}
	return out
}

// topOthers names the three other processes (by command) that used the most
// CPU between two samples, with the cores each kept busy.
func topOthers(before, after map[int]procCPUSample, wall time.Duration) string {
	if wall <= 0 {
		return ""
	}
	byComm := map[string]float64{}
	for pid, a := range after {
		d := a.cpu - before[pid].cpu // a process started during the run counts from 0
		if d > 0 {
			byComm[a.comm] += d
		}
	}
	type use struct {
		comm  string
		cores float64
	}
	var us []use
	for c, d := range byComm {
		if cores := d / wall.Seconds(); cores >= 0.05 {
			us = append(us, use{c, cores})
		}
	}
	sort.Slice(us, func(i, j int) bool { return us[i].cores > us[j].cores })
	parts := make([]string, 0, 3)
	for i := 0; i < len(us) && i < 3; i++ {
		parts = append(parts, fmt.Sprintf("%s %.1f", us[i].comm, us[i].cores))
	}
	return strings.Join(parts, ", ")
}
