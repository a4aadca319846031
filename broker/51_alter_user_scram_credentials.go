package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/acl"
)

// AlterUserScramCredentials: v0
//
// Behavior:
// * Upsertions carry the client's salt and salted password; the broker
//   keeps only the stored and server keys derived from them. Deletions
//   remove one mechanism's credential.
// * Kafka's refusals per user (sasl.PlanScramAlterations): empty name or
//   iterations outside 4096-16384 UNACCEPTABLE_CREDENTIAL, unknown mechanism
//   UNSUPPORTED_SASL_MECHANISM, the same user and mechanism twice
//   DUPLICATE_RESOURCE, deleting a missing credential RESOURCE_NOT_FOUND;
//   a refused user's other alterations are not made.
// * Needs ALTER on the cluster (CLUSTER_AUTHORIZATION_FAILED for every user).
// * ZooKeeper mode writes /config/users/<user> and a /config/changes
//   notification; KRaft mode forwards the request to the active controller,
//   which writes the user SCRAM credential records, and answers once this
//   broker's image has them.
//
// Version notes:
// * v0 is the only version (flexible).

func init() { regKey(51, 0, 0, handleAlterUserScramCredentials) }

func handleAlterUserScramCredentials(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	failAll := func(code int16, msg string) (kmsg.Response, error) {
		seen := map[string]bool{}
		add := func(user string) {
			if !seen[user] {
				seen[user] = true
				res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
				res.User, res.ErrorCode, res.ErrorMessage = user, code, kmsg.StringPtr(msg)
				resp.Results = append(resp.Results, res)
			}
		}
		for _, d := range req.Deletions {
			add(d.Name)
		}
		for _, u := range req.Upsertions {
			add(u.Name)
		}
		return resp, nil
	}
	if code := r.authzClusterErr(acl.OpAlter); code != 0 {
		return failAll(code, "Cluster authorization failed.")
	}
	store, ok := b.view().(scramStore)
	if !ok {
		return failAll(kerr.UnsupportedVersion.Code, "this broker keeps no SCRAM credentials")
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	results, err := store.alterScram(ctx, req)
	if err != nil {
		r.c.log.Warn("AlterUserScramCredentials", "err", err)
		return failAll(kerr.UnknownServerError.Code, "altering SCRAM credentials failed")
	}
	resp.Results = results
	return resp, nil
}
