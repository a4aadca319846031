package controller

import (
	"context"
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// Client quotas in KRaft mode (Kafka's ClientQuotaControlManager): each
// change of one entity's quota key is one ClientQuotaRecord; brokers
// enforce what their image holds. Each entry is validated and answered on
// its own; an entry refused writes nothing.

// quotaKeyKind is a quota key's type: what values it takes.
type quotaKeyKind uint8

const (
	quotaLong quotaKeyKind = iota
	quotaInt
	quotaDouble
)

// Kafka's QuotaConfig keys: user and client-id entities, and ip entities.
var (
	userClientQuotaKeys = map[string]quotaKeyKind{
		"producer_byte_rate": quotaLong, "consumer_byte_rate": quotaLong,
		"request_percentage": quotaDouble, "controller_mutation_rate": quotaDouble,
	}
	ipQuotaKeys = map[string]quotaKeyKind{"connection_creation_rate": quotaInt}
)

// alterClientQuotas is AlterClientQuotas: records for the entries that pass
// Kafka's checks (none with validate_only), an error for the others.
func (c *Controller) alterClientQuotas(b *batch, r *kmsg.AlterClientQuotasRequest) *kmsg.AlterClientQuotasResponse {
	resp := r.ResponseKind().(*kmsg.AlterClientQuotasResponse)
	for _, e := range r.Entries {
		res := kmsg.NewAlterClientQuotasResponseEntry()
		for _, d := range e.Entity {
			rd := kmsg.NewAlterClientQuotasResponseEntryEntity()
			rd.Type, rd.Name = d.Type, d.Name
			res.Entity = append(res.Entity, rd)
		}
		recs, msg := quotaRecordsFor(b.image(), e)
		if msg != "" {
			res.ErrorCode, res.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(msg)
		} else if !r.ValidateOnly {
			for _, rec := range recs {
				b.add(rec, 0)
			}
		}
		resp.Entries = append(resp.Entries, res)
	}
	return resp
}

// quotaRecordsFor validates one entry against img and returns its records,
// or Kafka's refusal message.
func quotaRecordsFor(img image.Image, e kmsg.AlterClientQuotasRequestEntry) ([]*metadata.ClientQuotaRecord, string) {
	seen := map[string]bool{}
	for _, op := range e.Ops {
		if seen[op.Key] {
			return nil, fmt.Sprintf("Duplicate quota key %s not updating quota for this entity %s", op.Key, entityString(e.Entity))
		}
		seen[op.Key] = true
	}
	if len(e.Entity) == 0 {
		return nil, "Invalid empty client quota entity"
	}
	types := map[string]bool{}
	var data []metadata.QuotaEntityData
	for _, d := range e.Entity {
		if types[d.Type] {
			return nil, "Invalid client quota entity, duplicate entity entry " + d.Type
		}
		types[d.Type] = true
		switch d.Type {
		case image.QuotaEntityUser, image.QuotaEntityClientID, image.QuotaEntityIP:
		default:
			return nil, "Unhandled client quota entity type: " + d.Type
		}
		if d.Name != nil && *d.Name == "" {
			return nil, "Empty " + d.Type + " not supported"
		}
		data = append(data, metadata.QuotaEntityData{EntityType: d.Type, EntityName: d.Name})
	}
	keys := userClientQuotaKeys
	if types[image.QuotaEntityIP] {
		if types[image.QuotaEntityUser] || types[image.QuotaEntityClientID] {
			// Kafka's message, missing space included.
			return nil, "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId"
		}
		for _, d := range e.Entity {
			if d.Name != nil && !validIPEntity(*d.Name) {
				return nil, *d.Name + " is not a valid IP or resolvable host."
			}
		}
		keys = ipQuotaKeys
	}
	entity, err := image.QuotaEntityOf(data)
	if err != nil {
		return nil, err.Error()
	}
	cur := img.EntityQuotas(entity)
	var recs []*metadata.ClientQuotaRecord
	for _, op := range e.Ops {
		if op.Remove {
			if _, ok := cur[op.Key]; ok {
				recs = append(recs, &metadata.ClientQuotaRecord{Entity: entity.Data(), QuotaKey: op.Key, Remove: true})
			}
			continue
		}
		if msg := validateQuotaValue(keys, op.Key, op.Value); msg != "" {
			return nil, msg
		}
		if v, ok := cur[op.Key]; !ok || v != op.Value {
			recs = append(recs, &metadata.ClientQuotaRecord{Entity: entity.Data(), QuotaKey: op.Key, Value: op.Value})
		}
	}
	return recs, ""
}

// validateQuotaValue is Kafka's validateQuotaKeyValue.
func validateQuotaValue(keys map[string]quotaKeyKind, key string, v float64) string {
	kind, ok := keys[key]
	switch {
	case !ok:
		return "Invalid configuration key " + key
	case v <= 0:
		return "Quota " + key + " must be greater than 0"
	case kind == quotaDouble:
		return ""
	case kind == quotaInt && v > math.MaxInt32:
		return "Proposed value for " + key + " is too large for an INT."
	case kind == quotaLong && v > math.MaxInt64:
		return "Proposed value for " + key + " is too large for a LONG."
	case math.Abs(math.Mod(v, 1)) > 1e-6:
		return key + " cannot be a fractional value."
	}
	return ""
}

// entityString prints an entity as Kafka's ClientQuotaEntity.toString.
func entityString(es []kmsg.AlterClientQuotasRequestEntryEntity) string {
	parts := make([]string, 0, len(es))
	for _, e := range es {
		n := "null"
		if e.Name != nil {
			n = *e.Name
		}
		parts = append(parts, e.Type+"="+n)
	}
	return "ClientQuotaEntity(entries={" + strings.Join(parts, ", ") + "})"
}

// validIPEntity is Kafka's isValidIpEntity: an address, or a name that
// resolves.
func validIPEntity(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, s)
	return err == nil && len(addrs) > 0
}
