package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/internal/testenv"
	"github.com/osprey-kafka/osprey/server/service"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestProduceAndBrowseMessages(t *testing.T) {
	e := newAPIEnv(t)
	base := "/api/v1/clusters/fake/topics/orders/messages"
	if code, _ := e.call("POST", base, "", map[string]any{"value": "x"}); code != 401 {
		t.Fatalf("produce without token = %d", code)
	}
	produced := map[string]float64{}
	for i, v := range []string{`{"id":1,"amount":9.5}`, "plain text"} {
		code, body := e.call("POST", base, testToken, map[string]any{"partition": 1, "key": fmt.Sprintf("k%d", i), "value": v, "headers": map[string]string{"trace": "abc"}})
		if code != 201 || body["partition"] != float64(1) {
			t.Fatalf("produce %q = %d %v", v, code, body)
		}
		produced[v] = body["offset"].(float64)
	}
	// A binary record from a client: shown as hex.
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	bin := &kgo.Record{Topic: "orders", Partition: 1, Key: []byte("k2"), Value: []byte{0, 1, 0xfe, 0xff},
		Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("abc")}}}
	if err := cl.ProduceSync(context.Background(), bin).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if code, body := e.call("POST", base, testToken, map[string]any{"partition": 9, "value": "x"}); code != 400 || errorCode(body) != "invalid_partition" {
		t.Fatalf("produce to a missing partition = %d %v", code, body)
	}

	code, body := e.call("GET", base+"?partition=1&offset=0&limit=10", "", nil)
	if code != 200 || body["total"] != float64(3) {
		t.Fatalf("browse = %d %v", code, body)
	}
	msgs := items(body)
	wantFormats := []string{"json", "text", "hex"}
	for i, m := range msgs {
		val := m["value"].(map[string]any)
		if val["format"] != wantFormats[i] {
			t.Errorf("message %d value format = %v, want %s", i, val["format"], wantFormats[i])
		}
		if m["key"].(map[string]any)["data"] != fmt.Sprintf("k%d", i) || m["offset"] != float64(i) {
			t.Errorf("message %d = %v", i, m)
		}
		hs := m["headers"].([]any)
		if len(hs) != 1 || hs[0].(map[string]any)["key"] != "trace" {
			t.Errorf("message %d headers = %v", i, hs)
		}
	}
	if msgs[2]["value"].(map[string]any)["data"] != "0001feff" {
		t.Errorf("binary value not hex: %v", msgs[2]["value"])
	}
	// Tail returns the newest records; offset in the middle starts there.
	if _, body := e.call("GET", base+"?partition=1&tail=1", "", nil); body["total"] != float64(1) || items(body)[0]["offset"] != float64(2) {
		t.Fatalf("tail=1 = %v", body)
	}
	if _, body := e.call("GET", base+"?partition=1&offset=1", "", nil); body["total"] != float64(2) {
		t.Fatalf("offset=1 = %v", body)
	}
	// By timestamp: everything was produced after an hour ago, nothing after an hour from now.
	past := time.Now().Add(-time.Hour).UnixMilli()
	if _, body := e.call("GET", fmt.Sprintf("%s?partition=1&timestamp=%d", base, past), "", nil); body["total"] != float64(3) {
		t.Fatalf("timestamp in the past = %v", body)
	}
	future := time.Now().Add(time.Hour).UnixMilli()
	if _, body := e.call("GET", fmt.Sprintf("%s?partition=1&timestamp=%d", base, future), "", nil); body["total"] != float64(0) {
		t.Fatalf("timestamp in the future = %v", body)
	}
	// Without a partition: every partition's newest records.
	if _, body := e.call("GET", base+"?limit=5", "", nil); body["total"] != float64(3) {
		t.Fatalf("all partitions = %v", body)
	}
	for _, bad := range []string{"?partition=x", "?offset=5", "?partition=1&offset=1&tail=2", "?limit=0", "?limit=501", "?partition=7"} {
		if code, _ := e.call("GET", base+bad, "", nil); code != 400 {
			t.Errorf("GET %s = %d, want 400", bad, code)
		}
	}
	if code, _ := e.call("GET", "/api/v1/clusters/fake/topics/nope/messages", "", nil); code != 404 {
		t.Errorf("unknown topic = %d", code)
	}
}

func TestKafkaPartitionMatchesClients(t *testing.T) {
	p := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := 0; i < 200; i++ {
		key := []byte(fmt.Sprintf("key-%d-%s", i, string(make([]byte, i%7))))
		for _, n := range []int32{1, 3, 12} {
			want := int32(p.Partition(&kgo.Record{Key: key}, int(n)))
			if got := service.KafkaPartition(key, n); got != want {
				t.Fatalf("KafkaPartition(%q, %d) = %d, franz-go says %d", key, n, got, want)
			}
		}
	}
}

func TestZooKeeperEndpoints(t *testing.T) {
	addr, chroot := testenv.ZooKeeperChroot(t)
	conn, _, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, p := range []string{"/brokers", "/brokers/ids", "/brokers/topics", "/cluster"} {
		if _, err := conn.Create(chroot+p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Create(chroot+"/cluster/id", []byte(`{"version":"1","id":"abc"}`), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}

	e := newAPIEnv(t)
	ctx := context.Background()
	if err := e.svc.AddCluster(ctx, service.ClusterSpec{Name: "zkc", Source: "config",
		Admin: admin.Config{Bootstrap: e.kc.ListenAddrs(), ZooKeeper: addr + chroot}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PollNow(ctx, "zkc"); err != nil {
		t.Fatal(err)
	}
	code, body := e.call("GET", "/api/v1/clusters/zkc/zookeeper/status", "", nil)
	if code != 200 || body["total"] != float64(1) {
		t.Fatalf("zk status = %d %v", code, body)
	}
	srv := items(body)[0]
	if srv["ok"] != true || srv["mode"] != "standalone" {
		t.Fatalf("zk server = %v", srv)
	}
	code, body = e.call("GET", "/api/v1/clusters/zkc/zookeeper/tree?path=/", "", nil)
	if code != 200 || fmt.Sprint(body["children"]) != "[brokers cluster]" {
		t.Fatalf("tree / = %d %v", code, body)
	}
	code, body = e.call("GET", "/api/v1/clusters/zkc/zookeeper/tree?path=/cluster/id", "", nil)
	if code != 200 || body["data"].(map[string]any)["format"] != "json" {
		t.Fatalf("tree /cluster/id = %d %v", code, body)
	}
	if code, _ := e.call("GET", "/api/v1/clusters/zkc/zookeeper/tree?path=/nope", "", nil); code != 404 {
		t.Fatalf("missing znode = %d", code)
	}
	if code, _ := e.call("GET", "/api/v1/clusters/zkc/zookeeper/tree?path=brokers/../x", "", nil); code != 400 {
		t.Fatalf("bad path = %d", code)
	}
	if code, body := e.call("GET", "/api/v1/clusters/fake/zookeeper/status", "", nil); code != 404 || errorCode(body) != "no_zookeeper" {
		t.Fatalf("cluster without ZooKeeper = %d %v", code, body)
	}
}
