package node

import (
	"context"
	"errors"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/quorum/raftnet"
)

// controllerAPIs are the controller APIs the CONTROLLER listener serves (StateMachine.Handle's
// requests), each up to the highest version kmsg knows.
var controllerAPIs = func() map[int16]int16 {
	keys := []kmsg.Key{
		kmsg.CreateTopics, kmsg.DeleteTopics, kmsg.AlterConfigs, kmsg.CreatePartitions,
		kmsg.ElectLeaders, kmsg.IncrementalAlterConfigs, kmsg.AlterPartitionAssignments,
		kmsg.ListPartitionReassignments, kmsg.AlterPartition, kmsg.DescribeCluster, kmsg.BrokerRegistration, kmsg.BrokerHeartbeat, kmsg.UnregisterBroker,
		kmsg.AllocateProducerIDs, kmsg.ControllerRegistration,
		kmsg.AlterUserSCRAMCredentials, kmsg.CreateACLs, kmsg.DeleteACLs, kmsg.AlterClientQuotas,
	}
	m := make(map[int16]int16, len(keys))
	for _, k := range keys {
		m[k.Int16()] = kmsg.RequestForKey(k.Int16()).MaxVersion()
	}
	return m
}()

// apiVersionsMax is the highest ApiVersions version served, as on the broker's listener.
const apiVersionsMax = 4

// supportedAPIs is the ApiVersions list of the CONTROLLER listener: the quorum's keys, the
// controller APIs and ApiVersions itself, by key.
func supportedAPIs() []kmsg.ApiVersionsResponseApiKey {
	out := raftnet.ServedAPIs()
	for k, max := range controllerAPIs {
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey, ak.MaxVersion = k, max
		out = append(out, ak)
	}
	ak := kmsg.NewApiVersionsResponseApiKey()
	ak.ApiKey, ak.MaxVersion = kmsg.ApiVersions.Int16(), apiVersionsMax
	out = append(out, ak)
	slices.SortFunc(out, func(a, b kmsg.ApiVersionsResponseApiKey) int { return int(a.ApiKey) - int(b.ApiKey) })
	return out
}

// serveListener is raftnet's Handler: ApiVersions and the controller APIs. A key or version not
// served, or a body that does not parse, closes the connection, as on the broker's listener.
func (n *Node) serveListener(ctx context.Context, hdr *kafkawire.RequestHeader, body []byte) (kmsg.Response, bool) {
	if hdr.Key == kmsg.ApiVersions.Int16() {
		return n.apiVersions(hdr, body), true
	}
	max, ok := controllerAPIs[hdr.Key]
	if !ok || hdr.Version < 0 || hdr.Version > max {
		n.log.Warn("controller listener: request refused; closing the connection", "key", hdr.Key, "version", hdr.Version, "client", hdr.ClientIDString())
		return nil, false
	}
	req := kmsg.RequestForKey(hdr.Key)
	req.SetVersion(hdr.Version)
	if err := req.ReadFrom(body); err != nil {
		n.log.Warn("controller listener: request does not parse; closing the connection", "key", hdr.Key, "version", hdr.Version, "err", err)
		return nil, false
	}
	if !n.authorized(raftnet.SessionFrom(ctx), hdr.Key) {
		return errorResponse(req, kerr.ClusterAuthorizationFailed.Code), true
	}
	resp, err := n.local(ctx, req)
	var he *handleError
	if errors.As(err, &he) {
		// Kafka's controller answers an unexpected failure with UNKNOWN_SERVER_ERROR; the
		// requester then gives up instead of retrying a request that fails the same way.
		n.log.Error("controller listener: request failed", "key", hdr.Key, "client", hdr.ClientIDString(), "err", err)
		return errorResponse(req, kerr.UnknownServerError.Code), true
	}
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("controller listener: request not answered; closing the connection", "key", hdr.Key, "err", err)
		}
		return nil, false
	}
	return resp, true
}

// apiVersions answers ApiVersions with the keys served and, from v3, the supported features and
// the finalized ones of the committed image (at min = max = the level, the epoch being the
// image's offset, as Kafka answers). A version above apiVersionsMax or a body that does not
// parse gets a v0 answer with UNSUPPORTED_VERSION and the list, so the client can retry with a
// version listed (KIP-511).
func (n *Node) apiVersions(hdr *kafkawire.RequestHeader, body []byte) kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.ApiKeys = supportedAPIs()
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(hdr.Version)
	if hdr.Version < 0 || hdr.Version > apiVersionsMax || req.ReadFrom(body) != nil {
		hdr.Version, hdr.Flexible = 0, false
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		return resp
	}
	n.FillFeatures(resp)
	return resp
}
