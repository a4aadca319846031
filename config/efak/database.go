package efak

import (
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/osprey-kafka/osprey/config"
)

// jdbcParams says what becomes of each MySQL Connector/J URL parameter EFAK's examples use: a
// go-sql-driver parameter, or nothing (with why).
var jdbcParams = map[string]struct{ param, reason string }{
	"useunicode":               {reason: "jdbc_unicode"},
	"characterencoding":        {param: "charset"},
	"zerodatetimebehavior":     {reason: "jdbc_zero_dates"},
	"usessl":                   {param: "tls"},
	"servertimezone":           {reason: "jdbc_timezone"},
	"autoreconnect":            {reason: "jdbc_reconnect"},
	"allowpublickeyretrieval":  {reason: "jdbc_public_key"},
	"rewritebatchedstatements": {reason: "jdbc_batch"},
}

// database translates efak.driver / url / username / password into Osprey's database settings.
func (t *translator) database() error {
	drv, hasDrv := t.take("efak.driver")
	u, hasURL := t.take("efak.url")
	user, _ := t.take("efak.username")
	pass, hasPass := t.take("efak.password")
	if !hasDrv && !hasURL {
		return nil
	}
	if t.ex.Database != "" {
		for _, e := range []Entry{drv, u, user, pass} {
			if e.Key != "" {
				t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Ignored, Target: "database"}.because("database_set", "value", t.ex.Database))
			}
		}
		return nil
	}
	url := strings.TrimSpace(u.Value)
	switch {
	case strings.HasPrefix(url, "jdbc:sqlite:"):
		path := strings.TrimPrefix(url, "jdbc:sqlite:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" || path == ":memory:" {
			return lineErr(u, "an SQLite URL needs a file path (jdbc:sqlite:/path/to/ke.db)")
		}
		t.res.Database = &config.Database{Driver: "sqlite", DSN: path}
		t.dbItems(drv, u, "sqlite", path)
		for _, e := range []Entry{user, pass} {
			if e.Key != "" {
				t.add(ImportItem{Key: e.Key, Line: e.Line, Status: Ignored}.because("sqlite_no_user"))
			}
		}
		return nil
	case strings.HasPrefix(url, "jdbc:mysql:"), strings.HasPrefix(url, "jdbc:mariadb:"):
	default:
		return lineErr(u, "not a jdbc:mysql:, jdbc:mariadb: or jdbc:sqlite: URL; Osprey stores its data in MySQL/MariaDB or SQLite")
	}
	mc, err := t.mysqlConfig(u)
	if err != nil {
		return err
	}
	if user.Key != "" {
		mc.User = user.Value
	}
	if hasPass {
		mc.Passwd = pass.Value
	}
	t.res.Database = &config.Database{Driver: "mysql", DSN: mc.FormatDSN(), MaxOpenConns: config.Default().Database.MaxOpenConns}
	shown := *mc
	if shown.Passwd != "" {
		shown.Passwd = "PASSWORD"
	}
	t.dbItems(drv, u, "mysql", strings.Replace(shown.FormatDSN(), ":PASSWORD@", ":"+Hidden+"@", 1))
	if user.Key != "" {
		t.add(ImportItem{Key: user.Key, Line: user.Line, Status: Imported, Target: "database.dsn (user)", Value: user.Value})
	}
	if hasPass {
		t.add(ImportItem{Key: pass.Key, Line: pass.Line, Status: Imported, Target: "database.dsn (password)", Value: Hidden})
	}
	return nil
}

func (t *translator) dbItems(drv, u Entry, driver, dsn string) {
	if drv.Key != "" {
		t.add(ImportItem{Key: drv.Key, Line: drv.Line, Status: Imported, Target: "database.driver", Value: driver})
	}
	t.add(ImportItem{Key: u.Key, Line: u.Line, Status: Imported, Target: "database.dsn", Value: dsn})
}

// mysqlConfig reads jdbc:mysql://host[:port]/db?params into a go-sql-driver configuration, reporting
// each parameter it drops.
func (t *translator) mysqlConfig(u Entry) (*mysql.Config, error) {
	raw := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(u.Value), "jdbc:"), "mariadb:")
	raw = strings.TrimPrefix(raw, "mysql:")
	pu, err := url.Parse("mysql:" + raw)
	if err != nil || pu.Host == "" {
		return nil, lineErr(u, "cannot read the JDBC URL; expected jdbc:mysql://host:3306/database")
	}
	if strings.Contains(pu.Host, ",") {
		return nil, lineErr(u, "lists several hosts; Osprey connects to one MySQL server: keep one host")
	}
	host := pu.Host
	if pu.Port() == "" {
		host = net.JoinHostPort(pu.Hostname(), "3306")
	}
	mc := mysql.NewConfig()
	mc.Net, mc.Addr, mc.DBName = "tcp", host, strings.TrimPrefix(pu.Path, "/")
	if mc.DBName == "" {
		return nil, lineErr(u, "names no database; expected jdbc:mysql://host:3306/database")
	}
	if pu.User != nil {
		mc.User = pu.User.Username()
		mc.Passwd, _ = pu.User.Password()
	}
	q := pu.Query()
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := q[name][len(q[name])-1]
		switch strings.ToLower(name) {
		case "user":
			mc.User = v
			continue
		case "password":
			mc.Passwd = v
			continue
		}
		rule, known := jdbcParams[strings.ToLower(name)]
		switch {
		case !known:
			t.add(ImportItem{Key: u.Key + " (" + name + ")", Line: u.Line, Status: Ignored}.because("jdbc_param"))
		case rule.param == "":
			t.add(ImportItem{Key: u.Key + " (" + name + ")", Line: u.Line, Status: Ignored}.because(rule.reason))
		case rule.param == "charset":
			// Osprey's store uses utf8mb4 unless told otherwise; UTF-8 in Java means exactly that.
			if strings.EqualFold(v, "UTF-8") || strings.EqualFold(v, "utf8") {
				t.add(ImportItem{Key: u.Key + " (" + name + ")", Line: u.Line, Status: Ignored}.because("jdbc_charset"))
				continue
			}
			if mc.Params == nil {
				mc.Params = map[string]string{}
			}
			mc.Params["charset"] = v
		case rule.param == "tls":
			if strings.EqualFold(v, "true") {
				mc.TLSConfig = "true"
			}
		}
	}
	return mc, nil
}
