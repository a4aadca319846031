package broker

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The security protocols of listener.security.protocol.map, numbered as
// Kafka numbers them on the wire (UpdateMetadata, broker registrations).
const (
	protoPlaintext     = "PLAINTEXT"
	protoSSL           = "SSL"
	protoSASLPlaintext = "SASL_PLAINTEXT"
	protoSASLSSL       = "SASL_SSL"
)

var protocolIDs = map[string]int16{protoPlaintext: 0, protoSSL: 1, protoSASLPlaintext: 2, protoSASLSSL: 3}

// defaultProtocolMap is Kafka 4's listener.security.protocol.map default.
func defaultProtocolMap() map[string]string {
	return map[string]string{"PLAINTEXT": protoPlaintext, "SSL": protoSSL, "SASL_PLAINTEXT": protoSASLPlaintext,
		"SASL_SSL": protoSASLSSL, "CONTROLLER": protoPlaintext}
}

// SecurityConfig is the listener security configuration: which protocol each
// listener speaks, the inter-broker listener and mechanism, and the sasl.*,
// ssl.* and listener.name.* properties as given (resolved per listener by
// listenerSecurity).
type SecurityConfig struct {
	ProtocolMap          map[string]string // listener.security.protocol.map: listener name -> protocol
	InterBrokerListener  string            // inter.broker.listener.name, or the name security.inter.broker.protocol gives ("" = PLAINTEXT or the first listener)
	InterBrokerMechanism string            // sasl.mechanism.inter.broker.protocol
	ReauthMax            time.Duration     // connections.max.reauth.ms (0 = sessions never expire)
	FailedAuthDelay      time.Duration     // connection.failed.authentication.delay.ms
	// Props holds the sasl.*, ssl.* and listener.name.* properties
	// verbatim; some are secrets (see sensitiveKey).
	Props map[string]string
}

func defaultSecurityConfig() SecurityConfig {
	return SecurityConfig{ProtocolMap: defaultProtocolMap(), InterBrokerMechanism: "PLAIN",
		FailedAuthDelay: 100 * time.Millisecond}
}

// isSecurityProp reports whether k is kept in SecurityConfig.Props.
func isSecurityProp(k string) bool {
	return strings.HasPrefix(k, "ssl.") || strings.HasPrefix(k, "listener.name.") ||
		(strings.HasPrefix(k, "sasl.") && k != "sasl.mechanism.inter.broker.protocol")
}

// sensitiveKey reports whether a property holds a secret: it is never
// logged and DescribeConfigs reports it as null with isSensitive set, as
// Kafka does for its PASSWORD-type configs.
func sensitiveKey(k string) bool {
	return strings.HasSuffix(k, ".password") || strings.HasSuffix(k, "sasl.jaas.config") ||
		strings.HasSuffix(k, "ssl.keystore.key")
}

// parseSecurityProperty parses the security keys; ok is false for others.
func (c *Config) parseSecurityProperty(k, v string) (ok bool, err error) {
	s := &c.Security
	switch {
	case k == "listener.security.protocol.map":
		s.ProtocolMap, err = parseProtocolMap(v)
	case k == "inter.broker.listener.name":
		s.InterBrokerListener = strings.TrimSpace(v)
	case k == "security.inter.broker.protocol":
		if _, known := protocolIDs[strings.TrimSpace(v)]; !known {
			return true, fmt.Errorf("want PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
		}
	case k == "sasl.mechanism.inter.broker.protocol":
		s.InterBrokerMechanism = strings.TrimSpace(v)
	case k == "connections.max.reauth.ms":
		s.ReauthMax, err = parseMs(v, 0)
	case k == "connection.failed.authentication.delay.ms":
		s.FailedAuthDelay, err = parseMs(v, 0)
	case isSecurityProp(k):
		if s.Props == nil {
			s.Props = map[string]string{}
		}
		s.Props[k] = v
	default:
		return false, nil
	}
	return true, err
}

func parseProtocolMap(v string) (map[string]string, error) {
	m := map[string]string{}
	for _, e := range splitList(v) {
		name, proto, ok := strings.Cut(e, ":")
		name, proto = strings.TrimSpace(name), strings.TrimSpace(proto)
		if !ok || name == "" {
			return nil, fmt.Errorf("entry %q: want LISTENER_NAME:PROTOCOL, e.g. INTERNAL:SASL_PLAINTEXT", e)
		}
		if _, known := protocolIDs[proto]; !known {
			return nil, fmt.Errorf("entry %q: protocol %q is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", e, proto)
		}
		m[name] = proto
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("empty map")
	}
	return m, nil
}

// finishSecurity resolves the inter-broker listener once every key is read
// (security.inter.broker.protocol names it when inter.broker.listener.name
// does not, as in Kafka).
func (c *Config) finishSecurity(props map[string]string) error {
	ib, hasName := props["inter.broker.listener.name"]
	proto, hasProto := props["security.inter.broker.protocol"]
	if hasName && hasProto {
		return fmt.Errorf("property security.inter.broker.protocol: set only one of it and inter.broker.listener.name (Kafka refuses both)")
	}
	if hasProto {
		c.Security.InterBrokerListener = strings.TrimSpace(proto)
	} else if hasName {
		c.Security.InterBrokerListener = strings.TrimSpace(ib)
	}
	return nil
}

// listenerName is the name part of a NAME://host:port entry.
func listenerName(s string) string {
	name, _, _ := strings.Cut(s, "://")
	return name
}

// interBrokerListener is the data listener other brokers use: the one
// inter.broker.listener.name (or security.inter.broker.protocol) names, else
// PLAINTEXT if there is one, else the first.
func (c Config) interBrokerListener() string {
	if c.Security.InterBrokerListener != "" {
		return c.Security.InterBrokerListener
	}
	for _, l := range c.Listeners {
		if listenerName(l) == "PLAINTEXT" {
			return "PLAINTEXT"
		}
	}
	if len(c.Listeners) > 0 {
		return listenerName(c.Listeners[0])
	}
	return ""
}

// protocolOf is the security protocol of a listener name.
func (c Config) protocolOf(name string) (string, bool) {
	m := c.Security.ProtocolMap
	if m == nil {
		m = defaultProtocolMap()
	}
	p, ok := m[name]
	return p, ok
}

// secProp looks a property up for one listener: the listener.name.<l>.
// prefixed key first, then the plain one, as Kafka does.
func (s SecurityConfig) secProp(listener, key string) (string, bool) {
	if v, ok := s.Props["listener.name."+strings.ToLower(listener)+"."+key]; ok {
		return v, true
	}
	v, ok := s.Props[key]
	return v, ok
}

// ListenerSecurity is one listener's resolved security settings.
type ListenerSecurity struct {
	Name     string
	Protocol string
	// Mechanisms are the SASL mechanisms offered (SASL_* only), from
	// [listener.name.<l>.]sasl.enabled.mechanisms.
	Mechanisms []string
	// JAAS holds the login module options by mechanism, from
	// listener.name.<l>.<mechanism>.sasl.jaas.config.
	JAAS map[string]JAASConfig
	TLS  *TLSSettings // SSL and SASL_SSL only
}

// usesTLS and usesSASL say what the listener's protocol layers.
func (l ListenerSecurity) usesTLS() bool {
	return l.Protocol == protoSSL || l.Protocol == protoSASLSSL
}
func (l ListenerSecurity) usesSASL() bool {
	return l.Protocol == protoSASLPlaintext || l.Protocol == protoSASLSSL
}

// supportedMechanisms are the SASL mechanisms this broker implements.
var supportedMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// listenerSecurity resolves the settings of the listener named name. It
// reads no file (Start loads the key material) but checks every value.
func (c Config) listenerSecurity(name string) (ListenerSecurity, error) {
	return c.resolveListener(name, true)
}

// resolveListener is listenerSecurity; serves false resolves only what a
// client of the listener needs (TLS without a keystore is then fine).
func (c Config) resolveListener(name string, serves bool) (ListenerSecurity, error) {
	proto, ok := c.protocolOf(name)
	if !ok {
		return ListenerSecurity{}, fmt.Errorf("property listeners: listener %s has no security protocol; add %s:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL) to listener.security.protocol.map", name, name)
	}
	ls := ListenerSecurity{Name: name, Protocol: proto}
	s := c.Security
	if ls.usesSASL() {
		mechKey := "sasl.enabled.mechanisms"
		v, set := s.secProp(name, mechKey)
		if !set {
			v = "GSSAPI" // Kafka's default, which this broker does not offer
		}
		ls.Mechanisms = splitList(strings.ToUpper(v))
		if len(ls.Mechanisms) == 0 {
			return ls, fmt.Errorf("property %s: listener %s (%s) needs at least one mechanism, e.g. sasl.enabled.mechanisms=PLAIN", mechKey, name, proto)
		}
		ls.JAAS = map[string]JAASConfig{}
		for _, m := range ls.Mechanisms {
			if !slices.Contains(supportedMechanisms, m) {
				return ls, fmt.Errorf("property %s: mechanism %s on listener %s is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", mechKey, m, name)
			}
			key := "listener.name." + strings.ToLower(name) + "." + strings.ToLower(m) + ".sasl.jaas.config"
			raw, ok := s.Props[key]
			if !ok {
				if m == "PLAIN" {
					return ls, fmt.Errorf("property %s: required for PLAIN on listener %s (the user database), e.g. "+
						`org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="<password>";`, key, name)
				}
				continue
			}
			jc, err := ParseJAAS(raw)
			if err != nil {
				return ls, fmt.Errorf("property %s: %w", key, err)
			}
			ls.JAAS[m] = jc
		}
	}
	if ls.usesTLS() {
		t, err := c.tlsSettings(name, serves)
		if err != nil {
			return ls, err
		}
		ls.TLS = &t
	}
	return ls, nil
}

// validateSecurity checks every listener's security settings and the
// inter-broker choice.
func (c Config) validateSecurity() error {
	var names []string
	for _, l := range c.Listeners {
		name := listenerName(l)
		if slices.Contains(names, name) {
			return fmt.Errorf("property listeners: listener name %s appears twice; each listener needs its own name", name)
		}
		names = append(names, name)
		if _, err := c.listenerSecurity(name); err != nil {
			return err
		}
	}
	if c.KRaft() && c.controllerListenerName() != "" {
		if _, err := c.controllerListenerSecurity(); err != nil {
			return err
		}
	}
	if len(names) == 0 {
		return nil
	}
	ib := c.interBrokerListener()
	if !slices.Contains(names, ib) {
		return fmt.Errorf("property inter.broker.listener.name: %s is not one of the listeners (%s); name one of them", ib, strings.Join(names, ", "))
	}
	ls, _ := c.listenerSecurity(ib)
	if ls.usesSASL() {
		m := strings.ToUpper(c.Security.InterBrokerMechanism)
		if !slices.Contains(ls.Mechanisms, m) {
			return fmt.Errorf("property sasl.mechanism.inter.broker.protocol: %s is not enabled on the inter-broker listener %s (%s)",
				m, ib, strings.Join(ls.Mechanisms, ","))
		}
		jc, ok := ls.JAAS[m]
		if !ok || jc.Options["username"] == "" {
			return fmt.Errorf("property listener.name.%s.%s.sasl.jaas.config: needs username=\"...\" password=\"...\", "+
				"the credentials this broker uses towards the others", strings.ToLower(ib), strings.ToLower(m))
		}
	}
	return nil
}

// addSecurityProperties adds the security keys to props (for Properties).
func (c Config) addSecurityProperties(props map[string]string) {
	s := c.Security
	if s.ProtocolMap != nil && !maps.Equal(s.ProtocolMap, defaultProtocolMap()) {
		var es []string
		for _, k := range slices.Sorted(maps.Keys(s.ProtocolMap)) {
			es = append(es, k+":"+s.ProtocolMap[k])
		}
		props["listener.security.protocol.map"] = strings.Join(es, ",")
	}
	props["inter.broker.listener.name"] = s.InterBrokerListener
	if s.InterBrokerMechanism != "" {
		props["sasl.mechanism.inter.broker.protocol"] = s.InterBrokerMechanism
	}
	props["connections.max.reauth.ms"] = strconv.FormatInt(s.ReauthMax.Milliseconds(), 10)
	props["connection.failed.authentication.delay.ms"] = strconv.FormatInt(s.FailedAuthDelay.Milliseconds(), 10)
	for k, v := range s.Props {
		// Inline PEM spans lines; a properties file holds one line per
		// value, so line breaks are written as \n (as Java reads them) and
		// the PEM reader takes them back.
		props[k] = strings.ReplaceAll(strings.ReplaceAll(v, "\r", ""), "\n", `\n`)
	}
}

// addSecurityConfigEntries adds the security keys that are set to the
// static configs DescribeConfigs reports; redactSensitive hides secrets.
func (c Config) addSecurityConfigEntries(m map[string]string) {
	all := map[string]string{}
	c.addSecurityProperties(all)
	for k, v := range all {
		if v != "" {
			m[k] = v
		}
	}
}

// redactSensitive answers a secret as Kafka does: value null, isSensitive
// set, and its synonyms without values either.
func redactSensitive(c *kmsg.DescribeConfigsResponseResourceConfig) {
	if !sensitiveKey(c.Name) {
		return
	}
	c.Value, c.IsSensitive, c.ConfigType = nil, true, kmsg.ConfigTypePassword
	syn := make([]kmsg.DescribeConfigsResponseResourceConfigConfigSynonym, len(c.ConfigSynonyms))
	for i, s := range c.ConfigSynonyms {
		s.Value = nil
		syn[i] = s
	}
	c.ConfigSynonyms = syn
}
