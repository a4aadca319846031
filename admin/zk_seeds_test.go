package admin

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// A cluster configured with only a ZooKeeper connect string (as EFAK's clusters are) finds its brokers
// through /brokers/ids, on the listener that matches the client's security settings.
func TestBrokersFoundThroughZooKeeper(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	host, port, _ := net.SplitHostPort(kc.ListenAddrs()[0])
	// The SASL_SSL listener comes first and points nowhere: a plaintext client must skip it.
	reg := fmt.Sprintf(`{"version":5,"host":null,"port":-1,"jmx_port":-1,"timestamp":"1700000000000",`+
		`"endpoints":["SECURE://127.0.0.1:1","INTERNAL://%s:%s"],`+
		`"listener_security_protocol_map":{"SECURE":"SASL_SSL","INTERNAL":"PLAINTEXT"},"features":{}}`, host, port)
	addr := testenv.ZooKeeper(t)
	chroot := seedKafkaLayout(t, addr, map[string]string{"/brokers/ids/0": reg})

	c, err := New(Config{Name: "zk-only", ZooKeeper: addr + chroot, Timeout: 5 * time.Second}, quietLogger())
	if err != nil {
		t.Fatalf("a ZooKeeper-only cluster must be accepted: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	md, err := c.Metadata(ctxT(t), nil)
	if err != nil {
		t.Fatalf("metadata through the broker found in ZooKeeper: %v", err)
	}
	if len(md.Brokers) != 1 {
		t.Fatalf("brokers %+v", md.Brokers)
	}
	seeds, err := c.zkSeeds(ctxT(t))
	if err != nil || strings.Join(seeds, ",") != net.JoinHostPort(host, port) {
		t.Fatalf("seeds %v %v", seeds, err)
	}

	// With nothing registered the error says so.
	empty := seedKafkaLayout(t, addr, map[string]string{"/brokers/ids": ""})
	c2, err := New(Config{Name: "empty", ZooKeeper: addr + empty, Timeout: 2 * time.Second}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c2.Close() })
	if _, err := c2.Metadata(ctxT(t), nil); err == nil || !strings.Contains(err.Error(), "no broker is registered in ZooKeeper") {
		t.Fatalf("empty /brokers/ids: %v", err)
	}
	// Neither bootstrap servers nor ZooKeeper: refused.
	if _, err := New(Config{Name: "none"}, quietLogger()); err == nil {
		t.Fatal("a cluster with neither bootstrap servers nor ZooKeeper must be refused")
	}
}
