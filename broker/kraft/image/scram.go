package image

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// MetadataVersion35IV2 (3.5-IV2) is the first metadata.version with SCRAM
// credential records (KIP-554 in KRaft, Kafka's isScramSupported).
const MetadataVersion35IV2 int16 = 11

// ScramCredential is one user's credential for one SCRAM mechanism, as a
// UserScramCredentialRecord sets it. The slices are shared: do not modify.
type ScramCredential struct {
	User       string
	Mechanism  int8 // 1 SCRAM-SHA-256, 2 SCRAM-SHA-512
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
	Iterations int32
}

type scramKey struct {
	user      string
	mechanism int8
}

// ScramCredential returns user's credential for a mechanism (by its number).
func (im Image) ScramCredential(user string, mechanism int8) (ScramCredential, bool) {
	c, ok := im.scram[scramKey{user, mechanism}]
	if !ok {
		return ScramCredential{}, false
	}
	return *c, true
}

// ScramCredentials lists every SCRAM credential, by user then mechanism.
func (im Image) ScramCredentials() []ScramCredential {
	out := make([]ScramCredential, 0, len(im.scram))
	for _, c := range im.scram {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b ScramCredential) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.Mechanism, b.Mechanism))
	})
	return out
}

// replayScram records a credential set or removed in the delta. As in
// Kafka's ScramDelta, removing a credential that is not there is not an
// error.
func (d *Delta) replayScram(rec metadata.Record) {
	if d.scram == nil {
		d.scram = map[scramKey]*ScramCredential{}
	}
	switch r := rec.(type) {
	case *metadata.UserScramCredentialRecord:
		d.scram[scramKey{r.Name, r.Mechanism}] = &ScramCredential{User: r.Name, Mechanism: r.Mechanism,
			Salt: r.Salt, StoredKey: r.StoredKey, ServerKey: r.ServerKey, Iterations: r.Iterations}
	case *metadata.RemoveUserScramCredentialRecord:
		d.scram[scramKey{r.Name, r.Mechanism}] = nil
	}
}

// ScramChanged reports whether the delta set or removed a SCRAM credential.
func (d *Delta) ScramChanged() bool { return len(d.scram) > 0 }

func (d *Delta) applyScram() map[scramKey]*ScramCredential {
	out := maps.Clone(d.base.scram)
	if out == nil {
		out = map[scramKey]*ScramCredential{}
	}
	for k, c := range d.scram {
		if c == nil {
			delete(out, k)
		} else {
			out[k] = c
		}
	}
	return nilIfEmpty(out)
}

func scramEqual(a, b *ScramCredential) bool {
	return a.User == b.User && a.Mechanism == b.Mechanism && a.Iterations == b.Iterations &&
		bytes.Equal(a.Salt, b.Salt) && bytes.Equal(a.StoredKey, b.StoredKey) && bytes.Equal(a.ServerKey, b.ServerKey)
}

// scramRecords writes the credentials as UserScramCredentialRecords; they
// need metadata.version 3.5-IV2.
func (im Image) scramRecords(mv int16) ([]VersionedRecord, error) {
	if len(im.scram) == 0 {
		return nil, nil
	}
	if mv < MetadataVersion35IV2 {
		return nil, fmt.Errorf("%w: SCRAM credentials need metadata.version 3.5-IV2 (%d), have %d", ErrUnwritable, MetadataVersion35IV2, mv)
	}
	var out []VersionedRecord
	for _, c := range im.ScramCredentials() {
		out = append(out, VersionedRecord{Record: &metadata.UserScramCredentialRecord{Name: c.User, Mechanism: c.Mechanism,
			Salt: c.Salt, StoredKey: c.StoredKey, ServerKey: c.ServerKey, Iterations: c.Iterations}})
	}
	return out, nil
}
