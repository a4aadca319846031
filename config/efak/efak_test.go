package efak

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/osprey-kafka/osprey/config"
)

func parseFile(t *testing.T, path string) *File {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	f, err := Parse(fh)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func item(t *testing.T, r *Result, key string) ImportItem {
	t.Helper()
	for _, it := range r.Items {
		if it.Key == key {
			return it
		}
	}
	t.Fatalf("no account of %s in %+v", key, r.Items)
	return ImportItem{}
}

// The design documents' Kafka-Eagle example imports cleanly, field by field.
func TestDesignDocumentExample(t *testing.T) {
	f := parseFile(t, "testdata/system-config.properties")
	r, err := Translate(f, Existing{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Clusters) != 1 {
		t.Fatalf("clusters: %+v", r.Clusters)
	}
	c := r.Clusters[0]
	if c.Name != "cluster1" || c.ZooKeeper != "kafka-broker1:2181,kafka-broker2:2181,kafka-broker3:2181/kafka" ||
		len(c.BootstrapServers) != 0 || c.SASL != (config.SASL{}) || c.TLS.Enabled || c.ZooKeeperACL != (config.ZooKeeperACL{}) {
		t.Fatalf("cluster1: %+v", c)
	}
	if r.Database == nil || r.Database.Driver != "mysql" {
		t.Fatalf("database: %+v", r.Database)
	}
	mc, err := mysql.ParseDSN(r.Database.DSN)
	if err != nil {
		t.Fatal(err)
	}
	if mc.User != "root" || mc.Passwd != "000000" || mc.Net != "tcp" || mc.Addr != "kafka-broker1:3306" || mc.DBName != "ke" || len(mc.Params) != 0 {
		t.Fatalf("dsn %s → %+v", r.Database.DSN, mc)
	}
	if r.RetentionMetrics.D() != 15*24*time.Hour {
		t.Fatalf("retention %s", r.RetentionMetrics)
	}
	if r.AdminToken != "" {
		t.Fatal("the 7-character EFAK token must not become the admin token")
	}
	want := map[string]struct {
		line   int
		status Status
		target string
		value  string
		reason string
	}{
		"efak.zk.cluster.alias":                               {14, Imported, "clusters[cluster1]", "cluster1", ""},
		"cluster1.zk.list":                                    {16, Imported, "clusters[cluster1].zookeeper", c.ZooKeeper, ""},
		"cluster1.zk.acl.enable":                              {24, Ignored, "", "", "zk.acl.enable is not true"},
		"cluster1.zk.acl.password":                            {30, Ignored, "", "", "not enabled"},
		"cluster1.efak.broker.size":                           {38, Ignored, "", "", "broker list from the cluster"},
		"kafka.zk.limit.size":                                 {46, Ignored, "", "", "one ZooKeeper session"},
		"efak.webui.port":                                     {54, Ignored, "", "", "listen"},
		"cluster1.efak.jmx.password":                          {66, Ignored, "", "", "not JMX"},
		"cluster1.efak.offset.storage":                        {80, Ignored, "", "", "consumer offsets from Kafka"},
		"efak.metrics.charts":                                 {96, Ignored, "", "", "history"},
		"efak.metrics.retain":                                 {98, Imported, "retention.metrics", "15d", ""},
		"efak.sql.topic.records.max":                          {106, Ignored, "", "", "no KSQL"},
		"efak.topic.token":                                    {116, Ignored, "adminToken", "", "shorter than 16"},
		"cluster1.efak.sasl.enable":                           {124, Ignored, "", "", "sasl.enable is not true"},
		"cluster1.efak.sasl.jaas.config":                      {130, Ignored, "", "", "SASL is not enabled"},
		"cluster1.efak.blacklist.topics":                      {134, Ignored, "", "", "blacklist"},
		"cluster2.efak.sasl.mechanism":                        {144, Ignored, "", "", "cluster2 is not listed in efak.zk.cluster.alias"},
		"cluster3.efak.ssl.enable":                            {162, Ignored, "", "", "cluster3 is not listed"},
		"efak.driver":                                         {192, Imported, "database.driver", "mysql", ""},
		"efak.url":                                            {194, Imported, "database.dsn", "root:" + Hidden + "@tcp(kafka-broker1:3306)/ke", ""},
		"efak.url (useUnicode)":                               {194, Ignored, "", "", "Unicode"},
		"efak.url (zeroDateTimeBehavior)":                     {194, Ignored, "", "", "zero dates"},
		"efak.username":                                       {196, Imported, "database.dsn (user)", "root", ""},
		"efak.password":                                       {198, Imported, "database.dsn (password)", Hidden, ""},
		"cluster3.efak.ssl.endpoint.identification.algorithm": {176, Ignored, "", "", "cluster3"},
	}
	for key, w := range want {
		it := item(t, r, key)
		if it.Line != w.line || it.Status != w.status || it.Target != w.target || it.Value != w.value || !strings.Contains(it.Reason, w.reason) {
			t.Errorf("%s: got %+v, want %+v", key, it, w)
		}
	}
	// Every key of the file is accounted for exactly once (the URL's parameters come on top).
	seen := map[string]int{}
	for _, it := range r.Items {
		if !strings.Contains(it.Key, " (") {
			seen[it.Key]++
		}
	}
	for _, e := range f.Entries {
		if seen[e.Key] != 1 {
			t.Errorf("%s (line %d) accounted for %d times", e.Key, e.Line, seen[e.Key])
		}
	}
	if len(seen) != len(f.Entries) {
		t.Errorf("%d keys accounted for, the file has %d", len(seen), len(f.Entries))
	}
	// No secret of the file shows in the account.
	for _, it := range r.Items {
		for _, secret := range []string{"000000", "kafka-eagle", "keadmin", "ke123456"} {
			if strings.Contains(it.Value, secret) || strings.Contains(it.Reason, secret) {
				t.Errorf("%s shows a secret: %+v", it.Key, it)
			}
		}
	}
}

func TestOlderPrefixSASLACLAndBrokers(t *testing.T) {
	src := `kafka.eagle.zk.cluster.alias=prod, test
prod.zk.list=zk1:2181, zk2:2181/kafka
prod.efak.bootstrap.servers=k1:9092,k2:9092
prod.kafka.eagle.sasl.enable=true
prod.kafka.eagle.sasl.protocol=SASL_SSL
prod.kafka.eagle.sasl.mechanism=scram-sha-512
prod.kafka.eagle.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
    username="osprey" password="s3cret-pw";
prod.zk.acl.enable=true
prod.zk.acl.schema=digest
prod.zk.acl.username=zkuser
prod.zk.acl.password=zk-pw
test.zk.list=zk9:2181
kafka.eagle.topic.token=a-long-enough-admin-token
kafka.eagle.driver=org.sqlite.JDBC
kafka.eagle.url=jdbc:sqlite:/hadoop/kafka-eagle/db/ke.db
kafka.eagle.username=root
kafka.eagle.metrics.retain=30
`
	f, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Translate(f, Existing{Clusters: []string{"test"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Clusters) != 1 {
		t.Fatalf("test is already configured, only prod is imported: %+v", r.Clusters)
	}
	if it := item(t, r, "test.zk.list"); it.Status != Ignored || !strings.Contains(it.Reason, `"test" is already configured`) {
		t.Fatalf("the keys of an alias already configured are not imported: %+v", it)
	}
	p := r.Clusters[0]
	if p.Name != "prod" || p.ZooKeeper != "zk1:2181,zk2:2181/kafka" || strings.Join(p.BootstrapServers, ",") != "k1:9092,k2:9092" {
		t.Fatalf("prod: %+v", p)
	}
	if p.SASL != (config.SASL{Mechanism: "SCRAM-SHA-512", Username: "osprey", Password: "s3cret-pw"}) || !p.TLS.Enabled {
		t.Fatalf("prod sasl/tls: %+v %+v", p.SASL, p.TLS)
	}
	if p.ZooKeeperACL != (config.ZooKeeperACL{Enabled: true, Scheme: "digest", Username: "zkuser", Password: "zk-pw"}) {
		t.Fatalf("prod acl: %+v", p.ZooKeeperACL)
	}
	if it := item(t, r, "prod.zk.acl.password"); it.Status != Stored || it.Value != Hidden || !strings.Contains(it.Reason, "does not authenticate to ZooKeeper yet") {
		t.Fatalf("acl password: %+v", it)
	}
	if it := item(t, r, "prod.kafka.eagle.sasl.jaas.config"); it.Line != 7 || it.Value != "osprey / "+Hidden {
		t.Fatalf("jaas: %+v", it)
	}
	if r.AdminToken != "a-long-enough-admin-token" || item(t, r, "kafka.eagle.topic.token").Value != Hidden {
		t.Fatal("a long enough token becomes the admin token, shown hidden")
	}
	if r.Database == nil || *r.Database != (config.Database{Driver: "sqlite", DSN: "/hadoop/kafka-eagle/db/ke.db"}) {
		t.Fatalf("sqlite: %+v", r.Database)
	}
	if r.RetentionMetrics.D() != 30*24*time.Hour {
		t.Fatalf("retention %s", r.RetentionMetrics)
	}
	// An admin token already set wins.
	r, _ = Translate(f, Existing{TokenSet: true, Database: "database.driver mysql", Retention: "7d"})
	if r.AdminToken != "" || r.Database != nil || r.RetentionMetrics != 0 {
		t.Fatalf("existing settings must win: %+v", r)
	}
}

func TestBrokenFilesNameTheLine(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"no separator", "efak.zk.cluster.alias=c1\nc1.zk.list=zk:2181\nthis line is broken\n", "line 3: no \"=\""},
		{"no key", "efak.webui.port=8048\n=value\n", "line 2: the line has a value but no key"},
		{"bad unicode escape", "# c\nefak.topic.token=ab\\uZZZZcd\n", "line 2: in the value of efak.topic.token"},
		{"dangling continuation", "efak.zk.cluster.alias=c1\nc1.zk.list=zk:2181\\", "line 2: the last line ends with a backslash"},
		{"binary", "efak.zk.cluster.alias=c1\n\x00\xff\xfe\n", "line 2: not UTF-8"},
		{"alias without zk list", "\nefak.zk.cluster.alias=c1,c2\nc1.zk.list=zk:2181\n", "line 2: efak.zk.cluster.alias: lists \"c2\" but c2.zk.list is missing"},
		{"bad zk list", "efak.zk.cluster.alias=c1\nc1.zk.list=zk:abc\n", "line 2: c1.zk.list"},
		{"bad retention", "efak.metrics.retain=two weeks\n", "line 1: efak.metrics.retain: \"two weeks\" is not a number of days"},
		{"bad jdbc url", "efak.driver=x\nefak.url=postgres://h/db\n", "line 2: efak.url: not a jdbc:mysql:"},
		{"bad cluster name", "efak.zk.cluster.alias=bad name!\n", "line 1: efak.zk.cluster.alias: cluster alias"},
		{"unsupported mechanism", "efak.zk.cluster.alias=c\nc.zk.list=z:1\nc.efak.sasl.enable=true\nc.efak.sasl.mechanism=GSSAPI\n", "line 4: c.efak.sasl.mechanism"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tc.src))
			if err == nil {
				_, err = Translate(f, Existing{})
			}
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a ParseError containing %q", err, tc.want)
			}
		})
	}
	// The error never quotes a value that may be a secret.
	_, err := Parse(strings.NewReader("efak.password=hunter2-secret\nefak.url hunter2-secret\n"))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v", err)
	}
}

// Merge appends to an existing file without losing its keys or comments, and the result loads.
func TestMergeLoads(t *testing.T) {
	f := parseFile(t, "testdata/system-config.properties")
	existing := "# my settings\nlisten: \":9000\"\nembedded:\n  enabled: false\nclusters:\n  - name: old\n    bootstrapServers: [\"h:9092\"]\n"
	r, err := Translate(f, Existing{Clusters: []string{"old"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Database = &config.Database{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "o.db")}
	r.AdminToken = "0123456789abcdef-token"
	out, err := Merge([]byte(existing), r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "# my settings") {
		t.Errorf("comment lost:\n%s", out)
	}
	path := filepath.Join(t.TempDir(), "osprey.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{File: path})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if cfg.Listen != ":9000" || len(cfg.Clusters) != 2 || cfg.Clusters[1].Name != "cluster1" ||
		cfg.Clusters[1].ZooKeeper != "kafka-broker1:2181,kafka-broker2:2181,kafka-broker3:2181/kafka" ||
		cfg.Retention.Metrics.D() != 15*24*time.Hour || cfg.AdminToken != "0123456789abcdef-token" || cfg.Database.Driver != "sqlite" {
		t.Fatalf("loaded %+v\n%s", cfg, out)
	}
	// A new file gets the header.
	out, err = Merge(nil, r)
	if err != nil || !strings.HasPrefix(string(out), "# Osprey configuration, created by \"osprey import efak\"") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// Every reason has a code the web translates: each item of the example carries one, and each code
// has a sentence in both of the web's languages.
func TestReasonsHaveCodesTheWebTranslates(t *testing.T) {
	r, err := Translate(parseFile(t, "testdata/system-config.properties"), Existing{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range r.Items {
		if it.Reason != "" && it.Code == "" {
			t.Errorf("%s: a reason without a code: %q", it.Key, it.Reason)
		}
	}
	for _, locale := range []string{"en", "zh-CN"} {
		b, err := os.ReadFile("../../web/src/i18n/locales/" + locale + ".ts")
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		// Other sections have a reasons block too: look inside importEfak's.
		start := strings.Index(src, "\n  importEfak: {")
		i := strings.Index(src[max(start, 0):], "\n    reasons: {")
		if start < 0 || i < 0 {
			t.Fatalf("%s: no importEfak.reasons", locale)
		}
		i += start
		block := src[i : i+strings.Index(src[i:], "\n    },")]
		for code := range reasonText {
			if !strings.Contains(block, "\n      "+code+": ") {
				t.Errorf("%s: importEfak.reasons.%s is missing", locale, code)
			}
		}
	}
}
