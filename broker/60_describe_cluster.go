package broker

import "github.com/twmb/franz-go/pkg/kmsg"

// DescribeCluster: v0-1
//
// Behavior:
// * Cluster id, controller and brokers from the ClusterView.
// * Endpoint type 2 (controllers, v1+) gets UNSUPPORTED_ENDPOINT_TYPE:
//   there is no KRaft controller quorum.
//
// Version notes:
// * v0 is flexible; v1: endpoint type.

func init() { regKey(60, 0, 1, handleDescribeCluster) }

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
	for _, bi := range b.cluster.Brokers() {
		db := kmsg.NewDescribeClusterResponseBroker()
		db.NodeID, db.Host, db.Port = bi.ID, bi.Host, bi.Port
		if bi.Rack != "" {
			db.Rack = kmsg.StringPtr(bi.Rack)
		}
		resp.Brokers = append(resp.Brokers, db)
	}
	return resp, nil
}
