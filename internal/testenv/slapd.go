package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// LDAP is an OpenLDAP server (Debian's slapd) a single test runs on a free loopback port: an mdb
// database under BaseDN in a temporary directory, the memberof overlay (groupOfNames members get a
// memberOf attribute), and RootDN/RootPassword as the directory's administrator.
type LDAP struct {
	URL          string
	BaseDN       string
	RootDN       string
	RootPassword string
	// With TLS (LDAPWithTLS): URL also offers StartTLS, LDAPSURL is the ldaps:// listener, and CAFile
	// is the PEM of the CA that signed the server's certificate (for 127.0.0.1 and localhost).
	LDAPSURL string
	CAFile   string
	tls      bool
	prog     *Program
}

// LDAPOption configures StartLDAP.
type LDAPOption func(*LDAP)

// LDAPWithTLS gives the server a certificate from a CA made for the test: StartTLS on URL and
// LDAPS on LDAPSURL.
func LDAPWithTLS() LDAPOption { return func(l *LDAP) { l.tls = true } }

// LDAPBaseDN is the suffix of the directory StartLDAP serves.
const LDAPBaseDN = "dc=osprey,dc=test"

// StartLDAP starts slapd with the entries in ldif (LDIF records under LDAPBaseDN; the base entry
// itself is added first) and stops it when the test ends. userPassword values may be clear text.
func StartLDAP(t testing.TB, ldif string, opts ...LDAPOption) *LDAP {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	l := &LDAP{URL: "ldap://127.0.0.1:" + strconv.Itoa(port), BaseDN: LDAPBaseDN,
		RootDN: "cn=admin," + LDAPBaseDN, RootPassword: "root-" + randomHex(8)}
	for _, o := range opts {
		o(l)
	}
	conf := l.slapdConf(dir)
	listen := l.URL + "/"
	if l.tls {
		l.CAFile = writeTestPKI(t, dir)
		l.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(FreePort(t))
		listen += " " + l.LDAPSURL + "/"
		conf = fmt.Sprintf("TLSCACertificateFile %[1]s/ca.pem\nTLSCertificateFile %[1]s/server.pem\nTLSCertificateKeyFile %[1]s/server.key\n", dir) + conf
	}
	WriteFile(t, dir, "slapd.conf", conf)
	// -d keeps slapd in the foreground (StartProgram owns the process); stats logs every operation.
	l.prog = StartProgram(t, "slapd", dir, "slapd", "-d", "stats", "-f", filepath.Join(dir, "slapd.conf"),
		"-h", listen)
	WaitFor(t, 20*time.Second, func() error {
		if done, log := l.prog.Exited(); done {
			t.Fatalf("slapd exited:\n%s", log)
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	base := fmt.Sprintf("dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: osprey\no: Osprey tests\n\n", LDAPBaseDN)
	path := WriteFile(t, dir, "entries.ldif", base+ldif)
	ldapadd, err := lookBin([]string{"/usr/bin"}, "ldapadd")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ldapadd, "-x", "-H", l.URL, "-D", l.RootDN, "-w", l.RootPassword, "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ldapadd: %v\n%s", err, out)
	}
	return l
}

// slapdConf is a minimal slapd.conf: the core schemas, one mdb database, and memberof.
func (l *LDAP) slapdConf(dir string) string {
	return fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile %[1]s/slapd.pid
database mdb
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[1]s/db
maxsize 104857600
overlay memberof
access to attrs=userPassword by anonymous auth by self read by * none
access to * by users read by * none
`, dir, l.BaseDN, l.RootDN, l.RootPassword)
}

// The service account of SampleDirectory.
const (
	SampleBindDN       = "cn=osprey-svc,dc=osprey,dc=test"
	SampleBindPassword = "svc-secret"
)

// SampleDirectory is a small company for StartLDAP: a service account (SampleBindDN), three people
// with the password <name>-pass (alice in kafka-operators and kafka-viewers, bob in kafka-viewers,
// carol only in unrelated) under ou=people, and the groups (groupOfNames) under ou=groups.
const SampleDirectory = `dn: ou=people,dc=osprey,dc=test
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=osprey,dc=test
objectClass: organizationalUnit
ou: groups

dn: cn=osprey-svc,dc=osprey,dc=test
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: osprey-svc
userPassword: svc-secret

dn: uid=alice,ou=people,dc=osprey,dc=test
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: A
userPassword: alice-pass

dn: uid=bob,ou=people,dc=osprey,dc=test
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: B
userPassword: bob-pass

dn: uid=carol,ou=people,dc=osprey,dc=test
objectClass: inetOrgPerson
uid: carol
cn: Carol
sn: C
userPassword: carol-pass

dn: cn=kafka-operators,ou=groups,dc=osprey,dc=test
objectClass: groupOfNames
cn: kafka-operators
member: uid=alice,ou=people,dc=osprey,dc=test

dn: cn=kafka-viewers,ou=groups,dc=osprey,dc=test
objectClass: groupOfNames
cn: kafka-viewers
member: uid=bob,ou=people,dc=osprey,dc=test
member: uid=alice,ou=people,dc=osprey,dc=test

dn: cn=unrelated,ou=groups,dc=osprey,dc=test
objectClass: groupOfNames
cn: unrelated
member: uid=carol,ou=people,dc=osprey,dc=test
`
