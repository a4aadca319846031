package efak

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-kafka/osprey/config"
)

// Status says what became of one key of the EFAK file.
type Status string

const (
	// Imported: the value is now an Osprey setting that Osprey uses.
	Imported Status = "imported"
	// Stored: kept in Osprey's settings so nothing is lost, but Osprey does not use it yet.
	Stored Status = "stored"
	// Ignored: not carried over; Reason says why.
	Ignored Status = "ignored"
)

// ImportItem is the account of one key: where it went, or why it went nowhere.
type ImportItem struct {
	Key    string `json:"key"`
	Line   int    `json:"line"`
	Status Status `json:"status" enum:"imported,stored,ignored"`
	// Target is the Osprey setting it became, e.g. clusters[cluster1].zookeeper.
	Target string `json:"target,omitempty"`
	// Value is what the setting holds now, for display; secrets are "(hidden)".
	Value string `json:"value,omitempty"`
	// Reason says why in English; Code names the reason and Params fill its sentence, for translations.
	Reason string            `json:"reason,omitempty"`
	Code   string            `json:"code,omitempty"`
	Params map[string]string `json:"params,omitempty"`
}

// Hidden replaces a secret wherever the account shows a value.
const Hidden = "(hidden)"

// Existing is what is already configured where the import lands; the import never overwrites it.
type Existing struct {
	// Clusters are the names already in use (configured, embedded or imported before).
	Clusters []string
	// TokenSet: an admin token is configured, so efak.topic.token is not used.
	TokenSet bool
	// Database / Retention describe settings already chosen (empty: the defaults), which then win.
	Database  string
	Retention string
}

// Result is the translation of an EFAK file.
type Result struct {
	Clusters []config.Cluster
	// Database is nil when the file has no usable database settings.
	Database *config.Database
	// RetentionMetrics is zero when the file does not set efak.metrics.retain.
	RetentionMetrics config.Duration
	// AdminToken is empty unless efak.topic.token is used. Never shown or logged.
	AdminToken string
	Items      []ImportItem
}

// MinAdminToken is the shortest admin token Osprey accepts (the console refuses shorter ones at start).
const MinAdminToken = 16

// Translate turns a parsed file into Osprey settings. A value Osprey cannot use without guessing (a
// ZooKeeper list that is not host:port, a retention that is not a number of days, a JDBC URL it cannot
// read, an alias without a ZooKeeper list) is an error naming the line; everything else lands in Items.
func Translate(f *File, ex Existing) (*Result, error) {
	t := &translator{res: &Result{}, ex: ex, entries: map[string]Entry{}, used: map[string]bool{}}
	for _, e := range f.Entries {
		t.entries[normalize(e.Key)] = e
	}
	for _, e := range f.Repeated {
		t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Ignored}.because("repeated"))
	}
	steps := []func() error{t.clusters, t.database, t.retention, t.token}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	t.rest()
	sort.SliceStable(t.res.Items, func(i, j int) bool { return t.res.Items[i].Line < t.res.Items[j].Line })
	return t.res, nil
}

type translator struct {
	res     *Result
	ex      Existing
	entries map[string]Entry // by normalized key
	used    map[string]bool  // normalized keys already accounted for
}

// normalize maps the older "kafka.eagle." spelling to "efak.", at the start of a key or after a
// cluster alias ("cluster1.kafka.eagle.sasl.enable").
func normalize(key string) string {
	if strings.HasPrefix(key, "kafka.eagle.") {
		return "efak." + strings.TrimPrefix(key, "kafka.eagle.")
	}
	if i := strings.Index(key, ".kafka.eagle."); i > 0 {
		return key[:i] + ".efak." + key[i+len(".kafka.eagle."):]
	}
	return key
}

func (t *translator) add(it ImportItem) { t.res.Items = append(t.res.Items, it) }

// take returns the entry for a normalized key and marks it accounted for.
func (t *translator) take(key string) (Entry, bool) {
	e, ok := t.entries[key]
	if ok {
		t.used[key] = true
	}
	return e, ok
}

func lineErr(e Entry, format string, a ...any) error {
	return &ParseError{Line: e.Line, Msg: e.Key + ": " + fmt.Sprintf(format, a...)}
}

func (t *translator) clusters() error {
	e, ok := t.take("efak.zk.cluster.alias")
	if !ok {
		return nil
	}
	existing := map[string]bool{}
	for _, n := range t.ex.Clusters {
		existing[n] = true
	}
	for _, alias := range strings.Split(e.Value, ",") {
		alias = strings.TrimSpace(alias)
		if alias == "" {
			continue
		}
		if err := config.ValidClusterName(alias); err != nil {
			return lineErr(e, "cluster alias %q: %v", alias, err)
		}
		first := len(t.res.Items)
		cl, err := t.cluster(alias, e)
		if err != nil {
			return err
		}
		if existing[alias] {
			// The alias's keys were read (and checked) but none of them is imported.
			for i := first; i < len(t.res.Items); i++ {
				it := &t.res.Items[i]
				it.Status, it.Value = Ignored, ""
				*it = it.because("cluster_exists", "alias", alias)
			}
			t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Ignored, Target: "clusters[" + alias + "]"}.because("cluster_exists", "alias", alias))
			continue
		}
		existing[alias] = true
		t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Imported, Target: "clusters[" + alias + "]", Value: alias})
		t.res.Clusters = append(t.res.Clusters, cl)
	}
	return nil
}

// cluster builds one alias's cluster from its keys.
func (t *translator) cluster(alias string, aliasEntry Entry) (config.Cluster, error) {
	cl := config.Cluster{Name: alias}
	target := "clusters[" + alias + "]."
	zkl, ok := t.take(alias + ".zk.list")
	if !ok || strings.TrimSpace(zkl.Value) == "" {
		return cl, lineErr(aliasEntry, "lists %q but %s.zk.list is missing", alias, alias)
	}
	cl.ZooKeeper = strings.ReplaceAll(strings.TrimSpace(zkl.Value), " ", "")
	if err := config.CheckZooKeeper(cl.ZooKeeper); err != nil {
		return cl, lineErr(zkl, "%v", err)
	}
	t.add(ImportItem{Key: zkl.Key, Line: zkl.Line, Status: Imported, Target: target + "zookeeper", Value: cl.ZooKeeper})
	for _, k := range []string{alias + ".efak.bootstrap.servers", alias + ".bootstrap.servers"} {
		b, ok := t.take(k)
		if !ok || strings.TrimSpace(b.Value) == "" {
			continue
		}
		for _, s := range strings.Split(b.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cl.BootstrapServers = append(cl.BootstrapServers, s)
			}
		}
		t.add(ImportItem{Key: b.Key, Line: b.Line, Status: Imported, Target: target + "bootstrapServers", Value: strings.Join(cl.BootstrapServers, ",")})
	}
	if err := t.sasl(alias, &cl); err != nil {
		return cl, err
	}
	t.ssl(alias, &cl)
	t.acl(alias, &cl)
	return cl, nil
}

var jaasField = regexp.MustCompile(`(username|password)\s*=\s*"([^"]*)"`)

// sasl carries <alias>.efak.sasl.* over when SASL is enabled.
func (t *translator) sasl(alias string, cl *config.Cluster) error {
	p := alias + ".efak.sasl."
	en, ok := t.take(p + "enable")
	if !ok || !strings.EqualFold(strings.TrimSpace(en.Value), "true") {
		t.notEnabled(en, ok, p, "sasl_disabled", alias)
		return nil
	}
	target := "clusters[" + alias + "].sasl."
	t.add(ImportItem{Key: en.Key, Line: en.Line, Status: Imported, Target: target + "mechanism"})
	mech, _ := t.take(p + "mechanism")
	m := strings.ToUpper(strings.TrimSpace(mech.Value))
	switch m {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
	default:
		return lineErr(mech, "mechanism %q: Osprey supports PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512", mech.Value)
	}
	cl.SASL.Mechanism = m
	t.add(ImportItem{Key: mech.Key, Line: mech.Line, Status: Imported, Target: target + "mechanism", Value: m})
	jaas, ok := t.take(p + "jaas.config")
	if !ok {
		return lineErr(en, "SASL is enabled but %sjaas.config (the user name and password) is missing", p)
	}
	for _, m := range jaasField.FindAllStringSubmatch(jaas.Value, -1) {
		if m[1] == "username" {
			cl.SASL.Username = m[2]
		} else {
			cl.SASL.Password = m[2]
		}
	}
	if cl.SASL.Username == "" {
		return lineErr(jaas, `no username="…" in the JAAS configuration`)
	}
	t.add(ImportItem{Key: jaas.Key, Line: jaas.Line, Status: Imported, Target: target + "username, " + target + "password",
		Value: cl.SASL.Username + " / " + Hidden})
	if proto, ok := t.take(p + "protocol"); ok {
		switch strings.ToUpper(strings.TrimSpace(proto.Value)) {
		case "SASL_SSL":
			cl.TLS.Enabled = true
			t.add(ImportItem{Key: proto.Key, Line: proto.Line, Status: Imported, Target: "clusters[" + alias + "].tls.enabled", Value: "true"})
		case "SASL_PLAINTEXT", "":
			t.add(ImportItem{Key: proto.Key, Line: proto.Line, Status: Imported, Target: "clusters[" + alias + "].tls.enabled", Value: "false"})
		default:
			return lineErr(proto, "%q is not a SASL protocol: use SASL_PLAINTEXT or SASL_SSL", proto.Value)
		}
	}
	t.ignorePrefix(p, "")
	return nil
}

// ssl turns <alias>.efak.ssl.enable into tls.enabled; EFAK's JKS stores cannot be used as they are.
func (t *translator) ssl(alias string, cl *config.Cluster) {
	p := alias + ".efak.ssl."
	en, ok := t.take(p + "enable")
	if !ok || !strings.EqualFold(strings.TrimSpace(en.Value), "true") {
		t.notEnabled(en, ok, p, "ssl_disabled", alias)
		return
	}
	cl.TLS.Enabled = true
	t.add(ImportItem{Key: en.Key, Line: en.Line, Status: Imported, Target: "clusters[" + alias + "].tls.enabled", Value: "true"})
	t.ignorePrefix(p, "jks")
}

// acl keeps <alias>.zk.acl.* in the cluster's settings; Osprey does not authenticate to ZooKeeper yet.
func (t *translator) acl(alias string, cl *config.Cluster) {
	p := alias + ".zk.acl."
	en, ok := t.take(p + "enable")
	if !ok || !strings.EqualFold(strings.TrimSpace(en.Value), "true") {
		t.notEnabled(en, ok, p, "acl_disabled", alias)
		return
	}
	target := "clusters[" + alias + "].zookeeperACL."
	cl.ZooKeeperACL.Enabled = true
	t.add(ImportItem{Key: en.Key, Line: en.Line, Status: Stored, Target: target + "enabled", Value: "true"}.because("zk_acl_not_yet"))
	for _, f := range []struct {
		key string
		dst *string
	}{{"schema", &cl.ZooKeeperACL.Scheme}, {"username", &cl.ZooKeeperACL.Username}, {"password", &cl.ZooKeeperACL.Password}} {
		e, ok := t.take(p + f.key)
		if !ok {
			continue
		}
		*f.dst = e.Value
		shown := e.Value
		if f.key == "password" {
			shown = Hidden
		}
		name := f.key
		if name == "schema" {
			name = "scheme"
		}
		t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Stored, Target: target + name, Value: shown}.because("zk_acl_not_yet"))
	}
	t.ignorePrefix(p, "")
}

// notEnabled accounts for a switched-off feature: its enable key (when present) and every key under
// its prefix are ignored for the same reason.
func (t *translator) notEnabled(en Entry, present bool, prefix, code, alias string) {
	if present {
		t.add(ImportItem{Key: en.Key, Line: en.Line, Status: Ignored}.because(code, "alias", alias))
	}
	t.ignorePrefixFor(prefix, code, "alias", alias)
}

// ignorePrefix reports every not yet accounted key under a normalized prefix as ignored for the
// reason code; an empty code means the key's own reason (what it has no Osprey equivalent for).
func (t *translator) ignorePrefix(prefix, code string) { t.ignorePrefixFor(prefix, code) }

func (t *translator) ignorePrefixFor(prefix, code string, kv ...string) {
	for k, e := range t.entries {
		if t.used[k] || !strings.HasPrefix(k, prefix) {
			continue
		}
		t.used[k] = true
		it := ImportItem{Key: e.Key, Line: e.Line, Status: Ignored}
		if code == "" {
			it = it.because(ignoreReason(k))
		} else {
			it = it.because(code, kv...)
		}
		t.add(it)
	}
}

func (t *translator) retention() error {
	e, ok := t.take("efak.metrics.retain")
	if !ok {
		return nil
	}
	days, err := strconv.Atoi(strings.TrimSpace(e.Value))
	if err != nil || days < 1 {
		return lineErr(e, "%q is not a number of days (EFAK's unit), such as 15", e.Value)
	}
	d := config.Duration(time.Duration(days) * 24 * time.Hour)
	if t.ex.Retention != "" {
		t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Ignored, Target: "retention.metrics"}.because("retention_set", "value", t.ex.Retention))
		return nil
	}
	t.res.RetentionMetrics = d
	t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Imported, Target: "retention.metrics", Value: d.String()})
	return nil
}

func (t *translator) token() error {
	e, ok := t.take("efak.topic.token")
	if !ok {
		return nil
	}
	switch {
	case t.ex.TokenSet:
		t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Ignored, Target: "adminToken"}.because("token_set"))
	case len(e.Value) < MinAdminToken:
		t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Ignored, Target: "adminToken"}.because("token_short", "min", strconv.Itoa(MinAdminToken)))
	default:
		t.res.AdminToken = e.Value
		t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Imported, Target: "adminToken", Value: Hidden})
	}
	return nil
}

// rest accounts for every key no step used.
func (t *translator) rest() {
	for k, e := range t.entries {
		if t.used[k] {
			continue
		}
		t.used[k] = true
		code, alias := t.restReason(k)
		if alias != "" {
			t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Ignored}.because(code, "alias", alias))
		} else {
			t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Ignored}.because(code))
		}
	}
}

// restReason is the reason code of a key no step used, with the alias it names when that is the reason.
func (t *translator) restReason(k string) (code, alias string) {
	if strings.HasPrefix(k, "efak.") || strings.HasPrefix(k, "kafka.") {
		return ignoreReason(k), ""
	}
	alias, rest, _ := strings.Cut(k, ".")
	if strings.HasPrefix(rest, "zk.") || strings.HasPrefix(rest, "efak.") {
		if e, ok := t.entries["efak.zk.cluster.alias"]; !ok || !containsAlias(e.Value, alias) {
			return "alias_not_listed", alias
		}
		return ignoreReason(rest), ""
	}
	return "unknown_key", ""
}

func containsAlias(list, alias string) bool {
	for _, a := range strings.Split(list, ",") {
		if strings.TrimSpace(a) == alias {
			return true
		}
	}
	return false
}

// ignoreReasons gives the reason code of EFAK settings that have no Osprey equivalent, by the key's tail.
var ignoreReasons = []struct{ suffix, code string }{
	{"webui.port", "webui_port"},
	{"metrics.charts", "metrics_charts"},
	{"sql.topic.records.max", "ksql"},
	{"sql.topic.preview.records.max", "ksql"},
	{"sql.fix.error", "ksql"},
	{"zk.limit.size", "zk_limit"},
	{"broker.size", "broker_size"},
	{"offset.storage", "offset_storage"},
	{"jmx.uri", "jmx"},
	{"jmx.acl", "jmx"},
	{"jmx.user", "jmx"},
	{"jmx.password", "jmx"},
	{"jmx.ssl", "jmx"},
	{"jmx.truststore.location", "jmx"},
	{"jmx.truststore.password", "jmx"},
	{"blacklist.topics", "blacklist"},
	{"sasl.client.id", "client_id"},
	{"sasl.cgroup.enable", "cgroup"},
	{"sasl.cgroup.topics", "cgroup"},
	{"ssl.cgroup.enable", "cgroup"},
	{"ssl.cgroup.topics", "cgroup"},
	{"distributed.enable", "distributed"},
	{"cluster.mode.status", "distributed"},
	{"worknode.master.host", "distributed"},
	{"worknode.port", "distributed"},
}

func ignoreReason(k string) string {
	for _, r := range ignoreReasons {
		if strings.HasSuffix(k, r.suffix) {
			return r.code
		}
	}
	return "no_equivalent"
}

// ExistingFrom describes what a loaded configuration already sets, so that Translate leaves it alone.
func ExistingFrom(cfg config.Config) Existing {
	def := config.Default()
	ex := Existing{TokenSet: cfg.AdminToken != ""}
	if cfg.Embedded.Enabled {
		ex.Clusters = append(ex.Clusters, cfg.Embedded.Name)
	}
	for _, c := range cfg.Clusters {
		ex.Clusters = append(ex.Clusters, c.Name)
	}
	if cfg.Database.Driver != def.Database.Driver || cfg.Database.DSN != "" {
		// The driver only: the DSN may hold a password.
		ex.Database = "database.driver " + cfg.Database.Driver
	}
	if cfg.Retention.Metrics != def.Retention.Metrics {
		ex.Retention = cfg.Retention.Metrics.String()
	}
	return ex
}
