package broker

import (
	"cmp"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fencedLister is a cluster whose brokers can be registered but fenced
// (KRaft mode).
type fencedLister interface {
	fencedBrokers() []BrokerInfo
}

// DescribeCluster: v0-2
//
// Behavior:
// * Cluster id, controller and brokers from the ClusterView.
// * v2 with IncludeFencedBrokers on a KRaft broker: the fenced brokers too,
//   each with IsFenced, as Kafka 4.0 answers (KIP-1073). Elsewhere every
//   broker listed is live.
// * include_cluster_authorized_operations: the operations the principal
//   may do on the cluster (0 without DESCRIBE on it), as in Kafka.
// * Endpoint type 2 (controllers, v1+) gets UNSUPPORTED_ENDPOINT_TYPE:
//   there is no KRaft controller quorum.
//
// Version notes:
// * v0 is flexible; v1: endpoint type; v2: include fenced brokers.

func init() { regKey(60, 0, 2, handleDescribeCluster) }

func handleDescribeCluster(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.EndpointType = req.EndpointType
	if req.Version >= 1 && req.EndpointType != 1 {
		resp.ErrorCode = errUnsupportedEndpointType
		return resp, nil
	}
	resp.ClusterID = b.cluster.ClusterID()
	resp.ControllerID = b.cluster.ControllerID()
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = r.clusterAuthorizedOperations()
	}
	brokers := b.cluster.Brokers()
	fenced := map[int32]bool{}
	if fl, ok := b.cluster.(fencedLister); ok && req.IncludeFencedBrokers {
		for _, bi := range fl.fencedBrokers() {
			fenced[bi.ID] = true
			brokers = append(brokers, bi)
		}
		slices.SortFunc(brokers, func(x, y BrokerInfo) int { return cmp.Compare(x.ID, y.ID) })
	}
	for _, bi := range brokers {
		db := kmsg.NewDescribeClusterResponseBroker()
		db.NodeID = bi.ID
		db.Host, db.Port = bi.at(r.clientListener())
		if bi.Rack != "" {
			db.Rack = kmsg.StringPtr(bi.Rack)
		}
		db.IsFenced = fenced[bi.ID]
		resp.Brokers = append(resp.Brokers, db)
	}
	return resp, nil
}
