package zkstatus

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Mode is a server's role, as srvr's "Mode:" and mntr's zk_server_state say.
type Mode string

// The modes ZooKeeper reports.
const (
	ModeStandalone Mode = "standalone"
	ModeLeader     Mode = "leader"
	ModeFollower   Mode = "follower"
	ModeObserver   Mode = "observer"
	ModeReadOnly   Mode = "read-only"
)

// Zxid is a ZooKeeper transaction id: the leader epoch in the high 32 bits, a
// counter within the epoch in the low 32.
type Zxid int64

// Epoch returns the leader epoch that wrote the transaction.
func (z Zxid) Epoch() int64 { return int64(uint64(z) >> 32) }

// Counter returns the transaction's number within its epoch.
func (z Zxid) Counter() int64 { return int64(uint64(z) & 0xffffffff) }

func (z Zxid) String() string { return "0x" + strconv.FormatUint(uint64(z), 16) }

// ServerStats is the answer to srvr.
type ServerStats struct {
	Version string // e.g. "3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f"
	BuiltOn string // e.g. "2022-02-25 08:49 UTC" (3.4: "03/06/2019 16:18 GMT")
	// Request latency in milliseconds since the counters were last reset.
	MinLatency  int64
	AvgLatency  float64
	MaxLatency  int64
	Received    int64 // packets received
	Sent        int64 // packets sent
	Connections int64 // live client connections
	Outstanding int64 // queued requests
	Zxid        Zxid  // last processed transaction
	Mode        Mode
	NodeCount   int64 // znodes
	// Proposal sizes in bytes (last, smallest, largest); leaders only, else
	// HasProposalSizes is false.
	HasProposalSizes                                   bool
	ProposalSizeLast, ProposalSizeMin, ProposalSizeMax int64
}

// ParseSrvr parses the answer to srvr (or the matching lines of stat).
func ParseSrvr(text string) (*ServerStats, error) {
	s := &ServerStats{}
	var haveVersion, haveMode bool
	for _, line := range strings.Split(text, "\n") {
		key, val, ok := strings.Cut(strings.TrimRight(line, "\r"), ": ")
		if !ok {
			continue // "Clients:" and connection lines in stat's answer
		}
		var err error
		switch key {
		case "Zookeeper version":
			haveVersion = true
			s.Version, s.BuiltOn, _ = strings.Cut(val, ", built on ")
		case "Latency min/avg/max":
			var avg float64
			var minmax []int64
			if avg, err = middleFloat(val); err == nil {
				if minmax, err = ints(val, true); err == nil {
					s.MinLatency, s.AvgLatency, s.MaxLatency = minmax[0], avg, minmax[2]
				}
			}
		case "Received":
			s.Received, err = strconv.ParseInt(val, 10, 64)
		case "Sent":
			s.Sent, err = strconv.ParseInt(val, 10, 64)
		case "Connections":
			s.Connections, err = strconv.ParseInt(val, 10, 64)
		case "Outstanding":
			s.Outstanding, err = strconv.ParseInt(val, 10, 64)
		case "Zxid":
			var z int64
			z, err = parseHex(val)
			s.Zxid = Zxid(z)
		case "Mode":
			haveMode = val != ""
			s.Mode = Mode(val)
		case "Node count":
			s.NodeCount, err = strconv.ParseInt(val, 10, 64)
		case "Proposal sizes last/min/max":
			var sizes []int64
			if sizes, err = ints(val, false); err == nil {
				s.HasProposalSizes = true
				s.ProposalSizeLast, s.ProposalSizeMin, s.ProposalSizeMax = sizes[0], sizes[1], sizes[2]
			}
		}
		if err != nil {
			return nil, fmt.Errorf("srvr line %q: %w", line, err)
		}
	}
	if !haveVersion || !haveMode {
		return nil, fmt.Errorf("srvr answer without version or mode line: %q", truncate(text, 200))
	}
	return s, nil
}

// ints parses "a/b/c" as three integers. skipMiddle leaves the
// middle value (an average, which 3.5+ writes with decimals) at zero.
func ints(val string, skipMiddle bool) ([]int64, error) {
	parts := strings.Split(val, "/")
	if len(parts) != 3 {
		return nil, errors.New("want three values separated by /")
	}
	out := make([]int64, 3)
	for i, p := range parts {
		if i == 1 && skipMiddle {
			continue
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// middleFloat parses the middle value of "a/b/c" as a float.
func middleFloat(val string) (float64, error) {
	parts := strings.Split(val, "/")
	if len(parts) != 3 {
		return 0, errors.New("want three values separated by /")
	}
	return strconv.ParseFloat(parts[1], 64)
}

// parseHex parses 0x-prefixed hex as sent in zxids and session ids; values
// with the top bit set (0xffffffffffffffff for "none") become negative.
func parseHex(s string) (int64, error) {
	u, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		return 0, err
	}
	return int64(u), nil
}

// Monitor is the answer to mntr: every variable in Values, and the common
// ones typed. Fields for variables the server did not send stay zero.
type Monitor struct {
	// Values holds every variable as sent, keyed by name (zk_version, ...).
	Values map[string]string

	Version                 string // version and build, as in zk_version
	ServerState             Mode   // zk_server_state
	AvgLatency              float64
	MinLatency, MaxLatency  int64
	PacketsReceived         int64
	PacketsSent             int64
	NumAliveConnections     int64
	OutstandingRequests     int64
	ZnodeCount              int64
	WatchCount              int64
	EphemeralsCount         int64
	ApproximateDataSize     int64 // bytes
	OpenFileDescriptorCount int64
	MaxFileDescriptorCount  int64
	Uptime                  time.Duration // zk_uptime (3.6+)
	GlobalSessions          int64
	// Leader only.
	Learners        int64 // zk_learners (3.6+), zk_followers before
	SyncedFollowers int64
	SyncedObservers int64
	PendingSyncs    int64
	// Ensemble members (3.6+).
	QuorumSize int64
}

// Int returns a variable as an integer.
func (m *Monitor) Int(key string) (int64, bool) {
	v, ok := m.Values[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// Float returns a variable as a float.
func (m *Monitor) Float(key string) (float64, bool) {
	v, ok := m.Values[key]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// ParseMntr parses the answer to mntr: one "key<TAB>value" per line.
func ParseMntr(text string) (*Monitor, error) {
	m := &Monitor{Values: make(map[string]string)}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("mntr line %q: want key<TAB>value", truncate(line, 100))
		}
		m.Values[k] = v
	}
	if _, ok := m.Values["zk_version"]; !ok {
		return nil, fmt.Errorf("mntr answer without zk_version: %q", truncate(text, 200))
	}
	m.Version = m.Values["zk_version"]
	m.ServerState = Mode(m.Values["zk_server_state"])
	var errs []error
	ints := []struct {
		key string
		dst *int64
	}{
		{"zk_min_latency", &m.MinLatency},
		{"zk_max_latency", &m.MaxLatency},
		{"zk_packets_received", &m.PacketsReceived},
		{"zk_packets_sent", &m.PacketsSent},
		{"zk_num_alive_connections", &m.NumAliveConnections},
		{"zk_outstanding_requests", &m.OutstandingRequests},
		{"zk_znode_count", &m.ZnodeCount},
		{"zk_watch_count", &m.WatchCount},
		{"zk_ephemerals_count", &m.EphemeralsCount},
		{"zk_approximate_data_size", &m.ApproximateDataSize},
		{"zk_open_file_descriptor_count", &m.OpenFileDescriptorCount},
		{"zk_max_file_descriptor_count", &m.MaxFileDescriptorCount},
		{"zk_global_sessions", &m.GlobalSessions},
		{"zk_followers", &m.Learners}, // 3.4/3.5 name; 3.6+ zk_learners below wins
		{"zk_learners", &m.Learners},
		{"zk_synced_followers", &m.SyncedFollowers},
		{"zk_synced_observers", &m.SyncedObservers},
		{"zk_pending_syncs", &m.PendingSyncs},
		{"zk_quorum_size", &m.QuorumSize},
	}
	for _, f := range ints {
		v, ok := m.Values[f.key]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("mntr %s=%q: %w", f.key, v, err))
			continue
		}
		*f.dst = n
	}
	if v, ok := m.Values["zk_avg_latency"]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("mntr zk_avg_latency=%q: %w", v, err))
		}
		m.AvgLatency = f
	}
	if v, ok := m.Values["zk_uptime"]; ok {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("mntr zk_uptime=%q: %w", v, err))
		}
		m.Uptime = time.Duration(ms) * time.Millisecond
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// Connection is one client connection in the answer to cons. Connections
// that have not finished their handshake carry only Addr, Interest, Queued,
// Received and Sent (HasSession false).
type Connection struct {
	Addr     string // client host:port as the server sees it
	Interest int    // the selector's interest ops (1 = read)
	Queued   int64  // requests queued
	Received int64  // packets received
	Sent     int64  // packets sent

	HasSession    bool
	SessionID     int64
	LastOperation string        // lop: e.g. PING, GETD, EXIS, CREA, NA
	Established   time.Time     // est
	Timeout       time.Duration // negotiated session timeout (to)
	LastCxid      int64         // last client request id; -1 when none
	LastZxid      int64         // last zxid seen; -1 when none
	// LastResponse is lresp: the server's monotonic clock (milliseconds since
	// an arbitrary origin, not a wall-clock time) at the last response.
	LastResponse int64
	// Latency of this connection's requests, in milliseconds.
	LastLatency, MinLatency, AvgLatency, MaxLatency int64

	// Fields holds every key=value in the parentheses, as sent.
	Fields map[string]string
}

// ParseCons parses the answer to cons: one connection a line, like
//
//	/127.0.0.1:33746[1](queued=0,recved=2,sent=2,sid=0x1000012b6ac0000,lop=EXIS,...)
func ParseCons(text string) ([]Connection, error) {
	var conns []Connection
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		c, err := parseConnection(line)
		if err != nil {
			return nil, fmt.Errorf("cons line %q: %w", truncate(line, 200), err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func parseConnection(line string) (Connection, error) {
	var c Connection
	open := strings.IndexByte(line, '[')
	closeB := strings.IndexByte(line, ']')
	if open < 0 || closeB < open || !strings.HasPrefix(line[closeB+1:], "(") || !strings.HasSuffix(line, ")") {
		return c, errors.New("want ADDRESS[INTEREST](key=value,...)")
	}
	addr, err := parseJavaAddr(line[:open])
	if err != nil {
		return c, err
	}
	c.Addr = addr
	if c.Interest, err = strconv.Atoi(line[open+1 : closeB]); err != nil {
		return c, fmt.Errorf("interest ops: %w", err)
	}
	c.Fields = make(map[string]string)
	for _, kv := range strings.Split(line[closeB+2:len(line)-1], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return c, fmt.Errorf("field %q: want key=value", kv)
		}
		c.Fields[k] = v
	}
	num := func(key string, dst *int64) {
		if v, ok := c.Fields[key]; ok && err == nil {
			*dst, err = strconv.ParseInt(v, 10, 64)
			if err != nil {
				err = fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	hex := func(key string, dst *int64) {
		if v, ok := c.Fields[key]; ok && err == nil {
			*dst, err = parseHex(v)
			if err != nil {
				err = fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	num("queued", &c.Queued)
	num("recved", &c.Received)
	num("sent", &c.Sent)
	if _, ok := c.Fields["sid"]; ok {
		c.HasSession = true
		var est, to int64
		hex("sid", &c.SessionID)
		hex("lcxid", &c.LastCxid)
		hex("lzxid", &c.LastZxid)
		num("est", &est)
		num("to", &to)
		num("lresp", &c.LastResponse)
		num("llat", &c.LastLatency)
		num("minlat", &c.MinLatency)
		num("avglat", &c.AvgLatency)
		num("maxlat", &c.MaxLatency)
		c.LastOperation = c.Fields["lop"]
		if est > 0 {
			c.Established = time.UnixMilli(est).UTC()
		}
		c.Timeout = time.Duration(to) * time.Millisecond
	}
	return c, err
}

// parseJavaAddr turns Java's InetSocketAddress.toString ("/127.0.0.1:33746",
// "host/10.0.0.1:33746", "/0:0:0:0:0:0:0:1:33746") into host:port.
func parseJavaAddr(s string) (string, error) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return "", fmt.Errorf("address %q: want host:port", s)
	}
	host, port := s[:i], s[i+1:]
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("address %q: bad port", s)
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		host = ip.String() // 0:0:0:0:0:0:0:1 -> ::1
	}
	return net.JoinHostPort(host, port), nil
}
