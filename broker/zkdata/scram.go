package zkdata

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// ScramCredential is one SCRAM credential as Kafka keeps it in a user's
// entity config (/config/users/<user>), under the mechanism's name
// ("SCRAM-SHA-256"): ScramCredentialUtils' string form.
type ScramCredential struct {
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
	Iterations int
}

// EncodeScramCredential writes Kafka's
// "salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n>" (standard
// base64 with padding, as java.util.Base64's encoder).
func EncodeScramCredential(c ScramCredential) string {
	enc := base64.StdEncoding.EncodeToString
	return "salt=" + enc(c.Salt) + ",stored_key=" + enc(c.StoredKey) + ",server_key=" + enc(c.ServerKey) +
		",iterations=" + strconv.Itoa(c.Iterations)
}

// DecodeScramCredential reads the string form: exactly the four keys, in
// any order. Errors never quote the value (it holds the keys).
func DecodeScramCredential(s string) (ScramCredential, error) {
	fields := map[string]string{}
	for tok := range strings.SplitSeq(s, ",") {
		i := strings.IndexByte(tok, '=')
		if i <= 0 {
			return ScramCredential{}, malformed("SCRAM credential: a field is not key=value", nil)
		}
		fields[tok[:i]] = tok[i+1:]
	}
	if len(fields) != 4 {
		return ScramCredential{}, malformed(fmt.Sprintf("SCRAM credential: %d fields, want salt, stored_key, server_key, iterations", len(fields)), nil)
	}
	var c ScramCredential
	var err error
	for key, dst := range map[string]*[]byte{"salt": &c.Salt, "stored_key": &c.StoredKey, "server_key": &c.ServerKey} {
		v, ok := fields[key]
		if !ok {
			return ScramCredential{}, malformed("SCRAM credential: no "+key, nil)
		}
		if *dst, err = base64.StdEncoding.DecodeString(v); err != nil {
			return ScramCredential{}, malformed("SCRAM credential: "+key+" is not base64", nil)
		}
	}
	it, ok := fields["iterations"]
	if !ok {
		return ScramCredential{}, malformed("SCRAM credential: no iterations", nil)
	}
	if c.Iterations, err = strconv.Atoi(it); err != nil {
		return ScramCredential{}, malformed("SCRAM credential: iterations is not a number", nil)
	}
	return c, nil
}

// SanitizeEntityName is Kafka's Sanitizer.sanitize: the name a user or
// client id has as a znode under /config/users or /config/clients. It is
// Java's URLEncoder (UTF-8; letters, digits and . - _ kept) with '*' also
// encoded (%2A) and space written %20 instead of '+'.
func SanitizeEntityName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// DesanitizeEntityName is Kafka's Sanitizer.desanitize (URLDecoder: %XX
// escapes and '+' as space).
func DesanitizeEntityName(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b.WriteByte(' ')
		case '%':
			if i+2 >= len(s) {
				return "", malformed(fmt.Sprintf("entity name %q: truncated %% escape", s), nil)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", malformed(fmt.Sprintf("entity name %q: bad %% escape", s), nil)
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// UserConfigPath is /config/users/<sanitized user>.
func UserConfigPath(user string) string {
	return ConfigEntityPath(ConfigTypeUser, SanitizeEntityName(user))
}
