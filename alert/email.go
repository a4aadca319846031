package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

type emailSender struct {
	cfg EmailConfig
	now func() time.Time
}

func (c *EmailConfig) newSender(o senderOptions) (Sender, error) {
	cfg := *c
	if cfg.TLS == "" {
		cfg.TLS = "starttls"
	}
	return &emailSender{cfg: cfg, now: o.now}, nil
}

// Send delivers one message over one SMTP session: connect (implicit TLS
// when configured), EHLO, STARTTLS when configured (failing if the server
// does not offer it, rather than sending in clear), AUTH PLAIN when
// credentials are set, MAIL/RCPT/DATA, QUIT. The whole session is bounded
// by ctx.
func (s *emailSender) Send(ctx context.Context, n Notification) error {
	c := s.cfg
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	tlsCfg := &tls.Config{ServerName: c.Host, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in for self-signed relays
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connecting to SMTP server %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Closing the connection unblocks the session when ctx ends early.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if c.TLS == "tls" {
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		conn = tc
	}
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		return fmt.Errorf("SMTP greeting from %s: %w", addr, err)
	}
	defer cl.Close()
	hello := c.HelloName
	if hello == "" {
		hello = "localhost"
	}
	if err := cl.Hello(hello); err != nil {
		return fmt.Errorf("SMTP EHLO to %s: %w", addr, err)
	}
	if c.TLS == "starttls" {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return fmt.Errorf("SMTP server %s does not offer STARTTLS (set tls to \"tls\" or \"none\")", addr)
		}
		if err := cl.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("SMTP STARTTLS with %s: %w", addr, err)
		}
	}
	if c.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			return fmt.Errorf("SMTP AUTH PLAIN as %s at %s: %w", c.Username, addr, err)
		}
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return fmt.Errorf("parsing from address: %w", err)
	}
	if err := cl.Mail(from.Address); err != nil {
		return fmt.Errorf("SMTP MAIL FROM %s: %w", from.Address, err)
	}
	var to []string
	for _, t := range c.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return fmt.Errorf("parsing recipient %q: %w", t, err)
		}
		if err := cl.Rcpt(a.Address); err != nil {
			return fmt.Errorf("SMTP RCPT TO %s: %w", a.Address, err)
		}
		to = append(to, a.String())
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(s.message(n, from, to)); err != nil {
		_ = w.Close()
		return fmt.Errorf("writing the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP server refused the message: %w", err)
	}
	if err := cl.Quit(); err != nil {
		return fmt.Errorf("SMTP QUIT: %w", err)
	}
	return nil
}

// message renders the RFC 5322 message: UTF-8 text, quoted-printable.
func (s *emailSender) message(n Notification, from *mail.Address, to []string) []byte {
	subject := n.Title()
	if s.cfg.SubjectPrefix != "" {
		subject = s.cfg.SubjectPrefix + " " + subject
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := "osprey.local"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		domain = from.Address[at+1:]
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from.String())
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", s.now().Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("X-Osprey-Fingerprint", n.Fingerprint)
	h("X-Osprey-State", n.State)
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(n.Text(), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
