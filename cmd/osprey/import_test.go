package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// registerBroker writes a ZooKeeper-mode broker registration for addr under the chroot, as a Kafka
// broker does, so that a cluster configured with only the ZooKeeper list can find it.
func registerBroker(t *testing.T, zkAddr, chroot, addr string) {
	t.Helper()
	conn, _, err := zk.Connect([]string{zkAddr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	host, port, _ := net.SplitHostPort(addr)
	reg := fmt.Sprintf(`{"version":5,"host":%q,"port":%s,"jmx_port":-1,"timestamp":"1700000000000","endpoints":["PLAINTEXT://%s"],"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"features":{}}`, host, port, addr)
	for _, p := range []string{chroot + "/brokers", chroot + "/brokers/ids"} {
		if _, err := conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			t.Fatal(err)
		}
	}
	if _, err := conn.Create(chroot+"/brokers/ids/0", []byte(reg), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
}

// Import, then serve with the same --config: the EFAK cluster (ZooKeeper list only) is listed by the
// API with the broker found through ZooKeeper, on the imported SQLite database, with the imported token.
func TestImportEFAKThenServe(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	zkAddr, chroot := testenv.ZooKeeperChroot(t)
	registerBroker(t, zkAddr, chroot, kc.ListenAddrs()[0])

	dir := t.TempDir()
	dbPath := filepath.Join(dir, "ke.db")
	const token = "efak-token-long-enough-0123"
	src := filepath.Join(dir, "system-config.properties")
	props := strings.Join([]string{
		"kafka.eagle.zk.cluster.alias=efak1",
		"efak1.zk.list=" + zkAddr + chroot,
		"efak1.zk.acl.enable=true",
		"efak1.zk.acl.schema=digest",
		"efak1.zk.acl.username=zk",
		"efak1.zk.acl.password=zk-acl-secret-pw",
		"efak.topic.token=" + token,
		"efak.driver=org.sqlite.JDBC",
		"efak.url=jdbc:sqlite:" + dbPath,
		"efak.password=sqlite-has-no-password-secret",
		"efak.metrics.retain=20",
		"efak.webui.port=8048",
	}, "\n")
	if err := os.WriteFile(src, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	target := writeConfig(t, "# mine\nembedded:\n  enabled: false\n")
	out, err := run(t, "--config", target, "import", "efak", src)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for _, secret := range []string{token, "zk-acl-secret-pw", "sqlite-has-no-password-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("the import's output shows a secret (%s):\n%s", secret, out)
		}
	}
	for _, want := range []string{
		"line   1  kafka.eagle.zk.cluster.alias → clusters[efak1] = efak1",
		"line   7  efak.topic.token → adminToken = (hidden)",
		"line  11  efak.metrics.retain → retention.metrics = 20d",
		"Kept in the settings, not used by Osprey yet:",
		"line   6  efak1.zk.acl.password → clusters[efak1].zookeeperACL.password = (hidden): kept in the cluster's settings; Osprey does not authenticate to ZooKeeper yet",
		"line  12  efak.webui.port: Osprey's address is the listen setting",
		"line  10  efak.password: SQLite has no user or password",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if st, err := os.Stat(target); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the written configuration must be readable by its owner only: %v %v", st.Mode(), err)
	}

	// serve with the same configuration file.
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	root := newRootCmd()
	log := &syncWriter{b: &strings.Builder{}}
	root.SetOut(log)
	root.SetErr(log)
	root.SetArgs([]string{"--config", target, "serve", "--listen", addr, "--data-dir", dir})
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	testenv.WaitFor(t, 60*time.Second, func() error {
		var list struct {
			Items []struct {
				Name      string `json:"name"`
				ZooKeeper string `json:"zookeeper"`
				Brokers   *int   `json:"brokers"`
			} `json:"items"`
		}
		if err := getJSON("http://"+addr+"/api/v1/clusters", "", &list); err != nil {
			return err
		}
		if len(list.Items) != 1 || list.Items[0].Name != "efak1" || list.Items[0].ZooKeeper != zkAddr+chroot {
			return fmt.Errorf("clusters %+v", list.Items)
		}
		if list.Items[0].Brokers == nil || *list.Items[0].Brokers != 1 {
			return fmt.Errorf("brokers not found through ZooKeeper yet: %+v", list.Items[0])
		}
		return nil
	})
	// The imported token is the admin token; the database is the imported SQLite file.
	var me struct {
		Kind string `json:"kind"`
	}
	if err := getJSON("http://"+addr+"/api/v1/auth/me", token, &me); err != nil || me.Kind != "admin-token" {
		t.Errorf("the imported admin token: %+v %v", me, err)
	}
	if _, err := os.Stat(dbPath); err != nil {
		t.Errorf("the imported SQLite database was not used: %v", err)
	}
	if strings.Contains(log.String(), token) || strings.Contains(log.String(), "zk-acl-secret-pw") {
		t.Errorf("the console's log shows a secret:\n%s", log.String())
	}
}

func getJSON(url, token string, v any) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	if v == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// A broken file is refused with its line number and nothing is written; the design documents'
// example imports, and its MySQL password never shows.
func TestImportEFAKRefusesBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "osprey.yaml")
	bad := filepath.Join(dir, "bad.properties")
	if err := os.WriteFile(bad, []byte("efak.zk.cluster.alias=c1\nc1.zk.list=zk:2181\nefak.password secret-in-a-broken-line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "--config", target, "import", "efak", bad)
	if err == nil || !strings.Contains(err.Error(), "line 3") || strings.Contains(err.Error()+out, "secret-in-a-broken-line") {
		t.Fatalf("broken file: %v\n%s", err, out)
	}
	if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused import must write nothing: %v", err)
	}

	out, err = run(t, "--config", target, "import", "efak", "--dry-run", "../../config/efak/testdata/system-config.properties")
	if err != nil || !strings.Contains(out, "Would import (dry run, nothing written)") || strings.Contains(out, "000000") || strings.Contains(out, "kafka-eagle\"") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a dry run must write nothing: %v", err)
	}
	out, err = run(t, "--config", target, "import", "efak", "../../config/efak/testdata/system-config.properties")
	if err != nil || strings.Contains(out, "000000") {
		t.Fatalf("design documents' example: %v\n%s", err, out)
	}
	// Importing again changes nothing: what the file now sets wins.
	out, err = run(t, "--config", target, "import", "efak", "../../config/efak/testdata/system-config.properties")
	if err != nil || !strings.Contains(out, `a cluster named "cluster1" is already configured`) || !strings.Contains(out, "the database is already set") {
		t.Fatalf("second import: %v\n%s", err, out)
	}
}

// syncWriter lets the console's goroutines and the test share one log buffer.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
