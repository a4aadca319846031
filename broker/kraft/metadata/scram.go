package metadata

import "github.com/twmb/franz-go/pkg/kbin"

// The SCRAM credential record types (KIP-554), with Kafka's api keys.
const (
	KeyUserScramCredential       APIKey = 11
	KeyRemoveUserScramCredential APIKey = 22
)

// UserScramCredentialRecord (api key 11, v0) sets one user's credential for
// one SCRAM mechanism (KIP-554). The server keys, not the salted password,
// are stored.
type UserScramCredentialRecord struct {
	Name        string // Name: the user name
	Mechanism   int8   // Mechanism: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512
	Salt        []byte // Salt: the client's random salt
	StoredKey   []byte // StoredKey
	ServerKey   []byte // ServerKey
	Iterations  int32  // Iterations
	UnknownTags []Tag
}

func (*UserScramCredentialRecord) Key() APIKey       { return KeyUserScramCredential }
func (*UserScramCredentialRecord) MaxVersion() int16 { return 0 }
func (*UserScramCredentialRecord) name() string      { return "UserScramCredentialRecord" }

func (r *UserScramCredentialRecord) appendBody(e *encoder) {
	e.string(r.Name)
	e.int8(r.Mechanism)
	e.bytes(r.Salt)
	e.bytes(r.StoredKey)
	e.bytes(r.ServerKey)
	e.int32(r.Iterations)
	e.tags(nil, r.UnknownTags)
}

func (r *UserScramCredentialRecord) readBody(d *decoder) {
	*r = UserScramCredentialRecord{}
	r.Name = d.string("name")
	r.Mechanism = d.int8()
	r.Salt = d.bytes("salt")
	r.StoredKey = d.bytes("storedKey")
	r.ServerKey = d.bytes("serverKey")
	r.Iterations = d.int32()
	r.UnknownTags = d.tags(nil)
}

// RemoveUserScramCredentialRecord (api key 22, v0) removes one user's
// credential for one SCRAM mechanism.
type RemoveUserScramCredentialRecord struct {
	Name        string // Name: the user name
	Mechanism   int8   // Mechanism
	UnknownTags []Tag
}

func (*RemoveUserScramCredentialRecord) Key() APIKey       { return KeyRemoveUserScramCredential }
func (*RemoveUserScramCredentialRecord) MaxVersion() int16 { return 0 }
func (*RemoveUserScramCredentialRecord) name() string      { return "RemoveUserScramCredentialRecord" }

func (r *RemoveUserScramCredentialRecord) appendBody(e *encoder) {
	e.string(r.Name)
	e.int8(r.Mechanism)
	e.tags(nil, r.UnknownTags)
}

func (r *RemoveUserScramCredentialRecord) readBody(d *decoder) {
	*r = RemoveUserScramCredentialRecord{}
	r.Name = d.string("name")
	r.Mechanism = d.int8()
	r.UnknownTags = d.tags(nil)
}

// bytes writes a compact (flexible-version) non-nullable byte array.
func (e *encoder) bytes(v []byte) { e.b = kbin.AppendCompactBytes(e.b, v) }

// bytes reads a compact non-nullable byte array into a copy.
func (d *decoder) bytes(field string) []byte {
	b := d.r.CompactNullableBytes()
	if b == nil {
		if d.r.Ok() {
			d.failf("non-nullable field %s was serialized as null", field)
		}
		return nil
	}
	return append([]byte{}, b...)
}
