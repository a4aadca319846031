package alert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpMessage is one message the test server accepted.
type smtpMessage struct {
	From string
	To   []string
	Data []byte
	User string // authenticated user, if any
	TLS  bool
}

type testSMTP struct {
	addr *net.TCPAddr
	mu   sync.Mutex
	msgs []smtpMessage
}

func (s *testSMTP) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.msgs...)
}

type smtpSession struct {
	srv *testSMTP
	c   *smtp.Conn
	cur smtpMessage
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "osprey" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		s.cur.User = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.From = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	_, s.cur.TLS = s.c.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.cur = smtpMessage{User: s.cur.User} }
func (s *smtpSession) Logout() error { return nil }

// newTestSMTP starts an SMTP server on a random loopback port. mode is
// "none" (no TLS), "starttls" (STARTTLS offered) or "tls" (implicit TLS).
func newTestSMTP(t *testing.T, mode string) *testSMTP {
	t.Helper()
	srv := &testSMTP{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: srv, c: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.AllowInsecureAuth = mode == "none"
	var l net.Listener
	var err error
	switch mode {
	case "none":
		l, err = net.Listen("tcp", "127.0.0.1:0")
	case "starttls":
		s.TLSConfig = selfSigned(t)
		l, err = net.Listen("tcp", "127.0.0.1:0")
	case "tls":
		s.TLSConfig = selfSigned(t)
		l, err = tls.Listen("tcp", "127.0.0.1:0", s.TLSConfig)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv.addr = l.Addr().(*net.TCPAddr)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close(); <-done })
	return srv
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

func emailConfig(srv *testSMTP, mode string) EmailConfig {
	return EmailConfig{
		Host: "127.0.0.1", Port: srv.addr.Port, Username: "osprey", Password: "s3cret",
		From: "Osprey Alerts <alerts@osprey.test>", To: []string{"ops@example.com", "Dev Team <dev@example.com>"},
		TLS: mode, InsecureSkipVerify: true, SubjectPrefix: "[osprey]",
	}
}

func TestEmailDelivery(t *testing.T) {
	for _, mode := range []string{"none", "starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			srv := newTestSMTP(t, mode)
			if err := send(t, ChannelEmail, emailConfig(srv, mode), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
			msgs := srv.messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			m := msgs[0]
			if m.User != "osprey" || m.From != "alerts@osprey.test" || strings.Join(m.To, ",") != "ops@example.com,dev@example.com" {
				t.Fatalf("envelope %+v", m)
			}
			if m.TLS != (mode != "none") {
				t.Fatalf("TLS = %v in mode %s", m.TLS, mode)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(subject, "[osprey] [FIRING] critical · orders lag · prod · group billing / topic orders") {
				t.Fatalf("subject %q", subject)
			}
			from, _ := msg.Header.AddressList("From")
			to, _ := msg.Header.AddressList("To")
			if len(from) != 1 || from[0].Address != "alerts@osprey.test" || len(to) != 2 || to[1].Name != "Dev Team" {
				t.Fatalf("from %v to %v", from, to)
			}
			if msg.Header.Get("Content-Type") != "text/plain; charset=utf-8" || msg.Header.Get("Message-Id") == "" ||
				msg.Header.Get("Date") != "Sun, 01 Mar 2026 12:00:00 +0000" || msg.Header.Get("X-Osprey-State") != "FIRING" {
				t.Fatalf("headers %v", msg.Header)
			}
			body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if err != nil {
				t.Fatal(err)
			}
			mustContainFacts(t, string(body))
		})
	}
}

func TestEmailFailures(t *testing.T) {
	plain := newTestSMTP(t, "none")
	cfg := emailConfig(plain, "starttls")
	if err := send(t, ChannelEmail, cfg, time.Now()); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("STARTTLS not offered: err = %v", err)
	}
	cfg = emailConfig(plain, "none")
	cfg.Password = "wrong"
	if err := send(t, ChannelEmail, cfg, time.Now()); err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Fatalf("bad password: err = %v", err)
	}
	tlsSrv := newTestSMTP(t, "starttls")
	cfg = emailConfig(tlsSrv, "starttls")
	cfg.InsecureSkipVerify = false
	if err := send(t, ChannelEmail, cfg, time.Now()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: err = %v", err)
	}
	if n := len(plain.messages()) + len(tlsSrv.messages()); n != 0 {
		t.Fatalf("%d messages accepted", n)
	}
}
