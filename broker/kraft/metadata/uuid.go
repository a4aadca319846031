package metadata

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// Uuid is Kafka's 128-bit id (topic ids, cluster ids, directory ids,
// incarnation ids): 16 bytes, most significant long first. Its text form is
// Kafka's Uuid.toString: unpadded base64url of the 16 bytes (22 characters).
type Uuid [16]byte

// Kafka's reserved ids (org.apache.kafka.common.Uuid): ZeroUuid is "no id" on
// the wire and OneUuid is the __cluster_metadata topic's id.
var (
	ZeroUuid = Uuid{}
	OneUuid  = Uuid{15: 1}
)

// String is Kafka's text form: base64url without padding.
func (u Uuid) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }

// IsZero reports whether u is Kafka's ZERO_UUID.
func (u Uuid) IsZero() bool { return u == ZeroUuid }

// ParseUuid reads Kafka's text form. As Kafka's Uuid.fromString it accepts at
// most 24 characters (so a padded form too) that decode to exactly 16 bytes.
func ParseUuid(s string) (Uuid, error) {
	var u Uuid
	if len(s) > 24 {
		return u, fmt.Errorf("uuid %.24q...: too long to be a base64 UUID", s)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return u, fmt.Errorf("uuid %q: not base64url: %w", s, err)
	}
	if len(b) != 16 {
		return u, fmt.Errorf("uuid %q decodes to %d bytes, want the 16 bytes of a base64 UUID", s, len(b))
	}
	copy(u[:], b)
	return u, nil
}

// RandomUuid returns a new id as Kafka's Uuid.randomUuid does: a version 4
// random UUID that is neither reserved (zero, one) nor one whose text starts
// with '-', which a command line would take for an option. r is usually
// crypto/rand.Reader; nil means that.
func RandomUuid(r io.Reader) (Uuid, error) {
	for {
		u, err := randomBits(r)
		if err != nil {
			return Uuid{}, err
		}
		u[6] = u[6]&0x0f | 0x40 // version 4, as java.util.UUID.randomUUID
		u[8] = u[8]&0x3f | 0x80 // IETF variant
		if u != ZeroUuid && u != OneUuid && !strings.HasPrefix(u.String(), "-") {
			return u, nil
		}
	}
}

// RandomDirectoryID returns a new log directory id as Kafka's
// MetaPropertiesEnsemble does: 128 random bits, not starting with '-' in
// text, and not one of the 100 ids DirectoryId reserves.
func RandomDirectoryID(r io.Reader) (Uuid, error) {
	for {
		u, err := randomBits(r)
		if err != nil {
			return Uuid{}, err
		}
		if !IsReservedDirectoryID(u) && !strings.HasPrefix(u.String(), "-") {
			return u, nil
		}
	}
}

// IsReservedDirectoryID reports whether u is one of the first 100 ids, which
// Kafka's DirectoryId keeps for MIGRATING (0), UNASSIGNED (1), LOST (2) and
// future use; a meta.properties holding one is refused.
func IsReservedDirectoryID(u Uuid) bool {
	return binary.BigEndian.Uint64(u[:8]) == 0 && binary.BigEndian.Uint64(u[8:]) < 100
}

func randomBits(r io.Reader) (Uuid, error) {
	if r == nil {
		r = rand.Reader
	}
	var u Uuid
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return u, fmt.Errorf("reading random bytes for a uuid: %w", err)
	}
	return u, nil
}
