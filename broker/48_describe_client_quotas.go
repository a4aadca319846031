package broker

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/acl"
)

// DescribeClientQuotas: v0-1
//
// Behavior:
// * Filter components by entity type (user, client-id, ip) with match
//   type EXACT (a name), DEFAULT (the <default> entity) or ANY (any name
//   or the default). Without strict an entity matches when it has every
//   component asked for; with strict it must have no other component.
//   Only entities with at least one quota key are listed, with the quota
//   keys of their kind (user/client-id keys, or connection_creation_rate
//   for ip).
// * Refused with INVALID_REQUEST, as Kafka does: a type given twice
//   ("Duplicate user filter component entity type"), an empty type, ip
//   together with user or client-id, EXACT without a name, an unknown
//   match type; another entity type gets UNSUPPORTED_VERSION ("Custom
//   entity type '…' not supported").
// * Needs DESCRIBE_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED).
// * Read from where quotas are stored: ZooKeeper's /config/users,
//   /config/clients and /config/ips in ZooKeeper mode, the metadata image
//   in KRaft mode, memory for a single broker without a metadata store.
//
// Version notes:
// * v1: flexible.

func init() { regKey(48, 0, 1, handleDescribeClientQuotas) }

// Match types of a filter component.
const (
	quotaMatchExact   = 0
	quotaMatchDefault = 1
	quotaMatchAny     = 2
)

// quotaFilterComponent is one parsed filter component: absent (not set),
// or a match (any, default, or the exact name).
type quotaFilterComponent struct {
	set   bool
	any   bool
	match quotaName // when !any
}

func handleDescribeClientQuotas(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeClientQuotasRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClientQuotasResponse)
	if code := r.authzClusterErr(acl.OpDescribeConfigs); code != 0 {
		resp.ErrorCode, resp.ErrorMessage = code, kmsg.StringPtr("Cluster authorization failed.")
		return resp, nil
	}
	user, client, ip, aerr := parseQuotaFilter(req.Components)
	if aerr == nil {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer cancel()
		table, err := b.clientQuotaStore().clientQuotaTable(ctx)
		if err != nil {
			aerr = &apiError{errUnknown, err.Error()}
		} else {
			resp.Entries = describeQuotaEntries(table, user, client, ip, req.Strict)
		}
	}
	if aerr != nil {
		resp.ErrorCode, resp.ErrorMessage = aerr.result()
		resp.Entries = nil
	}
	return resp, nil
}

// parseQuotaFilter checks the filter components as Kafka's
// describeClientQuotas does.
func parseQuotaFilter(comps []kmsg.DescribeClientQuotasRequestComponent) (user, client, ip quotaFilterComponent, aerr *apiError) {
	for _, c := range comps {
		var dst *quotaFilterComponent
		switch c.EntityType {
		case entityUser:
			dst = &user
		case entityClientID:
			dst = &client
		case entityIP:
			dst = &ip
		case "":
			return user, client, ip, &apiError{errInvalidRequest, "Unexpected empty filter component entity type"}
		default:
			return user, client, ip, &apiError{errUnsupportedVersion, fmt.Sprintf("Custom entity type '%s' not supported", c.EntityType)}
		}
		if dst.set {
			typ := c.EntityType
			if typ == entityClientID {
				typ = "client"
			}
			return user, client, ip, &apiError{errInvalidRequest, fmt.Sprintf("Duplicate %s filter component entity type", typ)}
		}
		dst.set = true
		switch c.MatchType {
		case quotaMatchExact:
			if c.Match == nil {
				return user, client, ip, &apiError{errInvalidRequest, "Missing match for EXACT filter component of entity type " + c.EntityType}
			}
			dst.match = namedQuota(*c.Match)
		case quotaMatchDefault:
			dst.match = defaultQuota
		case quotaMatchAny:
			dst.any = true
		default:
			return user, client, ip, &apiError{errInvalidRequest, fmt.Sprintf("Unexpected match type: %d", c.MatchType)}
		}
	}
	if (user.set || client.set) && ip.set {
		return user, client, ip, &apiError{errInvalidRequest, "Invalid entity filter component combination, IP filter component should not be used with user or clientId filter component."}
	}
	return user, client, ip, nil
}

// matches reports whether an entity's component n passes filter component
// f (Kafka's matches: an absent component passes entities without it, and
// any entity when not strict).
func (f quotaFilterComponent) matches(n quotaName, strict bool) bool {
	switch {
	case !f.set:
		return !n.set || !strict
	case f.any:
		return n.set
	default:
		return n == f.match
	}
}

// describeQuotaEntries lists the entities of table that pass the filter,
// with their quota keys, sorted for a stable answer.
func describeQuotaEntries(table quotaTable, user, client, ip quotaFilterComponent, strict bool) []kmsg.DescribeClientQuotasResponseEntry {
	var out []kmsg.DescribeClientQuotasResponseEntry
	for e, values := range table {
		keys := userClientQuotaKeys
		if e.ip.set {
			// ip entities are listed only when neither user nor client-id
			// is asked for.
			if user.set || client.set || !ip.matches(e.ip, strict) {
				continue
			}
			keys = ipQuotaKeys
		} else if ip.set || !user.matches(e.user, strict) || !client.matches(e.client, strict) {
			continue
		}
		entry := kmsg.NewDescribeClientQuotasResponseEntry()
		entry.Entity = quotaEntityData(e)
		for _, k := range sortedKeys(values) {
			if _, ok := keys[k]; !ok {
				continue
			}
			v := kmsg.NewDescribeClientQuotasResponseEntryValue()
			v.Key, v.Value = k, values[k]
			entry.Values = append(entry.Values, v)
		}
		if len(entry.Values) > 0 {
			out = append(out, entry)
		}
	}
	sort.Slice(out, func(i, j int) bool { return entityDataKey(out[i].Entity) < entityDataKey(out[j].Entity) })
	return out
}

// quotaEntityData is the entity in the response's form.
func quotaEntityData(e quotaEntity) []kmsg.DescribeClientQuotasResponseEntryEntity {
	var out []kmsg.DescribeClientQuotasResponseEntryEntity
	add := func(typ string, n quotaName) {
		if !n.set {
			return
		}
		d := kmsg.NewDescribeClientQuotasResponseEntryEntity()
		d.Type = typ
		if !n.def {
			d.Name = kmsg.StringPtr(n.name)
		}
		out = append(out, d)
	}
	add(entityUser, e.user)
	add(entityClientID, e.client)
	add(entityIP, e.ip)
	return out
}

func entityDataKey(es []kmsg.DescribeClientQuotasResponseEntryEntity) string {
	var s string
	for _, e := range es {
		s += e.Type + "\x00"
		if e.Name != nil {
			s += "=" + *e.Name
		}
		s += "\x01"
	}
	return s
}
