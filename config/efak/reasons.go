package efak

import "strings"

// reasonText holds the English sentence of each reason code; an account item carries the code and
// its parameters too, so the web shows the sentence in the reader's language.
var reasonText = map[string]string{
	"repeated":         "given again further down; the later value is used",
	"cluster_exists":   `a cluster named "{alias}" is already configured; it is kept as it is`,
	"zk_acl_not_yet":   "kept in the cluster's settings; Osprey does not authenticate to ZooKeeper yet",
	"sasl_disabled":    "SASL is not enabled for this cluster ({alias}.efak.sasl.enable is not true)",
	"ssl_disabled":     "SSL is not enabled for this cluster ({alias}.efak.ssl.enable is not true)",
	"acl_disabled":     "ZooKeeper ACLs are not enabled for this cluster ({alias}.zk.acl.enable is not true)",
	"jks":              "Java key stores (JKS) are not read: convert them to PEM and set tls.caFile, tls.certFile and tls.keyFile",
	"retention_set":    "retention.metrics is already set ({value}); it is kept",
	"token_set":        "an admin token is already set; it is kept",
	"token_short":      "shorter than {min} characters, the shortest admin token Osprey accepts: not used (a token is generated at first start, or set adminToken)",
	"database_set":     "the database is already set ({value}); it is kept",
	"sqlite_no_user":   "SQLite has no user or password",
	"jdbc_param":       "a Connector/J parameter with no Go driver equivalent",
	"jdbc_unicode":     "Go's driver always speaks Unicode",
	"jdbc_charset":     "Osprey's connections use utf8mb4 (full UTF-8) already",
	"jdbc_zero_dates":  "Osprey's tables hold no zero dates",
	"jdbc_timezone":    "Osprey stores UTC times",
	"jdbc_reconnect":   "the connection pool reconnects by itself",
	"jdbc_public_key":  "Go's driver fetches the server's public key when it needs it",
	"jdbc_batch":       "Osprey batches its inserts itself",
	"alias_not_listed": "{alias} is not listed in efak.zk.cluster.alias, so EFAK did not use it either",
	"unknown_key":      "not an EFAK setting Osprey knows",
	"no_equivalent":    "no Osprey equivalent",
	"webui_port":       "Osprey's address is the listen setting (default :8048, EFAK's port)",
	"metrics_charts":   "Osprey always records history for its charts",
	"ksql":             "Osprey has no KSQL-style topic query; messages are browsed page by page",
	"zk_limit":         "Osprey keeps one ZooKeeper session per cluster",
	"broker_size":      "Osprey reads the broker list from the cluster",
	"offset_storage":   "Osprey reads consumer offsets from Kafka (ZooKeeper-stored offsets are not read)",
	"jmx":              "Osprey reads figures over the Kafka protocol, not JMX",
	"blacklist":        "Osprey has no topic blacklist; internal topics are hidden unless asked for",
	"client_id":        "Osprey identifies itself with its own client id",
	"cgroup":           "EFAK's consumer-group access control has no Osprey equivalent; use users and roles",
	"distributed":      "Osprey runs as one process; there are no EFAK worker nodes",
	"console_only":     "a running console does not change the settings it was started with: run `osprey import efak` with the console's --config file, then restart it",
}

// because sets the item's reason: its code, parameters (name, value pairs) and English sentence.
func (it ImportItem) because(code string, kv ...string) ImportItem {
	text, ok := reasonText[code]
	if !ok {
		panic("efak: no sentence for reason " + code)
	}
	it.Code, it.Params = code, nil
	for i := 0; i+1 < len(kv); i += 2 {
		if it.Params == nil {
			it.Params = map[string]string{}
		}
		it.Params[kv[i]] = kv[i+1]
		text = strings.ReplaceAll(text, "{"+kv[i]+"}", kv[i+1])
	}
	it.Reason = text
	return it
}

// Because is because for callers outside the package (the console's own reasons).
func (it ImportItem) Because(code string, kv ...string) ImportItem { return it.because(code, kv...) }
