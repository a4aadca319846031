package broker

import (
	"context"
	"crypto/x509"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/osprey-kafka/osprey/broker/acl"
	kraftnode "github.com/osprey-kafka/osprey/broker/kraft/node"
	"github.com/osprey-kafka/osprey/broker/sasl"
)

// The KRaft CONTROLLER listener's security, as Kafka configures it: the first of
// controller.listener.names maps through listener.security.protocol.map to PLAINTEXT, SSL,
// SASL_PLAINTEXT or SASL_SSL; its ssl.* and sasl.* settings are the listener's
// (listener.name.<controller>.*), and the mechanism a node uses towards the others' controller
// listeners is sasl.mechanism.controller.protocol with the username and password of the
// listener's JAAS config for it. Raft traffic, broker registration and heartbeats, forwarded
// admin requests and voter changes all go through it.

// saslMechanismControllerKey is the client mechanism towards the controller listener.
const saslMechanismControllerKey = "sasl.mechanism.controller.protocol"

// controllerListenerName is the listener the quorum and the controller APIs use: the first
// of controller.listener.names.
func (c Config) controllerListenerName() string {
	if len(c.ControllerListenerNames) == 0 {
		return ""
	}
	return c.ControllerListenerNames[0]
}

// controllerMechanism is sasl.mechanism.controller.protocol (Kafka's default GSSAPI).
func (c Config) controllerMechanism() string {
	if v, ok := c.Security.Props[saslMechanismControllerKey]; ok && strings.TrimSpace(v) != "" {
		return strings.ToUpper(strings.TrimSpace(v))
	}
	return "GSSAPI"
}

// controllerListenerSecurity resolves and checks the controller listener's settings. SCRAM is
// refused: its credentials live in the metadata log, which a controller can read only after it
// has authenticated to the quorum, so Kafka does not offer it on controller listeners either.
func (c Config) controllerListenerSecurity() (ListenerSecurity, error) {
	name := c.controllerListenerName()
	lname := strings.ToLower(name)
	m := c.controllerMechanism()
	if p, _ := c.protocolOf(name); p == protoSASLPlaintext || p == protoSASLSSL {
		switch {
		case sasl.IsScramMechanism(m):
			return ListenerSecurity{}, fmt.Errorf("property %s=%s: SCRAM cannot authenticate to the controller listener %s "+
				"(its credentials live in the metadata log); use PLAIN", saslMechanismControllerKey, m, name)
		case m != "PLAIN":
			return ListenerSecurity{}, fmt.Errorf("property %s=%s: not supported on the controller listener %s (GSSAPI is Kafka's default); set %s=PLAIN",
				saslMechanismControllerKey, m, name, saslMechanismControllerKey)
		}
	}
	serves := c.HasRole(RoleController)
	if !serves {
		// A broker-only node only dials the listener, as a client: it offers no mechanism and
		// needs no keystore (a keystore it has is its client certificate).
		c.Security.Props = maps.Clone(c.Security.Props)
		if c.Security.Props == nil {
			c.Security.Props = map[string]string{}
		}
		c.Security.Props["listener.name."+lname+".sasl.enabled.mechanisms"] = m
	}
	ls, err := c.resolveListener(name, serves)
	if err != nil || !ls.usesSASL() {
		return ls, err
	}
	for _, em := range ls.Mechanisms {
		if sasl.IsScramMechanism(em) {
			return ls, fmt.Errorf("property listener.name.%s.sasl.enabled.mechanisms: %s cannot authenticate on the controller listener %s: "+
				"SCRAM credentials live in the metadata log, which the controllers read only once they are authenticated; use PLAIN", lname, em, name)
		}
	}
	if !slices.Contains(ls.Mechanisms, m) {
		return ls, fmt.Errorf("property %s: PLAIN is not enabled on the controller listener %s (%s); add it to listener.name.%s.sasl.enabled.mechanisms",
			saslMechanismControllerKey, name, strings.Join(ls.Mechanisms, ","), lname)
	}
	if ls.JAAS[m].Options["username"] == "" {
		return ls, fmt.Errorf("property listener.name.%s.plain.sasl.jaas.config: needs username=\"...\" password=\"...\", "+
			"the credentials this node uses towards the controllers", lname)
	}
	return ls, nil
}

// ControllerDialer connects to a CONTROLLER listener as the node this configuration
// configures does (its controller listener's protocol and credentials), for tools that talk to
// the controllers; nil for PLAINTEXT.
func (c Config) ControllerDialer() (func(ctx context.Context, addr string) (net.Conn, error), error) {
	sec, err := c.controllerSecurity()
	return sec.Dial, err
}

// controllerSecurity builds the KRaft node's Security: the listener's side when this node is a
// controller, the dialing side always, and the authorizer when one is configured. It loads
// the key material, so errors name the file or property to fix.
func (c Config) controllerSecurity() (kraftnode.Security, error) {
	var sec kraftnode.Security
	if !c.KRaft() || c.controllerListenerName() == "" {
		return sec, nil
	}
	ls, err := c.controllerListenerSecurity()
	if err != nil {
		return sec, err
	}
	sec.Protocol = protocolIDs[ls.Protocol]
	if c.Authz.Enabled() {
		sec.Authorizer = acl.New(acl.Config{SuperUsers: c.Authz.SuperUsers, AllowIfNoACL: c.Authz.AllowIfNoACL})
	}
	// Failures are delayed per source as on the data listeners (doubling up to 5 s).
	fails := &authFailures{}
	base := c.Security.FailedAuthDelay
	sec.AuthFailed = func(host string, _ error) time.Duration { return fails.record(host, base, time.Now()) }
	client := &clientSecurity{}
	if ls.usesTLS() {
		if client.tls, err = ls.TLS.clientConfig(); err != nil {
			return sec, fmt.Errorf("controller listener %s: %w", ls.Name, err)
		}
		if c.HasRole(RoleController) {
			if sec.TLS, err = ls.TLS.serverConfig(); err != nil {
				return sec, fmt.Errorf("controller listener %s: %w", ls.Name, err)
			}
		}
		if ls.Protocol == protoSSL {
			rules := ls.TLS.Rules
			sec.CertPrincipal = func(cert *x509.Certificate) (string, error) { return mapPrincipal(rules, cert.Subject.String()) }
		}
	}
	if ls.usesSASL() {
		jc := ls.JAAS["PLAIN"]
		client.mech = plain.Auth{User: jc.Options["username"], Pass: jc.Options["password"]}.AsMechanism()
		if c.HasRole(RoleController) {
			users := jc.PlainUsers()
			sec.Mechanisms = map[string]sasl.Mechanism{
				"PLAIN": sasl.NewPlain(func(u string) (string, bool) { p, ok := users[u]; return p, ok }),
			}
		}
	}
	if client.tls != nil || client.mech != nil {
		clientID := "osprey-controller-client-" + strconv.Itoa(int(c.NodeID))
		sec.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
			k, err := dialKafka(ctx, addr, clientID, client)
			if err != nil {
				return nil, err
			}
			return k.c, nil
		}
	}
	return sec, nil
}
