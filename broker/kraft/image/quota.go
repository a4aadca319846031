package image

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// Client quotas as ClientQuotaRecords set them (Kafka's ClientQuotasImage):
// per entity, quota key → value.

// Quota entity types.
const (
	QuotaEntityUser     = "user"
	QuotaEntityClientID = "client-id"
	QuotaEntityIP       = "ip"
)

// QuotaName is one component of a quota entity: not part of it (!Set), the
// default entity (a null name), or a name.
type QuotaName struct {
	Set     bool
	Default bool
	Name    string
}

// QuotaEntity is what a quota is set on: a user, a client id, both, or an
// ip. Comparable.
type QuotaEntity struct {
	User, ClientID, IP QuotaName
}

// QuotaEntityOf reads a record's entity; an unknown or repeated type is an
// error.
func QuotaEntityOf(data []metadata.QuotaEntityData) (QuotaEntity, error) {
	var e QuotaEntity
	for _, d := range data {
		var dst *QuotaName
		switch d.EntityType {
		case QuotaEntityUser:
			dst = &e.User
		case QuotaEntityClientID:
			dst = &e.ClientID
		case QuotaEntityIP:
			dst = &e.IP
		default:
			return e, fmt.Errorf("unknown quota entity type %q", d.EntityType)
		}
		if dst.Set {
			return e, fmt.Errorf("quota entity type %q given twice", d.EntityType)
		}
		*dst = QuotaName{Set: true, Default: d.EntityName == nil}
		if d.EntityName != nil {
			dst.Name = *d.EntityName
		}
	}
	if !e.User.Set && !e.ClientID.Set && !e.IP.Set {
		return e, fmt.Errorf("empty quota entity")
	}
	return e, nil
}

// Data is the entity in a record's form (user, client-id, ip order).
func (e QuotaEntity) Data() []metadata.QuotaEntityData {
	var out []metadata.QuotaEntityData
	add := func(typ string, n QuotaName) {
		if !n.Set {
			return
		}
		d := metadata.QuotaEntityData{EntityType: typ}
		if !n.Default {
			name := n.Name
			d.EntityName = &name
		}
		out = append(out, d)
	}
	add(QuotaEntityUser, e.User)
	add(QuotaEntityClientID, e.ClientID)
	add(QuotaEntityIP, e.IP)
	return out
}

func (e QuotaEntity) sortKey() string {
	k := ""
	for _, d := range e.Data() {
		k += d.EntityType + "\x00"
		if d.EntityName != nil {
			k += "=" + *d.EntityName
		}
		k += "\x01"
	}
	return k
}

// ClientQuotas returns every entity's quotas. The maps are shared: do not
// modify.
func (im Image) ClientQuotas() map[QuotaEntity]map[string]float64 { return im.quotas }

// EntityQuotas returns one entity's quotas (nil: none). Shared: do not modify.
func (im Image) EntityQuotas(e QuotaEntity) map[string]float64 { return im.quotas[e] }

// replayQuota records a quota set or removed in the delta.
func (d *Delta) replayQuota(r *metadata.ClientQuotaRecord) error {
	e, err := QuotaEntityOf(r.Entity)
	if err != nil {
		return fmt.Errorf("ClientQuotaRecord: %w", err)
	}
	if d.quotas == nil {
		d.quotas = map[QuotaEntity]map[string]*float64{}
	}
	if d.quotas[e] == nil {
		d.quotas[e] = map[string]*float64{}
	}
	if r.Remove {
		d.quotas[e][r.QuotaKey] = nil
	} else {
		v := r.Value
		d.quotas[e][r.QuotaKey] = &v
	}
	return nil
}

// ClientQuotasChanged reports whether the delta set or removed a quota, or
// replaces the whole image (a snapshot), which may have dropped some.
func (d *Delta) ClientQuotasChanged() bool { return len(d.quotas) > 0 || d.prev != nil }

func (d *Delta) applyQuotas() map[QuotaEntity]map[string]float64 {
	out := maps.Clone(d.base.quotas)
	if out == nil {
		out = map[QuotaEntity]map[string]float64{}
	}
	for e, changes := range d.quotas {
		values := maps.Clone(out[e])
		if values == nil {
			values = map[string]float64{}
		}
		for k, v := range changes {
			if v == nil {
				delete(values, k)
			} else {
				values[k] = *v
			}
		}
		if len(values) == 0 {
			delete(out, e)
		} else {
			out[e] = values
		}
	}
	return nilIfEmpty(out)
}

// quotaRecords writes the quotas as ClientQuotaRecords, sorted by entity and key.
func (im Image) quotaRecords() []VersionedRecord {
	entities := slices.Collect(maps.Keys(im.quotas))
	slices.SortFunc(entities, func(a, b QuotaEntity) int { return cmp.Compare(a.sortKey(), b.sortKey()) })
	var out []VersionedRecord
	for _, e := range entities {
		for _, k := range slices.Sorted(maps.Keys(im.quotas[e])) {
			out = append(out, VersionedRecord{Record: &metadata.ClientQuotaRecord{Entity: e.Data(), QuotaKey: k, Value: im.quotas[e][k]}})
		}
	}
	return out
}
