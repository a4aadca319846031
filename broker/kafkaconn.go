package broker

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	franzsasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
)

// A minimal Kafka client connection for broker-to-broker requests: the followers' fetches and the
// controller's requests to brokers.

// maxResponseFrame bounds a response from another broker; a follower's
// fetch asks for far less (its MaxBytes).
const maxResponseFrame = 256 << 20

// kafkaConn sends one request at a time on a connection to another broker.
// Not safe for concurrent use (a fetcher owns it).
type kafkaConn struct {
	c    net.Conn
	corr int32
	f    *kmsg.RequestFormatter
	sec  *clientSecurity
	addr string
	// reauthAt is when the SASL session must be renewed (KIP-368): a bit
	// before the lifetime the broker gave; zero = never.
	reauthAt time.Time
}

// clientSecurity is how this broker connects to the inter-broker listener
// of the others: TLS (nil = none) and a SASL mechanism (nil = none).
type clientSecurity struct {
	tls  *tls.Config
	mech franzsasl.Mechanism
}

// interBrokerClientSecurity builds the client side of the inter-broker
// listener from its settings: the truststore (and keystore, for mutual TLS)
// and the JAAS config's username and password.
func (b *Broker) interBrokerClientSecurity() (*clientSecurity, error) {
	name := b.cfg.interBrokerListener()
	ls, err := b.cfg.listenerSecurity(name)
	if err != nil {
		return nil, err
	}
	sec := &clientSecurity{}
	if ls.usesTLS() {
		if sec.tls, err = ls.TLS.clientConfig(); err != nil {
			return nil, fmt.Errorf("inter-broker listener %s: %w", name, err)
		}
	}
	if ls.usesSASL() {
		m := b.cfg.Security.InterBrokerMechanism
		opts := ls.JAAS[m].Options
		user, pass := opts["username"], opts["password"]
		switch m {
		case "PLAIN":
			sec.mech = plain.Auth{User: user, Pass: pass}.AsMechanism()
		case "SCRAM-SHA-256":
			sec.mech = scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
		case "SCRAM-SHA-512":
			sec.mech = scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
		default:
			return nil, fmt.Errorf("property sasl.mechanism.inter.broker.protocol: %s is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", m)
		}
	}
	return sec, nil
}

// dialKafka connects to another broker's listener at addr with sec (nil =
// PLAINTEXT): the TLS handshake, then the SASL exchange.
func dialKafka(ctx context.Context, addr, clientID string, sec *clientSecurity) (*kafkaConn, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	k := &kafkaConn{c: c, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID)), sec: sec, addr: addr}
	if sec == nil {
		return k, nil
	}
	if sec.tls != nil {
		cfg := sec.tls.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		k.c = tc
	}
	if sec.mech != nil {
		if err := k.authenticate(dctx); err != nil {
			k.c.Close()
			return nil, err
		}
	}
	return k, nil
}

// authenticate runs SaslHandshake v1 and the SaslAuthenticate exchange.
func (k *kafkaConn) authenticate(ctx context.Context) error {
	m := k.sec.mech
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, m.Name()
	hsResp := kmsg.NewPtrSASLHandshakeResponse()
	if err := k.do(ctx, hs, hsResp); err != nil {
		return err
	}
	if err := kerr.ErrorForCode(hsResp.ErrorCode); err != nil {
		return fmt.Errorf("SASL handshake with %s (%s): %w", k.addr, m.Name(), err)
	}
	host, _, _ := net.SplitHostPort(k.addr)
	session, msg, err := m.Authenticate(ctx, host)
	if err != nil {
		return fmt.Errorf("SASL %s: %w", m.Name(), err)
	}
	for {
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.Version, req.SASLAuthBytes = 1, msg
		resp := kmsg.NewPtrSASLAuthenticateResponse()
		if err := k.do(ctx, req, resp); err != nil {
			return err
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return fmt.Errorf("SASL %s authentication with %s: %w", m.Name(), k.addr, err)
		}
		done, next, err := session.Challenge(resp.SASLAuthBytes)
		if err != nil {
			return fmt.Errorf("SASL %s with %s: %w", m.Name(), k.addr, err)
		}
		if done {
			k.reauthAt = time.Time{}
			if ms := resp.SessionLifetimeMillis; ms > 0 {
				// Renew at 85% of the lifetime, as Kafka's clients roughly do.
				k.reauthAt = time.Now().Add(time.Duration(ms) * time.Millisecond * 85 / 100)
			}
			return nil
		}
		msg = next
	}
}

func (k *kafkaConn) Close() error { return k.c.Close() }

// Do sends req and decodes the answer into resp, within ctx's deadline.
func (k *kafkaConn) Do(ctx context.Context, req kmsg.Request, resp kmsg.Response) error {
	if !k.reauthAt.IsZero() && time.Now().After(k.reauthAt) {
		if err := k.authenticate(ctx); err != nil {
			return fmt.Errorf("re-authenticating: %w", err)
		}
	}
	return k.do(ctx, req, resp)
}

func (k *kafkaConn) do(ctx context.Context, req kmsg.Request, resp kmsg.Response) error {
	if dl, ok := ctx.Deadline(); ok {
		k.c.SetDeadline(dl) //nolint:errcheck // a failed deadline shows up as an I/O error
	}
	stop := context.AfterFunc(ctx, func() { k.c.SetDeadline(time.Unix(1, 0)) }) //nolint:errcheck
	defer stop()
	k.corr++
	buf := k.f.AppendRequest(nil, req, k.corr)
	if _, err := k.c.Write(buf); err != nil {
		return fmt.Errorf("writing %s: %w", kmsg.NameForKey(req.Key()), err)
	}
	frame, err := kafkawire.ReadFrame(k.c, kafkawire.MinResponseFrame, maxResponseFrame)
	if err != nil {
		return fmt.Errorf("reading %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	return kafkawire.DecodeResponse(frame, req, k.corr, resp)
}
