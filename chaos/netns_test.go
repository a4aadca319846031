package chaos

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// The test network: a Linux bridge in the test's own namespace and one
// network namespace per node, joined to the bridge by a veth pair. Every
// name carries this process's pid (in hex for link names, which are limited
// to 15 bytes), so leftovers of a test binary that was killed before its
// clean-up ran are recognised and removed by the next run.

// nsPrefix starts the name of every namespace the suite creates:
// osprey-chaos-<pid>-<network>-<node>.
const nsPrefix = "osprey-chaos-"

// linkPrefix starts the name of every link: osc<pid hex>-<network>...
const linkPrefix = "osc"

var networkSeq atomic.Int32

// network is one test's bridge and namespaces on a private /24 in 10/8.
type network struct {
	t      testing.TB
	id     string // "<pid hex>-<seq>" in link names
	nsID   string // "<pid>-<seq>" in namespace names
	subnet [3]byte
	bridge string
	spaces []string
	links  []string // the host ends of the veth pairs
	fwd    []string // the FORWARD rule letting bridged traffic through, if one was needed
}

// sh runs a command and returns its output; the error carries the output.
func sh(args ...string) (string, error) {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// newNetwork makes the bridge with the host address .1 of a free 10.x.y.0/24
// and registers its removal (and that of every namespace added later) with
// t.Cleanup.
func newNetwork(t testing.TB) *network {
	t.Helper()
	removeStale(t)
	seq := networkSeq.Add(1)
	n := &network{
		t:    t,
		id:   fmt.Sprintf("%x-%d", os.Getpid(), seq),
		nsID: fmt.Sprintf("%d-%d", os.Getpid(), seq),
	}
	n.bridge = linkPrefix + n.id + "br"
	sub, err := freeSubnet(os.Getpid(), int(seq))
	if err != nil {
		t.Fatal(err)
	}
	n.subnet = sub
	t.Cleanup(n.teardown)
	n.must("ip", "link", "add", n.bridge, "type", "bridge")
	n.must("ip", "addr", "add", n.ip(1)+"/24", "dev", n.bridge)
	n.must("ip", "link", "set", n.bridge, "up")
	n.allowBridged()
	t.Logf("chaos network: bridge %s on %s/24", n.bridge, n.ip(0))
	return n
}

func (n *network) must(args ...string) string {
	n.t.Helper()
	out, err := sh(args...)
	if err != nil {
		n.t.Fatal(err)
	}
	return out
}

// ip is the address .host of the network.
func (n *network) ip(host byte) string {
	return fmt.Sprintf("%d.%d.%d.%d", n.subnet[0], n.subnet[1], n.subnet[2], host)
}

// allowBridged lets traffic between the namespaces through where the host
// filters bridged packets (br_netfilter) and its FORWARD policy is not
// ACCEPT, as on hosts running Docker: one rule for this bridge alone,
// removed by teardown.
func (n *network) allowBridged() {
	b, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables")
	if err != nil || strings.TrimSpace(string(b)) != "1" {
		return
	}
	out, err := sh("iptables", "-w", "-S", "FORWARD")
	if err != nil || strings.Contains(out, "-P FORWARD ACCEPT") {
		return
	}
	rule := []string{"FORWARD", "-i", n.bridge, "-o", n.bridge, "-j", "ACCEPT"}
	n.must(append([]string{"iptables", "-w", "-I"}, rule...)...)
	n.fwd = rule
}

// addSpace makes namespace <name> with address .host on the bridge and
// returns the namespace's name.
func (n *network) addSpace(name string, host byte) string {
	n.t.Helper()
	ns := nsPrefix + n.nsID + "-" + name
	hostEnd := fmt.Sprintf("%s%sh%d", linkPrefix, n.id, host)
	peerEnd := fmt.Sprintf("%s%sn%d", linkPrefix, n.id, host)
	n.must("ip", "netns", "add", ns)
	n.spaces = append(n.spaces, ns)
	n.must("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", peerEnd)
	n.links = append(n.links, hostEnd)
	n.must("ip", "link", "set", peerEnd, "netns", ns)
	n.must("ip", "-n", ns, "link", "set", peerEnd, "name", "eth0")
	n.must("ip", "-n", ns, "addr", "add", n.ip(host)+"/24", "dev", "eth0")
	n.must("ip", "-n", ns, "link", "set", "eth0", "up")
	n.must("ip", "-n", ns, "link", "set", "lo", "up")
	n.must("ip", "link", "set", hostEnd, "master", n.bridge)
	n.must("ip", "link", "set", hostEnd, "up")
	return ns
}

// cut drops every packet between namespace ns and the given addresses, in
// both directions, with iptables inside ns: the other side sees silence, as
// behind a broken switch, not refused connections. Traffic with any other
// address (the test's clients on .1) still flows.
func (n *network) cut(ns string, peers ...string) {
	n.t.Helper()
	for _, p := range peers {
		n.must("ip", "netns", "exec", ns, "iptables", "-w", "-A", "INPUT", "-s", p, "-j", "DROP")
		n.must("ip", "netns", "exec", ns, "iptables", "-w", "-A", "OUTPUT", "-d", p, "-j", "DROP")
	}
}

// heal removes every rule cut added in ns.
func (n *network) heal(ns string) {
	n.t.Helper()
	n.must("ip", "netns", "exec", ns, "iptables", "-w", "-F", "INPUT")
	n.must("ip", "netns", "exec", ns, "iptables", "-w", "-F", "OUTPUT")
}

// teardown deletes the veth pairs, the namespaces and the bridge. The pairs
// go first and explicitly: a deleted namespace lingers in the kernel while
// sockets of its dead processes still close (a peer that was cut off never
// answers their FIN), and its veth ends with it. Processes must be gone
// first: the cluster's clean-up, registered after the network's, runs
// before this.
func (n *network) teardown() {
	for _, l := range n.links {
		if _, err := sh("ip", "link", "delete", l); err != nil {
			n.t.Errorf("chaos teardown: %v", err)
		}
	}
	for _, ns := range n.spaces {
		killSpace(ns)
		if _, err := sh("ip", "netns", "delete", ns); err != nil {
			n.t.Errorf("chaos teardown: %v", err)
		}
	}
	if _, err := sh("ip", "link", "delete", n.bridge); err != nil {
		n.t.Errorf("chaos teardown: %v", err)
	}
	if n.fwd != nil {
		if _, err := sh(append([]string{"iptables", "-w", "-D"}, n.fwd...)...); err != nil {
			n.t.Errorf("chaos teardown: %v", err)
		}
	}
}

// killSpace SIGKILLs whatever still runs in namespace ns (only processes the
// suite started run there).
func killSpace(ns string) {
	out, err := sh("ip", "netns", "pids", ns)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = syscallKill(pid)
		}
	}
}

// freeSubnet picks 10.x.y.0/24 from the pid and sequence number, moving on
// while it overlaps an address or a route this host already has.
func freeSubnet(pid, seq int) ([3]byte, error) {
	out, err := sh("ip", "-4", "route", "show", "table", "all")
	if err != nil {
		return [3]byte{}, err
	}
	var used []*net.IPNet
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		dst := f[0]
		if dst == "local" || dst == "broadcast" || dst == "unicast" {
			if len(f) < 2 {
				continue
			}
			dst = f[1]
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if _, nw, err := net.ParseCIDR(dst); err == nil && !nw.IP.Equal(net.IPv4zero) {
			used = append(used, nw)
		}
	}
	for i := 0; i < 2000; i++ {
		k := (pid*37 + seq*101 + i*7919) % (50 * 256)
		s := [3]byte{10, byte(200 + k/256), byte(k % 256)}
		ip := net.IPv4(s[0], s[1], s[2], 0)
		clash := false
		for _, u := range used {
			if u.Contains(ip) || (&net.IPNet{IP: ip, Mask: net.CIDRMask(24, 32)}).Contains(u.IP) {
				clash = true
				break
			}
		}
		if !clash {
			return s, nil
		}
	}
	return [3]byte{}, fmt.Errorf("no free 10.200-249.x.0/24 for the chaos network")
}

// removeStale deletes namespaces and links left by suite runs whose process
// is gone (killed by a test timeout before t.Cleanup could run).
func removeStale(t testing.TB) {
	out, err := sh("ip", "netns", "list")
	if err == nil {
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || !strings.HasPrefix(f[0], nsPrefix) {
				continue
			}
			pidText, _, _ := strings.Cut(strings.TrimPrefix(f[0], nsPrefix), "-")
			if pid, err := strconv.Atoi(pidText); err == nil && !alive(pid) {
				killSpace(f[0])
				if _, err := sh("ip", "netns", "delete", f[0]); err != nil {
					t.Logf("removing stale namespace: %v", err)
				}
			}
		}
	}
	removeStaleMounts(t)
	out, err = sh("ip", "-o", "link", "show")
	if err != nil {
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[1], linkPrefix) {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		pidHex, _, ok := strings.Cut(strings.TrimPrefix(name, linkPrefix), "-")
		if !ok {
			continue
		}
		if pid, err := strconv.ParseInt(pidHex, 16, 32); err == nil && !alive(int(pid)) {
			if _, err := sh("ip", "link", "delete", name); err != nil {
				t.Logf("removing stale link: %v", err)
			}
		}
	}
}

// removeStaleMounts unmounts the small-disk tmpfs mounts (source
// osprey-chaos-<pid>) of test processes that are gone.
func removeStaleMounts(t testing.TB) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], nsPrefix) {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimPrefix(f[0], nsPrefix)); err == nil && !alive(pid) {
			if _, err := sh("umount", "-l", f[1]); err != nil {
				t.Logf("removing stale mount: %v", err)
			}
		}
	}
}

func alive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}
