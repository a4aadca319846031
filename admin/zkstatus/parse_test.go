package zkstatus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The testdata files are real ZooKeeper 3.8.0 answers (Debian's package),
// recorded by testdata/capture.sh.
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseSrvr(t *testing.T) {
	cases := []struct {
		file     string
		mode     Mode
		zxid     Zxid
		epoch    int64
		nodes    int64
		conns    int64
		recv     int64
		lat      [3]float64
		proposal []int64
	}{
		{"standalone_srvr.txt", ModeStandalone, 0x3, 0, 6, 3, 10, [3]float64{2, 11.4, 28}, nil},
		{"leader_srvr.txt", ModeLeader, 0x100000003, 1, 6, 3, 9, [3]float64{4, 13.4, 28}, []int64{113, 48, 113}},
		{"follower_srvr.txt", ModeFollower, 0x100000008, 1, 6, 3, 9, [3]float64{4, 7.6, 11}, nil},
		{"restricted_srvr.txt", ModeStandalone, 0, 0, 5, 1, 4, [3]float64{0, 0, 0}, nil},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			s, err := ParseSrvr(readTestdata(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if s.Version != "3.8.0-${mvngit.commit.id}" || s.BuiltOn != "2024-12-29 17:54 UTC" {
				t.Errorf("version %q built on %q", s.Version, s.BuiltOn)
			}
			if s.Mode != c.mode || s.Zxid != c.zxid || s.Zxid.Epoch() != c.epoch || s.NodeCount != c.nodes ||
				s.Connections != c.conns || s.Received != c.recv || s.Outstanding != 0 {
				t.Errorf("got %+v", s)
			}
			if got := [3]float64{float64(s.MinLatency), s.AvgLatency, float64(s.MaxLatency)}; got != c.lat {
				t.Errorf("latency %v, want %v", got, c.lat)
			}
			if s.HasProposalSizes != (c.proposal != nil) {
				t.Fatalf("HasProposalSizes = %v", s.HasProposalSizes)
			}
			if c.proposal != nil {
				got := []int64{s.ProposalSizeLast, s.ProposalSizeMin, s.ProposalSizeMax}
				if got[0] != c.proposal[0] || got[1] != c.proposal[1] || got[2] != c.proposal[2] {
					t.Errorf("proposal sizes %v, want %v", got, c.proposal)
				}
			}
		})
	}
}

func TestParseSrvrOlderAndBroken(t *testing.T) {
	// ZooKeeper 3.4 writes an integer average and a different build stamp.
	v34 := "Zookeeper version: 3.4.14-4c25d480e66aadd371de8bd2fd8da255ac140bcf, built on 03/06/2019 16:18 GMT\n" +
		"Latency min/avg/max: 0/1/12\nReceived: 120\nSent: 119\nConnections: 2\nOutstanding: 0\n" +
		"Zxid: 0xffffffffffffffff\nMode: follower\nNode count: 4\n"
	s, err := ParseSrvr(v34)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != "3.4.14-4c25d480e66aadd371de8bd2fd8da255ac140bcf" || s.AvgLatency != 1 || s.MaxLatency != 12 ||
		s.Mode != ModeFollower || s.Zxid != -1 {
		t.Errorf("got %+v", s)
	}
	for _, bad := range []string{
		"",
		"imok",
		"Zookeeper version: 3.8.0\nLatency min/avg/max: 0/x/0\nMode: leader\n",
		"Zookeeper version: 3.8.0\nZxid: zz\nMode: leader\n",
		"Zookeeper version: 3.8.0\nReceived: 1\n",
		"Zookeeper version: 3.8.0\nMode: \n",
	} {
		if _, err := ParseSrvr(bad); err == nil {
			t.Errorf("ParseSrvr(%q) succeeded", bad)
		}
	}
}

func TestParseSrvrFromStat(t *testing.T) {
	// stat = srvr plus a client list; the srvr lines parse the same.
	s, err := ParseSrvr(readTestdata(t, "leader_stat.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode != ModeLeader || !s.HasProposalSizes {
		t.Errorf("got %+v", s)
	}
}

func TestParseMntr(t *testing.T) {
	cases := []struct {
		file                      string
		state                     Mode
		lines                     int
		znodes, conns, ephemerals int64
		learners, synced, quorum  int64
		uptime                    time.Duration
	}{
		{"standalone_mntr.txt", ModeStandalone, 495, 6, 3, 1, 0, 0, 0, 5260 * time.Millisecond},
		{"leader_mntr.txt", ModeLeader, 539, 6, 3, 1, 2, 2, 3, 865 * time.Millisecond},
		{"follower_mntr.txt", ModeFollower, 507, 6, 3, 1, 0, 0, 3, 953 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			text := readTestdata(t, c.file)
			m, err := ParseMntr(text)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Values) != c.lines || len(m.Values) != strings.Count(text, "\n") {
				t.Errorf("%d values, want %d (one per line)", len(m.Values), c.lines)
			}
			if m.ServerState != c.state || m.ZnodeCount != c.znodes || m.NumAliveConnections != c.conns ||
				m.EphemeralsCount != c.ephemerals || m.Learners != c.learners || m.SyncedFollowers != c.synced ||
				m.QuorumSize != c.quorum {
				t.Errorf("got state=%s znodes=%d conns=%d eph=%d learners=%d synced=%d quorum=%d",
					m.ServerState, m.ZnodeCount, m.NumAliveConnections, m.EphemeralsCount, m.Learners, m.SyncedFollowers, m.QuorumSize)
			}
			if m.Uptime != c.uptime {
				t.Errorf("uptime %v, want %v", m.Uptime, c.uptime)
			}
			if !strings.HasPrefix(m.Version, "3.8.0") || m.MaxFileDescriptorCount <= 0 || m.OpenFileDescriptorCount <= 0 ||
				m.PacketsReceived <= 0 || m.WatchCount != 1 {
				t.Errorf("common fields: %+v", *m)
			}
			if n, ok := m.Int("zk_znode_count"); !ok || n != m.ZnodeCount {
				t.Errorf("Int(zk_znode_count) = %d, %v", n, ok)
			}
			if f, ok := m.Float("zk_avg_latency"); !ok || f != m.AvgLatency {
				t.Errorf("Float(zk_avg_latency) = %v, %v", f, ok)
			}
			if _, ok := m.Int("zk_version"); ok {
				t.Error("Int(zk_version) succeeded on a string")
			}
		})
	}
}

func TestParseMntrBroken(t *testing.T) {
	for _, bad := range []string{
		"",
		"zk_znode_count\t5\n", // no version
		"zk_version\t3.8.0\nno tab here\n",
		"zk_version\t3.8.0\nzk_znode_count\tmany\n",
		"zk_version\t3.8.0\nzk_avg_latency\tslow\n",
	} {
		if _, err := ParseMntr(bad); err == nil {
			t.Errorf("ParseMntr(%q) succeeded", bad)
		}
	}
}

func TestParseCons(t *testing.T) {
	conns, err := ParseCons(readTestdata(t, "standalone_cons.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 3 {
		t.Fatalf("%d connections, want 3", len(conns))
	}
	c := conns[0]
	if c.Addr != "127.0.0.1:33746" || c.Interest != 1 || !c.HasSession || c.SessionID != 0x1000012b6ac0000 ||
		c.LastOperation != "EXIS" || c.Timeout != 20*time.Second || c.Received != 2 || c.Sent != 2 ||
		c.LastCxid != 1 || c.LastZxid != 1 || c.LastResponse != 1231402 || c.LastLatency != 5 ||
		c.MinLatency != 0 || c.AvgLatency != 16 || c.MaxLatency != 28 {
		t.Errorf("first connection: %+v", c)
	}
	if want := time.UnixMilli(1795298082326).UTC(); !c.Established.Equal(want) {
		t.Errorf("established %v, want %v", c.Established, want)
	}
	if conns[1].LastOperation != "GETD" || conns[1].SessionID != 0x1000012b6ac0001 {
		t.Errorf("second connection: %+v", conns[1])
	}
	// The connection that sent "cons" has no session yet.
	last := conns[2]
	if last.HasSession || last.Interest != 0 || last.Received != 1 || last.SessionID != 0 || len(last.Fields) != 3 {
		t.Errorf("sessionless connection: %+v", last)
	}

	leader, err := ParseCons(readTestdata(t, "leader_cons.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sessions := 0
	for _, c := range leader {
		if c.HasSession {
			sessions++
			if c.LastZxid>>32 != 1 {
				t.Errorf("leader connection lzxid %#x: want epoch 1", c.LastZxid)
			}
		}
	}
	if len(leader) != 3 || sessions != 2 {
		t.Errorf("leader: %d connections, %d with sessions; want 3, 2", len(leader), sessions)
	}
}

func TestParseConsAddressesAndErrors(t *testing.T) {
	conns, err := ParseCons(" /0:0:0:0:0:0:0:1:41000[1](queued=0,recved=1,sent=1,sid=0x1,lop=NA,est=1,to=30000,lcxid=0xffffffffffffffff,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0)\n" +
		" zk-client.example/10.1.2.3:5000[0](queued=0,recved=1,sent=0)\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if conns[0].Addr != "[::1]:41000" || conns[0].LastZxid != -1 || conns[0].LastCxid != -1 {
		t.Errorf("IPv6 connection: %+v", conns[0])
	}
	if conns[1].Addr != "10.1.2.3:5000" {
		t.Errorf("named connection address %q", conns[1].Addr)
	}
	if conns, err := ParseCons("\n"); err != nil || len(conns) != 0 {
		t.Errorf("empty cons = %v, %v", conns, err)
	}
	for _, bad := range []string{
		"/127.0.0.1:1[1]",
		"/127.0.0.1[1](queued=0)",
		"/127.0.0.1:1[x](queued=0)",
		"/127.0.0.1:1[1](queued)",
		"/127.0.0.1:1[1](queued=0,sid=0xzz)",
		"/127.0.0.1:1[1](queued=lots)",
	} {
		if _, err := ParseCons(bad); err == nil {
			t.Errorf("ParseCons(%q) succeeded", bad)
		}
	}
}
