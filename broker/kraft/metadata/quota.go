package metadata

import "github.com/twmb/franz-go/pkg/kbin"

// KeyClientQuota is the api key of ClientQuotaRecord.
const KeyClientQuota APIKey = 14

// QuotaEntityData is one component of a quota entity: its type (user,
// client-id, ip) and name, nil for the default entity.
type QuotaEntityData struct {
	EntityType  string  // EntityType
	EntityName  *string // EntityName: null = the default entity
	UnknownTags []Tag
}

// ClientQuotaRecord (api key 14, v0) sets (or, with Remove, removes) one
// quota key of one entity.
type ClientQuotaRecord struct {
	Entity      []QuotaEntityData // Entity
	QuotaKey    string            // Key: the quota configuration key (named so beside the Key method)
	Value       float64           // Value: ignored when Remove
	Remove      bool              // Remove
	UnknownTags []Tag
}

func (*ClientQuotaRecord) Key() APIKey       { return KeyClientQuota }
func (*ClientQuotaRecord) MaxVersion() int16 { return 0 }
func (*ClientQuotaRecord) name() string      { return "ClientQuotaRecord" }

func (r *ClientQuotaRecord) appendBody(e *encoder) {
	e.arrayLen(len(r.Entity), false)
	for _, ed := range r.Entity {
		e.string(ed.EntityType)
		e.nullableString(ed.EntityName)
		e.tags(nil, ed.UnknownTags)
	}
	e.string(r.QuotaKey)
	e.b = kbin.AppendFloat64(e.b, r.Value)
	e.bool(r.Remove)
	e.tags(nil, r.UnknownTags)
}

func (r *ClientQuotaRecord) readBody(d *decoder) {
	*r = ClientQuotaRecord{}
	// type (1 byte at least), name (1), tag count (1)
	if n := d.arrayLen("entity", false, 3); n > 0 {
		r.Entity = make([]QuotaEntityData, n)
		for i := range r.Entity {
			ed := &r.Entity[i]
			ed.EntityType = d.string("entityType")
			ed.EntityName = d.nullableString()
			ed.UnknownTags = d.tags(nil)
		}
	}
	r.QuotaKey = d.string("key")
	r.Value = d.r.Float64()
	r.Remove = d.bool()
	r.UnknownTags = d.tags(nil)
}
