// Package topicname holds Kafka's rules for topic names, shared by the broker
// (CreateTopics, Metadata auto-creation, log directory names) and the console
// (topic creation, cluster names). It imports nothing from the module so both
// sides can use it.
package topicname

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLen is Kafka's limit on a topic name's length (Topic.MAX_NAME_LENGTH).
const MaxLen = 249

// Validate reports why name is not a legal Kafka topic name, or nil: 1 to
// MaxLen characters of [a-zA-Z0-9._-], and not "." or "..". These rules also
// keep a name from escaping the log directory it names.
func Validate(name string) error {
	switch {
	case name == "":
		return errors.New("must not be empty")
	case name == "." || name == "..":
		return fmt.Errorf("%q is not allowed", name)
	case len(name) > MaxLen:
		return fmt.Errorf("is %d characters long; the limit is %d", len(name), MaxLen)
	}
	for i := 0; i < len(name); i++ {
		if !legal(name[i]) {
			return fmt.Errorf("%q has characters other than letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

// legal is Kafka's topic name alphabet: ASCII letters and digits, '.', '_', '-'.
// Any byte of a multi-byte UTF-8 sequence is outside it.
func legal(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// Collides reports whether two different names become the same once '.' and
// '_' are treated alike, as they are in Kafka's metric names; Kafka refuses to
// create a topic that collides with an existing one.
func Collides(a, b string) bool {
	return a != b && unify(a) == unify(b)
}

// HasCollisionChars reports whether name could collide with another: it has a
// '.' or a '_'.
func HasCollisionChars(name string) bool {
	return strings.ContainsAny(name, "._")
}

func unify(name string) string { return strings.ReplaceAll(name, ".", "_") }
