package broker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/acl"
)

// AlterClientQuotas: v0-1
//
// Behavior:
// * Each entry sets (value) or removes (remove=true) quota keys of one
//   entity; entries succeed or fail on their own, each with its error.
// * ZooKeeper mode and a single broker, as Kafka's ZkAdminManager:
//   entity types user, client-id and ip (a null name is the default
//   entity); allowed are user, client-id, user+client-id, or ip alone.
//   Refused with INVALID_REQUEST: no entity ("Invalid empty client quota
//   entity"), another type ("Unhandled client quota entity type: …"), an
//   empty name ("Empty user not supported"), ip with user or client-id, an
//   ip that is neither an address nor resolvable, a key the entity kind
//   does not have ("Invalid configuration key …"), a fraction for a LONG
//   or INT key ("Configuration producer_byte_rate must be a LONG value").
//   Removing a key is never refused. Written to /config/users/<user>,
//   /config/users/<user>/clients/<client-id>, /config/clients/<client-id>,
//   /config/ips/<ip> (names URL-encoded as Kafka's Sanitizer does,
//   <default> for the default) by read-modify-write of the whole config,
//   so SCRAM credentials in the same node stay, then a /config/changes
//   notification that brings it to every broker.
// * KRaft mode: forwarded to the active controller, which validates as
//   Kafka's ClientQuotaControlManager and writes ClientQuotaRecords;
//   brokers apply them from the metadata image.
// * validate_only: checked, nothing written.
// * Needs ALTER_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED for
//   every entry, nothing written).
//
// Version notes:
// * v1: flexible.

func init() { regKey(49, 0, 1, handleAlterClientQuotas) }

// quotaOp sets key to value, or removes it.
type quotaOp struct {
	key    string
	value  float64
	remove bool
}

// quotaAlteration is one validated entry of AlterClientQuotas.
type quotaAlteration struct {
	entity quotaEntity
	ops    []quotaOp
}

// quotaForwarder is a Cluster that hands AlterClientQuotas to a controller
// (KRaft mode).
type quotaForwarder interface {
	forwardAlterClientQuotas(ctx context.Context, req *kmsg.AlterClientQuotasRequest) (*kmsg.AlterClientQuotasResponse, error)
}

func handleAlterClientQuotas(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.AlterClientQuotasRequest)
	if code := r.authzClusterErr(acl.OpAlterConfigs); code != 0 {
		resp := req.ResponseKind().(*kmsg.AlterClientQuotasResponse)
		for _, e := range req.Entries {
			resp.Entries = append(resp.Entries, alterQuotaResult(e.Entity, &apiError{code, "Cluster authorization failed."}))
		}
		return resp, nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if fw, ok := b.cluster.(quotaForwarder); ok {
		resp, err := fw.forwardAlterClientQuotas(ctx, req)
		if err != nil {
			resp = req.ResponseKind().(*kmsg.AlterClientQuotasResponse)
			code := errUnknown
			if errors.Is(err, context.DeadlineExceeded) {
				code = errRequestTimedOut
			}
			for _, e := range req.Entries {
				resp.Entries = append(resp.Entries, alterQuotaResult(e.Entity, &apiError{code, err.Error()}))
			}
		}
		return resp, nil
	}
	resp := req.ResponseKind().(*kmsg.AlterClientQuotasResponse)
	store := b.clientQuotaStore()
	changed := false
	for _, e := range req.Entries {
		alt, aerr := parseQuotaAlteration(e)
		if aerr == nil && !req.ValidateOnly {
			if err := store.alterClientQuota(ctx, alt); err != nil {
				aerr = &apiError{errUnknown, err.Error()}
			} else {
				changed = true
				b.log.Info("altered client quotas", "entity", alt.entity.String())
			}
		}
		resp.Entries = append(resp.Entries, alterQuotaResult(e.Entity, aerr))
	}
	if changed {
		// The change notification brings it to every broker; this one
		// applies it now so that a describe or a request right after sees it.
		if t, err := store.clientQuotaTable(ctx); err == nil {
			b.quotas.set(t)
		}
	}
	return resp, nil
}

func alterQuotaResult(entity []kmsg.AlterClientQuotasRequestEntryEntity, aerr *apiError) kmsg.AlterClientQuotasResponseEntry {
	res := kmsg.NewAlterClientQuotasResponseEntry()
	for _, d := range entity {
		rd := kmsg.NewAlterClientQuotasResponseEntryEntity()
		rd.Type, rd.Name = d.Type, d.Name
		res.Entity = append(res.Entity, rd)
	}
	res.ErrorCode, res.ErrorMessage = aerr.result()
	return res
}

// parseQuotaAlteration validates an entry as Kafka's ZooKeeper-mode
// ZkAdminManager.alterClientQuotas does (a type given twice: the last
// one counts, as Kafka's request-to-map conversion has it).
func parseQuotaAlteration(e kmsg.AlterClientQuotasRequestEntry) (quotaAlteration, *apiError) {
	var alt quotaAlteration
	if len(e.Entity) == 0 {
		return alt, &apiError{errInvalidRequest, "Invalid empty client quota entity"}
	}
	for _, d := range e.Entity {
		n := defaultQuota
		if d.Name != nil {
			n = namedQuota(*d.Name)
		}
		switch d.Type {
		case entityUser:
			alt.entity.user = n
		case entityClientID:
			alt.entity.client = n
		case entityIP:
			alt.entity.ip = n
		default:
			return alt, &apiError{errInvalidRequest, "Unhandled client quota entity type: " + d.Type}
		}
		if d.Name != nil && *d.Name == "" {
			return alt, &apiError{errInvalidRequest, fmt.Sprintf("Empty %s not supported", d.Type)}
		}
	}
	keys := userClientQuotaKeys
	if alt.entity.ip.set {
		if alt.entity.user.set || alt.entity.client.set {
			return alt, &apiError{errInvalidRequest, "Invalid quota entity combination, IP entity should not be used with user/client ID entity."}
		}
		if !alt.entity.ip.def && !validIPEntity(alt.entity.ip.name) {
			return alt, &apiError{errInvalidRequest, alt.entity.ip.name + " is not a valid IP or resolvable host."}
		}
		keys = ipQuotaKeys
	}
	for _, op := range e.Ops {
		if op.Remove {
			alt.ops = append(alt.ops, quotaOp{key: op.Key, remove: true})
			continue
		}
		kind, ok := keys[op.Key]
		if !ok {
			return alt, &apiError{errInvalidRequest, "Invalid configuration key " + op.Key}
		}
		v := op.Value
		if kind != quotaDouble {
			// Kafka rounds with an epsilon and refuses what is not integral.
			const epsilon = 1e-6
			n := math.Trunc(v + epsilon)
			if kind == quotaInt {
				n = float64(int32(max(min(n, math.MaxInt32), math.MinInt32)))
			}
			if math.Abs(n-v) > epsilon {
				typ := "LONG"
				if kind == quotaInt {
					typ = "INT"
				}
				return alt, &apiError{errInvalidRequest, fmt.Sprintf("Configuration %s must be a %s value", op.Key, typ)}
			}
			v = n
		}
		alt.ops = append(alt.ops, quotaOp{key: op.Key, value: v})
	}
	return alt, nil
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
