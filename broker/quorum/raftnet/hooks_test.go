package raftnet

import (
	"bufio"
	"context"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/internal/testenv"
)

// TestHandlerAndOnStep: a key the quorum does not serve goes to Config.Handler on the same
// listener, and OnStep reports the node's state after the driver's steps (here a single voter
// electing itself).
func TestHandlerAndOnStep(t *testing.T) {
	dir := t.TempDir()
	l, err := quorum.OpenStorageLog(dir, quorum.StorageLogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var leading atomic.Bool
	var handled atomic.Int32
	srv, err := New(Config{
		Node: quorum.Config{
			NodeID: 1, Voters: []int32{1}, ClusterID: "hooks", ElectionTimeout: 50 * time.Millisecond,
			Log: l, Store: &quorum.FileStore{Path: filepath.Join(dir, quorum.QuorumStateFile), Voters: []int32{1}},
		},
		ListenAddr:   "127.0.0.1:0",
		TickInterval: 5 * time.Millisecond,
		Handler: func(_ context.Context, hdr *kafkawire.RequestHeader, _ []byte) (kmsg.Response, bool) {
			if hdr.Key != kmsg.ApiVersions.Int16() {
				return nil, false
			}
			handled.Add(1)
			resp := kmsg.NewPtrApiVersionsResponse()
			resp.ApiKeys = ServedAPIs()
			return resp, true
		},
		OnStep: func(n *quorum.Node) { leading.Store(n.State() == quorum.Leader) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	testenv.WaitFor(t, 5*time.Second, testenv.Until("OnStep to see the node lead", leading.Load))

	conn, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	if _, err := conn.Write(kmsg.NewRequestFormatter().AppendRequest(nil, req, 5)); err != nil {
		t.Fatal(err)
	}
	b, err := kafkawire.ReadFrame(bufio.NewReader(conn), kafkawire.MinResponseFrame, 1<<20)
	if err != nil {
		t.Fatalf("ApiVersions through the Handler: %v", err)
	}
	resp, err := kafkawire.ParseResponse(b, req, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(resp.(*kmsg.ApiVersionsResponse).ApiKeys); got != len(ServedAPIs()) || handled.Load() != 1 {
		t.Fatalf("ApiVersions answer lists %d keys (handler called %d times), want %d", got, handled.Load(), len(ServedAPIs()))
	}
}
