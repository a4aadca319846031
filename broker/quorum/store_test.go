package quorum

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestQuorumStateFileRoundTrip(t *testing.T) {
	for _, version := range []int16{0, 1} {
		dir := t.TempDir()
		fs := &FileStore{Path: filepath.Join(dir, QuorumStateFile), Version: version, Voters: []int32{1, 2, 3}}
		if _, ok, err := fs.Read(); ok || err != nil {
			t.Fatalf("v%d: a missing file read as ok=%v err=%v, want no state and no error", version, ok, err)
		}
		want := ElectionState{Epoch: 7, LeaderID: 2, VotedID: 3, VotedDirectoryID: [16]byte{0: 3, 15: 7}}
		if err := fs.Write(want); err != nil {
			t.Fatal(err)
		}
		if version == 0 {
			want.VotedDirectoryID = [16]byte{} // data_version 0 has no votedDirectoryId
		}
		got, ok, err := fs.Read()
		if err != nil || !ok || got != want {
			t.Fatalf("v%d: read back %s ok=%v err=%v, want %s", version, got, ok, err, want)
		}
		if _, err := os.Stat(fs.Path + ".tmp"); !os.IsNotExist(err) {
			t.Fatalf("v%d: the temporary file was left behind: %v", version, err)
		}
	}
}

func TestQuorumStateFileIsKafkasFormat(t *testing.T) {
	dir := t.TempDir()
	fs := &FileStore{Path: filepath.Join(dir, QuorumStateFile), Version: 1}
	if err := fs.Write(ElectionState{Epoch: 2, LeaderID: -1, VotedID: 1}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(fs.Path)
	if want := `{"leaderId":-1,"leaderEpoch":2,"votedId":1,"votedDirectoryId":"AAAAAAAAAAAAAAAAAAAAAA","data_version":1}`; string(b) != want {
		t.Fatalf("file holds\n%s\nwant\n%s", b, want)
	}
	fs0 := &FileStore{Path: filepath.Join(dir, "v0"), Version: 0, Voters: []int32{1, 2}}
	fs0.Write(ElectionState{Epoch: 2, LeaderID: 1, VotedID: -1})
	b, _ = os.ReadFile(fs0.Path)
	if want := `{"clusterId":"","leaderId":1,"leaderEpoch":2,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":1},{"voterId":2}],"data_version":0}`; string(b) != want {
		t.Fatalf("file holds\n%s\nwant\n%s", b, want)
	}
	// The voted candidate's directory id, as Kafka's Uuid.toString writes it.
	votedDir := [16]byte{0x27, 0xc6, 0x80, 0x3d, 0xc7, 0xcb, 0x42, 0xdd, 0x9b, 0xaa, 0xcd, 0x49, 0x4f, 0xfa, 0xcc, 0x81}
	if err := fs.Write(ElectionState{Epoch: 2, LeaderID: -1, VotedID: 1, VotedDirectoryID: votedDir}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(fs.Path)
	if want := `{"leaderId":-1,"leaderEpoch":2,"votedId":1,"votedDirectoryId":"J8aAPcfLQt2bqs1JT_rMgQ","data_version":1}`; string(b) != want {
		t.Fatalf("file holds\n%s\nwant\n%s", b, want)
	}
	// Files as Apache Kafka writes them (FileQuorumStateStore's examples) read back.
	for line, want := range map[string]ElectionState{
		`{"clusterId":"","leaderId":1,"leaderEpoch":2,"votedId":-1,"appliedOffset":0,"currentVoters":[],"data_version":0}`: {Epoch: 2, LeaderID: 1, VotedID: -1},
		`{"leaderId":1,"leaderEpoch":2,"votedId":-1,"votedDirectoryId":"J8aAPcfLQt2bqs1JT_rMgQ","data_version":1}`:         {Epoch: 2, LeaderID: 1, VotedID: -1, VotedDirectoryID: votedDir},
	} {
		st, err := parseQuorumState([]byte(line + "\n"))
		if err != nil || st != want {
			t.Fatalf("%s: read %s, %v", line, st, err)
		}
	}
}

func TestInconsistentQuorumStateFileIsRefused(t *testing.T) {
	cases := []struct{ name, content, wantErr string }{
		{"not JSON", `leaderId=1`, "not a JSON object"},
		{"no data_version", `{"leaderId":1,"leaderEpoch":2,"votedId":-1,"votedDirectoryId":"AAAAAAAAAAAAAAAAAAAAAA"}`, `"data_version" is missing`},
		{"future version", `{"leaderId":1,"leaderEpoch":2,"votedId":-1,"data_version":2}`, "data_version 2 is not within"},
		{"v1 without votedDirectoryId", `{"leaderId":1,"leaderEpoch":2,"votedId":-1,"data_version":1}`, `"votedDirectoryId", mandatory in data_version 1`},
		{"v0 without currentVoters", `{"clusterId":"","leaderId":1,"leaderEpoch":2,"votedId":-1,"appliedOffset":0,"data_version":0}`, `"currentVoters", mandatory in data_version 0`},
		{"leader without an epoch", `{"leaderId":1,"leaderEpoch":-1,"votedId":-1,"votedDirectoryId":"AAAAAAAAAAAAAAAAAAAAAA","data_version":1}`, "leaderEpoch -1 is negative but"},
		{"bad votedDirectoryId", `{"leaderId":1,"leaderEpoch":2,"votedId":-1,"votedDirectoryId":"AAAA","data_version":1}`, `"votedDirectoryId": "AAAA" is not a Kafka Uuid`},
		{"wrong type", `{"leaderId":"one","leaderEpoch":2,"votedId":-1,"votedDirectoryId":"AAAAAAAAAAAAAAAAAAAAAA","data_version":1}`, `field "leaderId"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), QuorumStateFile)
			os.WriteFile(path, []byte(c.content), 0o644)
			_, _, err := (&FileStore{Path: path, Version: 1}).Read()
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err %v, want one naming the file and saying %q", err, c.wantErr)
			}
		})
	}
	t.Run("a leader outside the voter set", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), QuorumStateFile)
		fs := &FileStore{Path: path, Version: 1}
		fs.Write(ElectionState{Epoch: 3, LeaderID: 9, VotedID: -1})
		_, err := New(Config{NodeID: 1, Voters: []int32{1, 2, 3}, Log: NewMemLog(), Store: fs, Transport: &recorder{},
			Clock: NewManualClock(time.Unix(0, 0)), Rand: rand.New(rand.NewPCG(1, 1))})
		if err == nil || !strings.Contains(err.Error(), "names node 9, which is not in the voter set") {
			t.Fatalf("err %v, want a refusal naming node 9 and the voter set", err)
		}
	})
}

func TestRestartResumesTheStoredState(t *testing.T) {
	cases := []struct {
		st   ElectionState
		want State
	}{
		{ElectionState{Epoch: 3, LeaderID: 1, VotedID: 1}, Resigned},
		{ElectionState{Epoch: 3, LeaderID: 2, VotedID: -1}, Follower},
		{ElectionState{Epoch: 3, LeaderID: -1, VotedID: 2}, Voted},
		{ElectionState{Epoch: 3, LeaderID: -1, VotedID: 1}, Candidate},
		{ElectionState{Epoch: 3, LeaderID: -1, VotedID: -1}, Unattached},
	}
	for _, c := range cases {
		tn := newTestNode(t, 1, []int32{1, 2, 3}, []int32{1, 3}, &c.st)
		if tn.State() != c.want || tn.Epoch() != 3 {
			t.Errorf("%s: restarted %s in epoch %d, want %s in epoch 3", c.st, tn.State(), tn.Epoch(), c.want)
		}
	}
	// A state file behind the log: start unattached in the log's epoch rather than vote again
	// in an epoch the node may already have voted in.
	tn := newTestNode(t, 1, []int32{1, 2, 3}, []int32{1, 5}, &ElectionState{Epoch: 3, LeaderID: -1, VotedID: -1})
	if tn.State() != Unattached || tn.Epoch() != 5 {
		t.Fatalf("restarted %s in epoch %d, want unattached in the log's epoch 5", tn.State(), tn.Epoch())
	}
}

func TestVoteSurvivesARestartThroughTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), QuorumStateFile)
	clock := NewManualClock(time.Unix(0, 0))
	start := func() (*Node, *recorder) {
		net := &recorder{}
		n, err := New(Config{NodeID: 1, Voters: []int32{1, 2, 3}, Log: NewMemLog(), Store: &FileStore{Path: path, Version: 1},
			Transport: net, Clock: clock, Rand: rand.New(rand.NewPCG(1, 1))})
		if err != nil {
			t.Fatal(err)
		}
		return n, net
	}
	n, net := start()
	req := voteRequest(2, 4, 0, 0)
	req.To = 1
	req.Request.(*kmsg.VoteRequest).Topics[0].Partitions[0].CandidateDirectoryID = [16]byte{0: 2, 15: 2}
	n.Step(req)
	if p := onlyVoteAnswer(t, net.take()); !p.VoteGranted {
		t.Fatal("vote refused")
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"leaderEpoch":4,"votedId":2,"votedDirectoryId":"AgAAAAAAAAAAAAAAAAAAAg"`) {
		t.Fatalf("quorum-state after the vote: %s, want the vote for node 2 and the directory it stood with", b)
	}
	n2, net2 := start()
	if n2.State() != Voted || n2.Epoch() != 4 || n2.VotedID() != 2 {
		t.Fatalf("restarted %s in epoch %d voted %d, want voted for 2 in epoch 4", n2.State(), n2.Epoch(), n2.VotedID())
	}
	req = voteRequest(3, 4, 0, 0)
	req.To = 1
	n2.Step(req)
	if p := onlyVoteAnswer(t, net2.take()); p.VoteGranted {
		t.Fatal("a second vote in epoch 4 after a restart")
	}
}
