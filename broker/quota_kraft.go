package broker

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// Client quotas in KRaft mode: the active controller validates
// AlterClientQuotas and writes ClientQuotaRecords; every broker describes
// and enforces what its metadata image holds.

func quotaNameOf(n image.QuotaName) quotaName {
	return quotaName{set: n.Set, def: n.Default, name: n.Name}
}

// quotaTableOf is the image's quotas as the broker's quota table.
func quotaTableOf(im image.Image) quotaTable {
	t := quotaTable{}
	for e, values := range im.ClientQuotas() {
		t[quotaEntity{user: quotaNameOf(e.User), client: quotaNameOf(e.ClientID), ip: quotaNameOf(e.IP)}] = values
	}
	return t
}

// applyClientQuotas installs the image's quotas when the delta changed them.
func (kc *kraftCluster) applyClientQuotas(next image.Image, d *image.Delta) {
	if d.ClientQuotasChanged() {
		kc.b.quotas.set(quotaTableOf(next))
	}
}

func (kc *kraftCluster) clientQuotaTable(context.Context) (quotaTable, error) {
	im, _ := kc.image()
	return quotaTableOf(im), nil
}

// alterClientQuota is never called in KRaft mode: AlterClientQuotas is
// forwarded whole (forwardAlterClientQuotas).
func (kc *kraftCluster) alterClientQuota(context.Context, quotaAlteration) error {
	return errors.New("client quotas are altered through the KRaft controller")
}

// forwardAlterClientQuotas hands the request to the active controller, as a
// Kafka broker forwards it, and waits until this broker's image shows the
// accepted entries, so that a describe here right after sees them.
func (kc *kraftCluster) forwardAlterClientQuotas(ctx context.Context, req *kmsg.AlterClientQuotasRequest) (*kmsg.AlterClientQuotasResponse, error) {
	fwd := *req
	fwd.Version = 0
	raw, err := kc.controllerRequest(ctx, &fwd)
	if err != nil {
		return nil, err
	}
	resp := raw.(*kmsg.AlterClientQuotasResponse)
	resp.Version = req.Version
	if req.ValidateOnly {
		return resp, nil
	}
	var accepted []kmsg.AlterClientQuotasRequestEntry
	for i, e := range req.Entries {
		if i < len(resp.Entries) && resp.Entries[i].ErrorCode == 0 {
			accepted = append(accepted, e)
		}
	}
	seen := func(im image.Image) bool {
		for _, e := range accepted {
			var data []metadata.QuotaEntityData
			for _, d := range e.Entity {
				data = append(data, metadata.QuotaEntityData{EntityType: d.Type, EntityName: d.Name})
			}
			entity, err := image.QuotaEntityOf(data)
			if err != nil {
				continue
			}
			values := im.EntityQuotas(entity)
			for _, op := range e.Ops {
				v, ok := values[op.Key]
				if op.Remove == ok || (!op.Remove && v != op.Value) {
					return false
				}
			}
		}
		return true
	}
	if err := kc.waitImage(ctx, seen); err != nil {
		kc.log.Warn("client quota change committed but not yet in this broker's image", "err", err)
	}
	return resp, nil
}
