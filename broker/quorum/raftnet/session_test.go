package raftnet

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/quorum"
)

// TestAcceptAndAuthorize: Config.Accept runs first on each connection (here it reads a one-byte
// "credential": a for alice, b for bob, anything else refused), Config.Authorize decides per
// quorum key with the session it returned (only alice), and Handler sees the session too.
func TestAcceptAndAuthorize(t *testing.T) {
	dir := t.TempDir()
	l, err := quorum.OpenStorageLog(dir, quorum.StorageLogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	handled := make(chan string, 4)
	srv, err := New(Config{
		Node: quorum.Config{
			NodeID: 1, Voters: []int32{1}, ClusterID: "sessions", ElectionTimeout: 50 * time.Millisecond,
			Log: l, Store: &quorum.FileStore{Path: filepath.Join(dir, quorum.QuorumStateFile), Voters: []int32{1}},
		},
		ListenAddr:   "127.0.0.1:0",
		TickInterval: 5 * time.Millisecond,
		Accept: func(_ context.Context, c net.Conn) (net.Conn, Session, error) {
			var b [1]byte
			if _, err := io.ReadFull(c, b[:]); err != nil {
				return nil, Session{}, err
			}
			switch b[0] {
			case 'a':
				return c, Session{Principal: "User:alice", Host: RemoteHost(c)}, nil
			case 'b':
				return c, Session{Principal: "User:bob", Host: RemoteHost(c)}, nil
			}
			return nil, Session{}, errors.New("unknown credential")
		},
		Authorize: func(s Session, _ int16) bool { return s.Principal == "User:alice" },
		Handler: func(ctx context.Context, _ *kafkawire.RequestHeader, _ []byte) (kmsg.Response, bool) {
			handled <- SessionFrom(ctx).Principal
			return kmsg.NewPtrApiVersionsResponse(), true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	as := func(cred byte) net.Conn {
		t.Helper()
		conn, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if _, err := conn.Write([]byte{cred}); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	if resp, err := describeQuorumOn(as('a')); err != nil || resp.ErrorCode != 0 {
		t.Errorf("DescribeQuorum as alice: %v %+v; want an answer", err, resp)
	}
	if resp, err := describeQuorumOn(as('b')); err != nil || resp.ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Errorf("DescribeQuorum as bob: %v %+v; want CLUSTER_AUTHORIZATION_FAILED", err, resp)
	}
	if _, err := describeQuorumOn(as('x')); err == nil {
		t.Error("a connection Accept refused was answered; want it closed")
	}

	conn := as('b')
	req := kmsg.NewPtrApiVersionsRequest()
	if _, err := conn.Write(kmsg.NewRequestFormatter().AppendRequest(nil, req, 1)); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-handled:
		if p != "User:bob" {
			t.Errorf("Handler saw principal %q; want User:bob", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Handler not called")
	}
}
