package raftnet

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

func dirOf(id int32) [16]byte { return [16]byte{0: byte(id), 15: 9} }

func endpointOf(t *testing.T, ln net.Listener) quorum.Endpoint {
	t.Helper()
	host, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return quorum.Endpoint{Name: "CONTROLLER", Host: host, Port: uint16(p)}
}

// bootstrapServer is the id a test node gives its one bootstrap server (Kafka numbers them
// below -1, as they are not node ids).
const bootstrapServer = -2

// startDynamic starts node id of a kraft.version 1 quorum on ln, with in-memory storage; a
// node without a bootstrap voter set knows only the bootstrap server at join.
func startDynamic(t *testing.T, id int32, ln net.Listener, bootstrap quorum.VoterSet, join string) *Server {
	t.Helper()
	peers := map[int32]string{}
	if join != "" {
		peers[bootstrapServer] = join
	}
	srv, err := New(Config{
		Node: quorum.Config{
			NodeID: id, KRaftVersion: 1, BootstrapVoters: bootstrap, Bootstrap: []int32{bootstrapServer}, DirectoryID: dirOf(id),
			ClusterID:       "raftnet-test",
			ElectionTimeout: 150 * time.Millisecond, FetchTimeout: 400 * time.Millisecond,
			ElectionBackoffMax: 100 * time.Millisecond, RequestTimeout: 300 * time.Millisecond,
			FetchBackoff: 10 * time.Millisecond,
			Log:          quorum.NewMemLog(), Store: &quorum.MemStore{},
		},
		Listener: ln, Peers: peers, TickInterval: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// adminRequest sends req to addr on a connection of its own and returns the answer.
func adminRequest(t *testing.T, addr string, req kmsg.Request) kmsg.Response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("test-admin")).AppendRequest(nil, req, 7)
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	b, err := kafkawire.ReadFrame(bufio.NewReader(conn), kafkawire.MinResponseFrame, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := kafkawire.ParseResponse(b, req, 7)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func nodeState(t *testing.T, s *Server) (state quorum.State, leader int32, voters []int32) {
	t.Helper()
	if err := s.Do(context.Background(), func(n *quorum.Node) {
		state, leader, voters = n.State(), n.LeaderID(), n.Voters().IDs()
	}); err != nil {
		t.Fatal(err)
	}
	return
}

// twoVoters starts node 1 as a standalone voter and node 2 joining through node 1 as its
// bootstrap server, and adds node 2 with AddRaftVoter sent to node 1.
func twoVoters(t *testing.T) (s1, s2 *Server, ln1, ln2 net.Listener) {
	t.Helper()
	var err error
	if ln1, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if ln2, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	v1 := quorum.Voter{ID: 1, DirectoryID: dirOf(1), Endpoints: []quorum.Endpoint{endpointOf(t, ln1)}, MaxKRaftVersion: 1}
	s1 = startDynamic(t, 1, ln1, quorum.VoterSet{v1}, "")
	s2 = startDynamic(t, 2, ln2, nil, ln1.Addr().String())

	add := kmsg.NewPtrAddRaftVoterRequest()
	add.VoterID, add.VoterDirectoryID = 2, dirOf(2)
	ep := endpointOf(t, ln2)
	l := kmsg.NewAddRaftVoterRequestListener()
	l.Name, l.Host, l.Port = ep.Name, ep.Host, ep.Port
	add.Listeners = append(add.Listeners, l)
	// Refused until node 1 leads (NOT_LEADER_OR_FOLLOWER), then (REQUEST_TIMED_OUT) until node
	// 2 has found the leader through its bootstrap server, fetches, and has caught up.
	testenv.WaitFor(t, 10*time.Second, func() error {
		r := adminRequest(t, ln1.Addr().String(), add).(*kmsg.AddRaftVoterResponse)
		switch r.ErrorCode {
		case 0:
			return nil
		case kerr.RequestTimedOut.Code, kerr.NotLeaderForPartition.Code:
			return kerr.ErrorForCode(r.ErrorCode)
		}
		t.Fatalf("AddRaftVoter: %v", kerr.ErrorForCode(r.ErrorCode))
		return nil
	})
	if _, _, voters := nodeState(t, s2); !slices.Equal(voters, []int32{1, 2}) {
		t.Fatalf("node 2 knows voters %v after its addition committed, want [1 2]", voters)
	}
	return s1, s2, ln1, ln2
}

// Over the wire: a standalone controller adds a second one (which knew only a bootstrap
// server's address, and learnt the leader's listener from a fetch answer) with AddRaftVoter,
// then removes itself with RemoveRaftVoter; the second becomes the leader, and the first, now an
// observer, follows it through the voter set's listener, which no configuration listed.
func TestAddAndRemoveVoterOverTheWire(t *testing.T) {
	s1, s2, ln1, _ := twoVoters(t)
	rm := kmsg.NewPtrRemoveRaftVoterRequest()
	rm.VoterID, rm.VoterDirectoryID = 1, dirOf(1)
	if r := adminRequest(t, ln1.Addr().String(), rm).(*kmsg.RemoveRaftVoterResponse); r.ErrorCode != 0 {
		t.Fatalf("RemoveRaftVoter: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	testenv.WaitFor(t, 10*time.Second, func() error {
		st2, _, _ := nodeState(t, s2)
		st1, leader1, voters1 := nodeState(t, s1)
		if st2 == quorum.Leader && st1 == quorum.Follower && leader1 == 2 && len(voters1) == 1 {
			return nil
		}
		return fmt.Errorf("node 2 is %s; node 1 is %s of leader %d with voters %v; want node 2 leading and node 1 following it", st2, st1, leader1, voters1)
	})
}

// The voter-change handlers' error codes on the wire: a follower refuses all three with
// NOT_LEADER_OR_FOLLOWER (UpdateRaftVoter also names the leader and its listener), the leader
// refuses a voter it has (DUPLICATE_VOTER), one it has not (VOTER_NOT_FOUND), and a static
// quorum refuses every change (UNSUPPORTED_VERSION).
func TestVoterChangeErrorsOverTheWire(t *testing.T) {
	s1, _, ln1, ln2 := twoVoters(t)
	_, leader, _ := nodeState(t, s1)
	if leader != 1 {
		t.Fatalf("leader %d, want 1", leader)
	}
	add := kmsg.NewPtrAddRaftVoterRequest()
	add.VoterID, add.VoterDirectoryID = 2, dirOf(2)
	l := kmsg.NewAddRaftVoterRequestListener()
	l.Name, l.Host, l.Port = "CONTROLLER", "127.0.0.1", 1
	add.Listeners = append(add.Listeners, l)
	if r := adminRequest(t, ln2.Addr().String(), add).(*kmsg.AddRaftVoterResponse); r.ErrorCode != kerr.NotLeaderForPartition.Code {
		t.Errorf("AddRaftVoter to a follower: %v, want NOT_LEADER_OR_FOLLOWER", kerr.ErrorForCode(r.ErrorCode))
	}
	if r := adminRequest(t, ln1.Addr().String(), add).(*kmsg.AddRaftVoterResponse); r.ErrorCode != kerr.DuplicateVoter.Code {
		t.Errorf("AddRaftVoter of a voter: %v, want DUPLICATE_VOTER", kerr.ErrorForCode(r.ErrorCode))
	}
	rm := kmsg.NewPtrRemoveRaftVoterRequest()
	rm.VoterID, rm.VoterDirectoryID = 1, dirOf(1)
	if r := adminRequest(t, ln2.Addr().String(), rm).(*kmsg.RemoveRaftVoterResponse); r.ErrorCode != kerr.NotLeaderForPartition.Code {
		t.Errorf("RemoveRaftVoter to a follower: %v, want NOT_LEADER_OR_FOLLOWER", kerr.ErrorForCode(r.ErrorCode))
	}
	rm.VoterID, rm.VoterDirectoryID = 7, dirOf(7)
	if r := adminRequest(t, ln1.Addr().String(), rm).(*kmsg.RemoveRaftVoterResponse); r.ErrorCode != kerr.VoterNotFound.Code {
		t.Errorf("RemoveRaftVoter of no voter: %v, want VOTER_NOT_FOUND", kerr.ErrorForCode(r.ErrorCode))
	}
	up := kmsg.NewPtrUpdateRaftVoterRequest()
	up.VoterID, up.VoterDirectoryID = 2, dirOf(2)
	ul := kmsg.NewUpdateRaftVoterRequestListener()
	ul.Name, ul.Host, ul.Port = "CONTROLLER", "127.0.0.1", 1
	up.Listeners = append(up.Listeners, ul)
	r := adminRequest(t, ln2.Addr().String(), up).(*kmsg.UpdateRaftVoterResponse)
	ep := endpointOf(t, ln1)
	if r.ErrorCode != kerr.NotLeaderForPartition.Code || r.CurrentLeader.LeaderID != 1 ||
		r.CurrentLeader.Host != ep.Host || r.CurrentLeader.Port != int32(ep.Port) {
		t.Errorf("UpdateRaftVoter to a follower: %v, leader %+v; want NOT_LEADER_OR_FOLLOWER naming node 1 at %s:%d",
			kerr.ErrorForCode(r.ErrorCode), r.CurrentLeader, ep.Host, ep.Port)
	}

	// A static quorum of one (kraft.version 0) leads at once and refuses any change.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	static, err := New(Config{
		Node: quorum.Config{NodeID: 1, Voters: []int32{1}, ClusterID: "raftnet-test", ElectionTimeout: 150 * time.Millisecond,
			Log: quorum.NewMemLog(), Store: &quorum.MemStore{}},
		Listener: ln, TickInterval: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := static.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(static.Stop)
	testenv.WaitFor(t, 10*time.Second, func() error {
		if st, _, _ := nodeState(t, static); st != quorum.Leader {
			return fmt.Errorf("static node is %s", st)
		}
		return nil
	})
	add.VoterID = 3
	if r := adminRequest(t, ln.Addr().String(), add).(*kmsg.AddRaftVoterResponse); r.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Errorf("AddRaftVoter on a static quorum: %v, want UNSUPPORTED_VERSION", kerr.ErrorForCode(r.ErrorCode))
	}
}
