package raftnet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"testing/iotest"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/quorum"
)

// The node's requests keep every field it fills at the versions the client sends them with.
func TestRequestRoundTrip(t *testing.T) {
	cluster := "c1"
	vote := kmsg.NewPtrVoteRequest()
	vote.ClusterID = &cluster
	vp := kmsg.NewVoteRequestTopicPartition()
	vp.CandidateEpoch, vp.CandidateID, vp.LastOffsetEpoch, vp.LastOffset, vp.PreVote = 7, 2, 6, 41, true
	vote.Topics = []kmsg.VoteRequestTopic{{Topic: quorum.MetadataTopic, Partitions: []kmsg.VoteRequestTopicPartition{vp}}}

	begin := kmsg.NewPtrBeginQuorumEpochRequest()
	begin.ClusterID = &cluster
	bp := kmsg.NewBeginQuorumEpochRequestTopicPartition()
	bp.LeaderID, bp.LeaderEpoch = 3, 9
	begin.Topics = []kmsg.BeginQuorumEpochRequestTopic{{Topic: quorum.MetadataTopic, Partitions: []kmsg.BeginQuorumEpochRequestTopicPartition{bp}}}

	end := kmsg.NewPtrEndQuorumEpochRequest()
	end.ClusterID = &cluster
	ep := kmsg.NewEndQuorumEpochRequestTopicPartition()
	ep.LeaderID, ep.LeaderEpoch, ep.PreferredSuccessors = 3, 9, []int32{1, 2}
	end.Topics = []kmsg.EndQuorumEpochRequestTopic{{Topic: quorum.MetadataTopic, Partitions: []kmsg.EndQuorumEpochRequestTopicPartition{ep}}}

	fetch := kmsg.NewPtrFetchRequest()
	fetch.ClusterID = &cluster
	fetch.ReplicaID = -1
	fetch.ReplicaState.ID = 2
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.CurrentLeaderEpoch, fp.FetchOffset, fp.LastFetchedEpoch = 9, 100, 8
	fetch.Topics = []kmsg.FetchRequestTopic{{Topic: quorum.MetadataTopic, TopicID: quorum.MetadataTopicID, Partitions: []kmsg.FetchRequestTopicPartition{fp}}}

	for _, req := range []kmsg.Request{vote, begin, end, fetch} {
		req.SetVersion(requestVersions[req.Key()])
		frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("raft-client-2")).AppendRequest(nil, req, 77)
		// Read it as the listener does, one byte at a time.
		b, err := kafkawire.ReadFrame(iotest.OneByteReader(bytes.NewReader(frame)), kafkawire.MinRequestFrame, 1<<20)
		if err != nil {
			t.Fatalf("key %d: ReadFrame: %v", req.Key(), err)
		}
		r, err := parseRequest(b)
		if err != nil {
			t.Fatalf("key %d: parseRequest: %v", req.Key(), err)
		}
		if r.hdr.Correlation != 77 || r.hdr.ClientIDString() != "raft-client-2" {
			t.Errorf("key %d: header correlation %d client %q", req.Key(), r.hdr.Correlation, r.hdr.ClientIDString())
		}
		if got, want := r.req.AppendTo(nil), req.AppendTo(nil); !bytes.Equal(got, want) {
			t.Errorf("key %d: body changed in the round trip", req.Key())
		}
		if senderID(r.req) < 0 {
			t.Errorf("key %d: no sender id", req.Key())
		}
	}
	// Fields of later versions survive only because the client sends those versions.
	b := kmsg.NewRequestFormatter().AppendRequest(nil, vote, 1)
	r, err := parseRequest(b[4:])
	if err != nil {
		t.Fatal(err)
	}
	if p := r.req.(*kmsg.VoteRequest).Topics[0].Partitions[0]; !p.PreVote {
		t.Error("Vote lost PreVote on the wire")
	}
	b = kmsg.NewRequestFormatter().AppendRequest(nil, fetch, 1)
	if r, err = parseRequest(b[4:]); err != nil {
		t.Fatal(err)
	}
	if f := r.req.(*kmsg.FetchRequest); f.ReplicaState.ID != 2 || f.Topics[0].Partitions[0].LastFetchedEpoch != 8 || f.ClusterID == nil || *f.ClusterID != cluster {
		t.Errorf("Fetch lost fields on the wire: replica %d, last fetched epoch %d", f.ReplicaState.ID, f.Topics[0].Partitions[0].LastFetchedEpoch)
	}
}

func TestResponseRoundTrip(t *testing.T) {
	req := kmsg.NewPtrFetchRequest()
	req.Version = 16
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = 16
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.HighWatermark, rp.RecordBatches = 12, []byte("batches")
	rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = 4, 10
	rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = 3, 5
	resp.Topics = []kmsg.FetchResponseTopic{{TopicID: quorum.MetadataTopicID, Partitions: []kmsg.FetchResponseTopicPartition{rp}}}
	frame := kafkawire.AppendResponse(nil, kafkawire.RequestHeader{Key: req.Key(), Version: req.Version, Correlation: 9, Flexible: true}, resp)
	b, err := kafkawire.ReadFrame(iotest.OneByteReader(bytes.NewReader(frame)), kafkawire.MinResponseFrame, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, err := kafkawire.ParseResponse(b, req, 9)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.AppendTo(nil), resp.AppendTo(nil)) {
		t.Error("fetch response changed in the round trip")
	}
	if _, err := kafkawire.ParseResponse(b, req, 10); err == nil {
		t.Error("a response with another correlation id was accepted")
	}
}

// The listener serves only the quorum's API keys: anything else closes the connection.
func TestListenerClosesOnOtherKeys(t *testing.T) {
	srv, err := New(Config{
		Node:       quorum.Config{NodeID: 1, Voters: []int32{1}, Log: quorum.NewMemLog(), Store: &quorum.MemStore{}},
		ListenAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	conn, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(kmsg.NewRequestFormatter().AppendRequest(nil, kmsg.NewPtrMetadataRequest(), 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := kafkawire.ReadFrame(bufio.NewReader(conn), kafkawire.MinResponseFrame, 1<<20); !errors.Is(err, io.EOF) {
		t.Fatalf("after a Metadata request: %v, want the connection closed (EOF)", err)
	}
}

// A peer that takes requests and never answers: each request gives up at its deadline, the
// connection is closed, and the next request dials again.
func TestPeerRequestDeadlineAndRedial(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	type accepted struct {
		at     time.Time
		closed chan time.Time // when the client closed it
		frame  []byte         // the first request read from it
	}
	conns := make(chan accepted, 16)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			a := accepted{at: time.Now(), closed: make(chan time.Time, 1)}
			frame, _ := kafkawire.ReadFrame(c, kafkawire.MinRequestFrame, 1<<20)
			a.frame = frame
			conns <- a
			go func() {
				defer c.Close()
				_, _ = io.Copy(io.Discard, c)
				a.closed <- time.Now()
			}()
		}
	}()

	const requestTimeout = 200 * time.Millisecond
	srv, err := New(Config{
		Node: quorum.Config{
			NodeID: 1, Voters: []int32{1, 2}, Log: quorum.NewMemLog(), Store: &quorum.MemStore{},
			ElectionTimeout: 50 * time.Millisecond, RequestTimeout: requestTimeout,
		},
		ListenAddr: "127.0.0.1:0",
		Peers:      map[int32]string{2: silent.Addr().String()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	timeout := time.After(10 * time.Second)
	var first accepted
	select {
	case first = <-conns:
	case <-timeout:
		t.Fatal("node 1 never connected to its peer")
	}
	r, err := parseRequest(first.frame)
	if err != nil {
		t.Fatalf("first request: %v", err)
	}
	if v, ok := r.req.(*kmsg.VoteRequest); !ok || !v.Topics[0].Partitions[0].PreVote || r.hdr.ClientIDString() != "raft-client-1" {
		t.Fatalf("first request is %T from %q, want a pre-vote from raft-client-1", r.req, r.hdr.ClientIDString())
	}
	select {
	case at := <-first.closed:
		if d := at.Sub(first.at); d < requestTimeout/2 {
			t.Errorf("the client closed the unanswered connection after %v, before its request deadline %v", d, requestTimeout)
		}
	case <-timeout:
		t.Fatal("the client never gave up on an unanswered request")
	}
	select {
	case <-conns:
	case <-timeout:
		t.Fatal("the client never dialled again")
	}
}
