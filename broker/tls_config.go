package broker

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	// Frozen upstream but correct for the legacy PKCS12 encryption; no
	// maintained decoder of the AES (PBES2) format is available here.
	"golang.org/x/crypto/pkcs12"
)

// TLSSettings are one listener's ssl.* settings (listener.name.<l>.ssl.*
// over ssl.*), checked but not yet loaded.
type TLSSettings struct {
	KeystoreType       string // ssl.keystore.type: PEM or PKCS12 (JKS is refused)
	KeystoreLocation   string // ssl.keystore.location
	KeystorePassword   string // ssl.keystore.password
	KeyPassword        string // ssl.key.password
	KeystoreCertChain  string // ssl.keystore.certificate.chain (inline PEM)
	KeystoreKey        string // ssl.keystore.key (inline PEM)
	TruststoreType     string // ssl.truststore.type
	TruststoreLocation string // ssl.truststore.location
	TruststorePassword string // ssl.truststore.password
	TruststoreCerts    string // ssl.truststore.certificates (inline PEM)
	ClientAuth         string // ssl.client.auth: none, requested, required
	// EndpointIdentification is ssl.endpoint.identification.algorithm:
	// "https" (Kafka's default) makes this broker, as a client of the
	// others, check their certificate's host name; "" does not.
	EndpointIdentification string
	MinVersion             uint16 // from ssl.enabled.protocols (TLSv1.2 at least)
	Rules                  []principalRule
}

// tlsSettings resolves and checks the ssl.* keys of one listener; a keystore
// is required when this node serves the listener (needKeystore).
func (c Config) tlsSettings(listener string, needKeystore bool) (TLSSettings, error) {
	s := c.Security
	get := func(k string) string { v, _ := s.secProp(listener, k); return strings.TrimSpace(v) }
	t := TLSSettings{
		KeystoreType: strings.ToUpper(get("ssl.keystore.type")), KeystoreLocation: get("ssl.keystore.location"),
		KeystorePassword: get("ssl.keystore.password"), KeyPassword: get("ssl.key.password"),
		KeystoreCertChain: get("ssl.keystore.certificate.chain"), KeystoreKey: get("ssl.keystore.key"),
		TruststoreType: strings.ToUpper(get("ssl.truststore.type")), TruststoreLocation: get("ssl.truststore.location"),
		TruststorePassword: get("ssl.truststore.password"), TruststoreCerts: get("ssl.truststore.certificates"),
		ClientAuth: strings.ToLower(get("ssl.client.auth")), MinVersion: tls.VersionTLS12,
	}
	t.EndpointIdentification = "https"
	if v, ok := s.secProp(listener, "ssl.endpoint.identification.algorithm"); ok {
		t.EndpointIdentification = strings.ToLower(strings.TrimSpace(v))
	}
	keyPrefix := "ssl."
	if _, ok := s.Props["listener.name."+strings.ToLower(listener)+".ssl.keystore.location"]; ok {
		keyPrefix = "listener.name." + strings.ToLower(listener) + ".ssl."
	}
	var err error
	if t.KeystoreType, err = storeType("ssl.keystore.type", t.KeystoreType, t.KeystoreLocation); err != nil {
		return t, err
	}
	if t.TruststoreType, err = storeType("ssl.truststore.type", t.TruststoreType, t.TruststoreLocation); err != nil {
		return t, err
	}
	switch {
	case needKeystore && t.KeystoreLocation == "" && (t.KeystoreCertChain == "" || t.KeystoreKey == ""):
		return t, fmt.Errorf("property %skeystore.location: listener %s speaks TLS and needs a certificate and key: "+
			"set ssl.keystore.location (PEM or PKCS12 file) or, with ssl.keystore.type=PEM, ssl.keystore.certificate.chain and ssl.keystore.key", keyPrefix, listener)
	case t.KeystoreLocation != "" && t.KeystoreCertChain != "":
		return t, fmt.Errorf("property ssl.keystore.certificate.chain: listener %s also has ssl.keystore.location; set one of them", listener)
	case t.KeystoreCertChain != "" && t.KeystoreType != "PEM":
		return t, fmt.Errorf("property ssl.keystore.type: inline ssl.keystore.certificate.chain needs ssl.keystore.type=PEM")
	}
	switch t.ClientAuth {
	case "":
		t.ClientAuth = "none"
	case "none", "requested", "required":
	default:
		return t, fmt.Errorf("property ssl.client.auth=%q: want none, requested or required", t.ClientAuth)
	}
	if t.ClientAuth != "none" && t.TruststoreLocation == "" && t.TruststoreCerts == "" {
		return t, fmt.Errorf("property ssl.truststore.location: ssl.client.auth=%s on listener %s needs the CA that signs client certificates "+
			"(ssl.truststore.location, or ssl.truststore.certificates with ssl.truststore.type=PEM)", t.ClientAuth, listener)
	}
	if v := get("ssl.enabled.protocols"); v != "" {
		t.MinVersion = 0
		for _, p := range splitList(v) {
			switch p {
			case "TLSv1.2":
				t.MinVersion = tls.VersionTLS12
			case "TLSv1.3":
				if t.MinVersion == 0 {
					t.MinVersion = tls.VersionTLS13
				}
			default:
				return t, fmt.Errorf("property ssl.enabled.protocols: %s is not allowed; only TLSv1.2 and TLSv1.3 are served", p)
			}
		}
	}
	switch t.EndpointIdentification {
	case "", "https":
	default:
		return t, fmt.Errorf("property ssl.endpoint.identification.algorithm=%q: want https or empty", t.EndpointIdentification)
	}
	rules := get("ssl.principal.mapping.rules")
	if rules == "" {
		rules = "DEFAULT"
	}
	if t.Rules, err = parsePrincipalRules(rules); err != nil {
		return t, fmt.Errorf("property ssl.principal.mapping.rules: %w", err)
	}
	return t, nil
}

// storeType checks a keystore or truststore type; unset, it is guessed
// from the file name (Kafka's default, JKS, cannot be read here).
func storeType(key, typ, location string) (string, error) {
	if typ == "" {
		switch strings.ToLower(filepath.Ext(location)) {
		case ".p12", ".pfx", ".pkcs12":
			return "PKCS12", nil
		case ".jks":
			typ = "JKS"
		default:
			return "PEM", nil
		}
	}
	switch typ {
	case "PEM", "PKCS12":
		return typ, nil
	case "JKS":
		return "", fmt.Errorf("property %s: JKS stores are not read here; convert with "+
			"keytool -importkeystore -srckeystore <file>.jks -destkeystore <file>.p12 -deststoretype PKCS12 and set %s=PKCS12", key, key)
	}
	return "", fmt.Errorf("property %s=%q: want PEM or PKCS12", key, typ)
}

// serverConfig loads the key material and returns the listener's TLS
// configuration. Errors name the property to fix.
func (t TLSSettings) serverConfig() (*tls.Config, error) {
	cert, err := t.loadKeyPair()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: t.MinVersion}
	if t.ClientAuth != "none" {
		pool, err := t.loadTrust()
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		if t.ClientAuth == "requested" {
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		}
	}
	return cfg, nil
}

// clientConfig is what this broker presents when it dials another broker's
// listener with these settings: the truststore verifies the server and the
// keystore, if any, is the client certificate (mutual TLS).
func (t TLSSettings) clientConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: t.MinVersion}
	if t.TruststoreLocation != "" || t.TruststoreCerts != "" {
		pool, err := t.loadTrust()
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if t.KeystoreLocation != "" || t.KeystoreCertChain != "" {
		cert, err := t.loadKeyPair()
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if t.EndpointIdentification == "" {
		// Kafka's empty algorithm: the chain is verified, the host name is not.
		cfg.InsecureSkipVerify = true
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChainOnly(raw, cfg.RootCAs)
		}
	}
	return cfg, nil
}

func verifyChainOnly(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("server sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return fmt.Errorf("server certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	return err
}

// loadKeyPair reads the keystore into a certificate chain and key.
func (t TLSSettings) loadKeyPair() (tls.Certificate, error) {
	var blocks []*pem.Block
	switch {
	case t.KeystoreCertChain != "":
		blocks = append(pemBlocks([]byte(t.KeystoreCertChain)), pemBlocks([]byte(t.KeystoreKey))...)
	case t.KeystoreType == "PKCS12":
		data, err := os.ReadFile(t.KeystoreLocation)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("property ssl.keystore.location: %w", err)
		}
		blocks, err = pkcs12Blocks(data, t.KeystorePassword)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("property ssl.keystore.location %s: %w", t.KeystoreLocation, err)
		}
	default:
		data, err := os.ReadFile(t.KeystoreLocation)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("property ssl.keystore.location: %w", err)
		}
		blocks = pemBlocks(data)
	}
	var cert tls.Certificate
	for _, b := range blocks {
		switch {
		case b.Type == "CERTIFICATE":
			cert.Certificate = append(cert.Certificate, b.Bytes)
		case b.Type == "ENCRYPTED PRIVATE KEY":
			if t.KeyPassword == "" {
				return cert, fmt.Errorf("property ssl.key.password: the keystore's private key is encrypted; set its password")
			}
			der, err := decryptPKCS8(b.Bytes, t.KeyPassword)
			if err != nil {
				return cert, fmt.Errorf("property ssl.key.password: %w", err)
			}
			key, err := parsePrivateKey(der)
			if err != nil {
				return cert, fmt.Errorf("property ssl.key.password: %w", errWrongKeyPassword)
			}
			cert.PrivateKey = key
		case b.Headers["Proc-Type"] != "":
			return cert, fmt.Errorf("property ssl.keystore.key: the private key uses the legacy OpenSSL encryption, which is not read here; " +
				"convert it with openssl pkcs8 -topk8 -v2 aes-256-cbc and set ssl.key.password")
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			key, err := parsePrivateKey(b.Bytes)
			if err != nil {
				return cert, fmt.Errorf("property ssl.keystore.key: %w", err)
			}
			cert.PrivateKey = key
		}
	}
	if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
		return cert, fmt.Errorf("property ssl.keystore.location: the keystore needs a certificate and its private key (found %d certificates, key %t)",
			len(cert.Certificate), cert.PrivateKey != nil)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return cert, fmt.Errorf("property ssl.keystore.location: certificate: %w", err)
	}
	cert.Leaf = leaf
	// The pair must match: tls.X509KeyPair does the check.
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return cert, fmt.Errorf("property ssl.keystore.key: %w", err)
	}
	if _, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return cert, fmt.Errorf("property ssl.keystore.location: %w", err)
	}
	return cert, nil
}

func parsePrivateKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("private key is not PKCS#8, PKCS#1 or SEC 1")
}

// loadTrust reads the truststore's CA certificates.
func (t TLSSettings) loadTrust() (*x509.CertPool, error) {
	var blocks []*pem.Block
	switch {
	case t.TruststoreCerts != "":
		blocks = pemBlocks([]byte(t.TruststoreCerts))
	case t.TruststoreType == "PKCS12":
		data, err := os.ReadFile(t.TruststoreLocation)
		if err != nil {
			return nil, fmt.Errorf("property ssl.truststore.location: %w", err)
		}
		if blocks, err = pkcs12Blocks(data, t.TruststorePassword); err != nil {
			return nil, fmt.Errorf("property ssl.truststore.location %s: %w", t.TruststoreLocation, err)
		}
	default:
		data, err := os.ReadFile(t.TruststoreLocation)
		if err != nil {
			return nil, fmt.Errorf("property ssl.truststore.location: %w", err)
		}
		blocks = pemBlocks(data)
	}
	pool := x509.NewCertPool()
	n := 0
	for _, b := range blocks {
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("property ssl.truststore.location: %w", err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("property ssl.truststore.location: no CERTIFICATE in the truststore")
	}
	return pool, nil
}

// pemArmor finds PEM blocks whatever their line breaks: a properties file
// may hold a certificate on one line, with \n escapes or continuation
// backslashes, as Kafka's own PEM reader accepts.
var pemArmor = regexp.MustCompile(`(?s)-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----`)

// normalizePEM rewrites each block with the line breaks pem.Decode needs.
// Headers (encrypted legacy keys) are kept as they are.
func normalizePEM(data []byte) []byte {
	return pemArmor.ReplaceAllFunc(data, func(m []byte) []byte {
		sub := pemArmor.FindSubmatch(m)
		body := strings.ReplaceAll(string(sub[2]), `\n`, "\n")
		if strings.Contains(body, ":") {
			return []byte("-----BEGIN " + string(sub[1]) + "-----\n" + strings.TrimSpace(body) + "\n-----END " + string(sub[3]) + "-----\n")
		}
		body = strings.Map(func(r rune) rune {
			if r == '\\' || r == ' ' || r == '\n' || r == '\r' || r == '\t' {
				return -1
			}
			return r
		}, body)
		var b strings.Builder
		b.WriteString("-----BEGIN " + string(sub[1]) + "-----\n")
		for len(body) > 64 {
			b.WriteString(body[:64] + "\n")
			body = body[64:]
		}
		b.WriteString(body + "\n-----END " + string(sub[3]) + "-----\n")
		return []byte(b.String())
	})
}

func pemBlocks(data []byte) []*pem.Block {
	data = normalizePEM(data)
	var out []*pem.Block
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		out = append(out, b)
	}
}

// pkcs12Blocks decodes a PKCS12 store into PEM blocks: the legacy
// encryption (3DES / RC2 with a SHA-1 MAC) through x/crypto/pkcs12, PBES2
// (AES, the default of openssl 3 and recent keytool) through
// pkcs12PBES2Blocks.
func pkcs12Blocks(data []byte, password string) ([]*pem.Block, error) {
	blocks, err := pkcs12.ToPEM(data, password)
	if err == nil {
		return blocks, nil
	}
	wrong := errors.New("wrong password (ssl.keystore.password / ssl.truststore.password)")
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, wrong
	}
	blocks, perr := pkcs12PBES2Blocks(data, password)
	switch {
	case perr == nil:
		return blocks, nil
	case errors.Is(perr, errWrongKeyPassword):
		return nil, wrong
	}
	return nil, fmt.Errorf("%w (as PBES2: %v); re-export the store with openssl pkcs12 -export, or use PEM (ssl.keystore.type=PEM)", err, perr)
}

// principalRule is one ssl.principal.mapping.rules entry: DEFAULT (the whole
// distinguished name) or RULE:pattern/replacement/[LU].
type principalRule struct {
	isDefault   bool
	pattern     *regexp.Regexp
	replacement string
	toCase      byte // 'L', 'U' or 0
}

// parsePrincipalRules reads Kafka's rule list. A rule's pattern may itself
// hold commas, so the list is scanned rule by rule, not split on commas.
func parsePrincipalRules(s string) ([]principalRule, error) {
	var out []principalRule
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == ',' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			break
		}
		rest := s[i:]
		if strings.HasPrefix(rest, "DEFAULT") {
			out = append(out, principalRule{isDefault: true})
			i += len("DEFAULT")
			continue
		}
		if !strings.HasPrefix(rest, "RULE:") {
			return nil, fmt.Errorf("at %q: want DEFAULT or RULE:pattern/replacement/[LU]", rest)
		}
		i += len("RULE:")
		pat, n, ok := untilSlash(s[i:])
		if !ok {
			return nil, fmt.Errorf("rule at offset %d: want RULE:pattern/replacement/[LU]", i)
		}
		i += n
		repl, n, ok := untilSlash(s[i:])
		if !ok {
			return nil, fmt.Errorf("rule %q: want RULE:pattern/replacement/[LU] (missing the closing /)", pat)
		}
		i += n
		r := principalRule{replacement: javaReplacement(repl)}
		if i < len(s) && (s[i] == 'L' || s[i] == 'U') {
			r.toCase = s[i]
			i++
		}
		if i < len(s) && s[i] != ',' && s[i] != ' ' {
			return nil, fmt.Errorf("rule %q: unexpected %q after the rule (case flag is L or U)", pat, s[i:])
		}
		re, err := regexp.Compile("^(?:" + pat + ")$")
		if err != nil {
			return nil, fmt.Errorf("rule pattern %q: %w", pat, err)
		}
		r.pattern = re
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errors.New("no rule; use DEFAULT")
	}
	return out, nil
}

// untilSlash reads to the next unescaped '/', returning the text (escapes
// of '/' removed) and how much was consumed including the slash.
func untilSlash(s string) (string, int, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '/':
			b.WriteByte('/')
			i++
		case s[i] == '/':
			return b.String(), i + 1, true
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, false
}

var javaGroupRef = regexp.MustCompile(`\$(\d+)`)

// javaReplacement turns Java's $1 group references into Go's ${1}.
func javaReplacement(r string) string { return javaGroupRef.ReplaceAllString(r, "$${$1}") }

// mapPrincipal applies the rules to a certificate's distinguished name; the
// first rule that matches the whole name decides. No match is an error, as
// in Kafka (the connection is refused).
func mapPrincipal(rules []principalRule, dn string) (string, error) {
	for _, r := range rules {
		if r.isDefault {
			return dn, nil
		}
		if !r.pattern.MatchString(dn) {
			continue
		}
		out := r.pattern.ReplaceAllString(dn, r.replacement)
		switch r.toCase {
		case 'L':
			out = strings.ToLower(out)
		case 'U':
			out = strings.ToUpper(out)
		}
		return out, nil
	}
	return "", fmt.Errorf("no ssl.principal.mapping.rules entry matches %q", dn)
}
