package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/collector"
	"github.com/osprey-kafka/osprey/server/service"
	"github.com/osprey-kafka/osprey/store"
)

// POST /api/v1/import/efak: admin only; the dry run changes nothing; the import adds the clusters,
// audits it without the file, and a console started again on the same database registers them again.
func TestImportEFAKThroughTheAPI(t *testing.T) {
	e := newAPIEnv(t)
	file := fmt.Sprintf("efak.zk.cluster.alias=fake,efak2,efak3\nfake.zk.list=zk:2181\nefak2.zk.list=127.0.0.1:9/kafka\n"+
		"efak2.efak.bootstrap.servers=%s\nefak3.zk.list=127.0.0.1:9\nefak3.efak.sasl.enable=true\nefak3.efak.sasl.mechanism=PLAIN\n"+
		"efak3.efak.sasl.jaas.config=x required username=\"u\" password=\"sasl-secret-pw\";\n"+
		"efak.topic.token=long-enough-token-from-efak\nefak.metrics.retain=3\n", e.kc.ListenAddrs()[0])

	if code, _ := e.call(http.MethodPost, "/api/v1/import/efak", "", map[string]any{"content": file, "dryRun": true}); code != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", code)
	}
	code, body := e.call(http.MethodPost, "/api/v1/import/efak", testToken, map[string]any{"content": file, "dryRun": true})
	if code != http.StatusOK {
		t.Fatalf("dry run: %d %v", code, body)
	}
	clusters := body["clusters"].([]any)
	if len(clusters) != 2 || clusters[0].(map[string]any)["name"] != "efak2" || clusters[1].(map[string]any)["saslMechanism"] != "PLAIN" {
		t.Fatalf("dry run clusters (fake is configured already): %v", clusters)
	}
	reasons := map[string]string{}
	for _, it := range body["items"].([]any) {
		m := it.(map[string]any)
		r, _ := m["reason"].(string)
		reasons[m["key"].(string)] = m["status"].(string) + ": " + r
	}
	if !strings.HasPrefix(reasons["efak.topic.token"], "ignored: a running console") || !strings.HasPrefix(reasons["efak.metrics.retain"], "ignored: a running console") {
		t.Fatalf("settings of the configuration file are reported, not applied: %v", reasons)
	}
	if strings.Contains(fmt.Sprint(body), "sasl-secret-pw") || strings.Contains(fmt.Sprint(body), "long-enough-token-from-efak") {
		t.Fatal("the answer shows a secret")
	}
	if len(e.svc.Clusters()) != 1 {
		t.Fatal("a dry run must not add clusters")
	}

	code, body = e.call(http.MethodPost, "/api/v1/import/efak", testToken, map[string]any{"content": "efak.zk.cluster.alias=x\nbroken line\n"})
	if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body), "efak_unreadable") || !strings.Contains(fmt.Sprint(body), "line 2") {
		t.Fatalf("broken file: %d %v", code, body)
	}

	code, body = e.call(http.MethodPost, "/api/v1/import/efak", testToken, map[string]any{"content": file})
	if code != http.StatusOK || len(e.svc.Clusters()) != 3 {
		t.Fatalf("import: %d %v, clusters %d", code, body, len(e.svc.Clusters()))
	}
	entries, _, err := e.st.Audit(context.Background(), store.AuditFilter{Action: "cluster.import.efak"})
	// Newest first: the import, then the refused attempt without a token.
	if err != nil || len(entries) != 2 || entries[0].Result != "ok" || entries[0].Target != "efak2,efak3" ||
		strings.Contains(entries[0].Params, "secret") || entries[1].Result != "denied" {
		t.Fatalf("audit: %+v %v", entries, err)
	}

	// A console started again on the same database has the imported cluster, and polls it.
	svc2 := service.New(service.Options{Store: e.st, Logger: quietLogger(), DataDir: t.TempDir(),
		Collector: collector.Config{OffsetsInterval: time.Hour, GroupsInterval: time.Hour}})
	svc2.RestoreImportedClusters(context.Background())
	t.Cleanup(svc2.Stop)
	got := svc2.Clusters()
	if len(got) != 2 || got[0].Name != "efak2" || got[0].Source != service.SourceImported || got[1].Name != "efak3" {
		t.Fatalf("restored clusters: %+v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := svc2.PollNow(ctx, "efak2"); err != nil {
		t.Fatalf("polling the restored cluster: %v", err)
	}
}
