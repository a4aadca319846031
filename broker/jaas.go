package broker

import (
	"fmt"
	"strings"
)

// JAASConfig is one sasl.jaas.config value: a login module and its options.
// For PlainLoginModule, username and password are the broker's own
// credentials towards other brokers and every user_<name> option is a user
// of the PLAIN user database, as in Kafka.
type JAASConfig struct {
	LoginModule string
	Flag        string // required, requisite, sufficient or optional
	Options     map[string]string
}

// PlainUsers returns the user_<name>=<password> entries.
func (j JAASConfig) PlainUsers() map[string]string {
	users := map[string]string{}
	for k, v := range j.Options {
		if name, ok := strings.CutPrefix(k, "user_"); ok && name != "" {
			users[name] = v
		}
	}
	return users
}

// ParseJAAS parses Kafka's inline JAAS syntax:
//
//	<LoginModuleClass> <flag> [key=value ...];
//
// Values may be double-quoted (with \" and \\ escapes) or bare. Errors name
// the position, never a value (values are often passwords).
func ParseJAAS(s string) (JAASConfig, error) {
	p := jaasParser{s: s}
	var j JAASConfig
	j.LoginModule = p.word()
	if j.LoginModule == "" {
		return j, fmt.Errorf("want <LoginModule> required key=\"value\" ...; (no login module class)")
	}
	j.Flag = p.word()
	switch j.Flag {
	case "required", "requisite", "sufficient", "optional":
	default:
		return j, fmt.Errorf("login module %s: flag must be required, requisite, sufficient or optional", j.LoginModule)
	}
	j.Options = map[string]string{}
	for {
		p.space()
		if p.eof() {
			return j, fmt.Errorf("login module %s: missing the closing ';'", j.LoginModule)
		}
		if p.peek() == ';' {
			p.i++
			p.space()
			if !p.eof() {
				return j, fmt.Errorf("only one login module is allowed (text after ';' at offset %d)", p.i)
			}
			return j, nil
		}
		key := p.key()
		if key == "" || p.eof() || p.peek() != '=' {
			return j, fmt.Errorf("login module %s: want key=value at offset %d", j.LoginModule, p.i)
		}
		p.i++
		val, err := p.value()
		if err != nil {
			return j, fmt.Errorf("login module %s, option %s: %w", j.LoginModule, key, err)
		}
		j.Options[key] = val
	}
}

type jaasParser struct {
	s string
	i int
}

func (p *jaasParser) eof() bool  { return p.i >= len(p.s) }
func (p *jaasParser) peek() byte { return p.s[p.i] }
func (p *jaasParser) space() {
	for !p.eof() && strings.IndexByte(" \t\r\n", p.peek()) >= 0 {
		p.i++
	}
}

// word reads up to the next space or ';'.
func (p *jaasParser) word() string {
	p.space()
	start := p.i
	for !p.eof() && strings.IndexByte(" \t\r\n;", p.peek()) < 0 {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *jaasParser) key() string {
	start := p.i
	for !p.eof() && strings.IndexByte(" \t\r\n;=", p.peek()) < 0 {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *jaasParser) value() (string, error) {
	if p.eof() {
		return "", fmt.Errorf("missing value")
	}
	if p.peek() != '"' {
		return p.key(), nil
	}
	p.i++
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.i++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.eof() {
				return "", fmt.Errorf("unterminated escape")
			}
			b.WriteByte(p.peek())
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated quoted value")
}
