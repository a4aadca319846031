package broker

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/node"
)

// ACLs in KRaft mode: CreateAcls and DeleteAcls go to the active
// controller, which writes AccessControlEntryRecords; every broker's
// authorizer is rebuilt from its image whenever a delta changes ACLs, so
// a change returns once this broker enforces it.

// applyACLs rebuilds the authorizer from next when d changed ACLs (the
// first image's delta holds them all). Called from apply, before the new
// image is published, so waitImage sees the authorizer up to date.
func (kc *kraftCluster) applyACLs(next image.Image, d *image.Delta) {
	if kc.b.authz == nil || !d.ACLsChanged() {
		return
	}
	kc.b.authz.Replace(node.ACLBindings(next))
}

// controllerErr is the error of a controller's per-item answer.
func controllerErr(code int16, msg *string) error {
	if code == 0 {
		return nil
	}
	err := kerr.ErrorForCode(code)
	if msg != nil && *msg != "" {
		return fmt.Errorf("%w: %s", err, *msg)
	}
	return err
}

func (kc *kraftCluster) createACLs(ctx context.Context, bs []acl.Binding) []error {
	errs := make([]error, len(bs))
	req := kmsg.NewPtrCreateACLsRequest()
	req.Version = 3
	for _, b := range bs {
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName = kmsg.ACLResourceType(b.Type), b.Name
		c.ResourcePatternType = kmsg.ACLResourcePatternType(b.Pattern)
		c.Principal, c.Host = b.Principal, b.Host
		c.Operation, c.PermissionType = kmsg.ACLOperation(b.Operation), kmsg.ACLPermissionType(b.Permission)
		req.Creations = append(req.Creations, c)
	}
	raw, err := kc.controllerRequest(ctx, req)
	if err == nil && len(raw.(*kmsg.CreateACLsResponse).Results) != len(bs) {
		err = fmt.Errorf("controller answered CreateAcls with %d results for %d ACLs", len(raw.(*kmsg.CreateACLsResponse).Results), len(bs))
	}
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	var want []acl.Binding
	for i, r := range raw.(*kmsg.CreateACLsResponse).Results {
		if errs[i] = controllerErr(r.ErrorCode, r.ErrorMessage); errs[i] == nil {
			want = append(want, bs[i])
		}
	}
	err = kc.waitImage(ctx, func(im image.Image) bool {
		have := map[acl.Binding]bool{}
		for _, b := range node.ACLBindings(im) {
			have[b] = true
		}
		for _, b := range want {
			if !have[b] {
				return false
			}
		}
		return true
	})
	if err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	return errs
}

func (kc *kraftCluster) deleteACLs(ctx context.Context, fs []acl.Filter) ([][]acl.Binding, []error) {
	out, errs := make([][]acl.Binding, len(fs)), make([]error, len(fs))
	req := kmsg.NewPtrDeleteACLsRequest()
	req.Version = 3
	for _, f := range fs {
		rf := kmsg.NewDeleteACLsRequestFilter()
		rf.ResourceType, rf.ResourceName = kmsg.ACLResourceType(f.Type), f.Name
		rf.ResourcePatternType = kmsg.ACLResourcePatternType(f.Pattern)
		rf.Principal, rf.Host = f.Principal, f.Host
		rf.Operation, rf.PermissionType = kmsg.ACLOperation(f.Operation), kmsg.ACLPermissionType(f.Permission)
		req.Filters = append(req.Filters, rf)
	}
	raw, err := kc.controllerRequest(ctx, req)
	if err == nil && len(raw.(*kmsg.DeleteACLsResponse).Results) != len(fs) {
		err = fmt.Errorf("controller answered DeleteAcls with %d results for %d filters", len(raw.(*kmsg.DeleteACLsResponse).Results), len(fs))
	}
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	gone := map[acl.Binding]bool{}
	for i, r := range raw.(*kmsg.DeleteACLsResponse).Results {
		if errs[i] = controllerErr(r.ErrorCode, r.ErrorMessage); errs[i] != nil {
			continue
		}
		for _, m := range r.MatchingACLs {
			b := acl.Binding{
				Resource: acl.Resource{Type: acl.ResourceType(m.ResourceType), Name: m.ResourceName, Pattern: acl.PatternType(m.ResourcePatternType)},
				Entry: acl.Entry{Principal: m.Principal, Host: m.Host, Operation: acl.Operation(m.Operation),
					Permission: acl.Permission(m.PermissionType)},
			}
			out[i] = append(out[i], b)
			gone[b] = true
		}
	}
	err = kc.waitImage(ctx, func(im image.Image) bool {
		for _, b := range node.ACLBindings(im) {
			if gone[b] {
				return false
			}
		}
		return true
	})
	if err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	return out, errs
}
