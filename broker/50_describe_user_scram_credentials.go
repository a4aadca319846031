package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/acl"
	"github.com/osprey-kafka/osprey/broker/sasl"
)

// DescribeUserScramCredentials: v0
//
// Behavior:
// * Lists users' SCRAM mechanisms and iteration counts, never salts or
//   keys: all users with a credential (sorted) when none are named.
// * Kafka's refusals per user: RESOURCE_NOT_FOUND for a user without a
//   credential or an empty name, DUPLICATE_RESOURCE for a name given twice
//   (answered once).
// * Needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED otherwise).
// * ZooKeeper mode reads /config/users as Kafka's ZkAdminManager does; KRaft
//   mode answers from this broker's metadata image; a single broker from
//   its own store.
//
// Version notes:
// * v0 is the only version (flexible).

func init() { regKey(50, 0, 0, handleDescribeUserScramCredentials) }

func handleDescribeUserScramCredentials(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if code := r.authzClusterErr(acl.OpDescribe); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	store, ok := b.view().(scramStore)
	if !ok {
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		return resp, nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	var failed error
	sasl.DescribeScram(req, resp, func(names []string) map[string][]sasl.ScramInfo {
		users, err := store.scramUsers(ctx, names)
		failed = err
		return users
	})
	if failed != nil {
		r.c.log.Warn("DescribeUserScramCredentials", "err", failed)
		resp.Results = nil
		resp.ErrorCode = kerr.UnknownServerError.Code
		resp.ErrorMessage = kmsg.StringPtr("Error processing describe user SCRAM credential configs request")
	}
	return resp, nil
}
