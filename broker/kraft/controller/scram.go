package controller

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/sasl"
)

// alterUserScram is AlterUserScramCredentials (Kafka's ScramControlManager):
// each accepted user's changes become UserScramCredentialRecords (the stored
// and server keys derived from the salted password the client sent) and
// RemoveUserScramCredentialRecords; refusals follow
// sasl.PlanScramAlterations. Below metadata.version 3.5-IV2 every user is
// refused with UNSUPPORTED_VERSION: the records do not exist there.
func (c *Controller) alterUserScram(b *batch, r *kmsg.AlterUserSCRAMCredentialsRequest) *kmsg.AlterUserSCRAMCredentialsResponse {
	resp := r.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	img := b.image()
	if img.MetadataVersion() < image.MetadataVersion35IV2 {
		seen := map[string]bool{}
		refuse := func(user string) {
			if !seen[user] {
				seen[user] = true
				res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
				res.User, res.ErrorCode = user, kerr.UnsupportedVersion.Code
				res.ErrorMessage = kmsg.StringPtr("SCRAM credentials need metadata.version 3.5-IV2 or later")
				resp.Results = append(resp.Results, res)
			}
		}
		for _, d := range r.Deletions {
			refuse(d.Name)
		}
		for _, u := range r.Upsertions {
			refuse(u.Name)
		}
		return resp
	}
	exists := func(user, mech string) bool {
		_, ok := img.ScramCredential(user, sasl.ScramMechanismType(mech))
		return ok
	}
	byUser, order, refused := sasl.PlanScramAlterations(r, exists)
	for _, user := range order {
		for _, ch := range byUser[user] {
			mech := sasl.ScramMechanismType(ch.Mechanism)
			if ch.Delete {
				b.add(&metadata.RemoveUserScramCredentialRecord{Name: user, Mechanism: mech}, 0)
				continue
			}
			cr := ch.Credential
			b.add(&metadata.UserScramCredentialRecord{Name: user, Mechanism: mech, Salt: cr.Salt,
				StoredKey: cr.StoredKey, ServerKey: cr.ServerKey, Iterations: int32(cr.Iterations)}, 0)
		}
		res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		res.User = user
		resp.Results = append(resp.Results, res)
	}
	resp.Results = append(resp.Results, refused...)
	c.log.Info("SCRAM credentials altered", "users", len(order), "refused", len(refused))
	return resp
}
