package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribeClusterEndpointTypes(t *testing.T) {
	b := newTestBroker(t)
	c := dialRaw(t, b.Addr())

	req := kmsg.NewPtrDescribeClusterRequest()
	req.Version = 1
	req.EndpointType = 1 // brokers
	resp := c.roundTrip(req, 1).(*kmsg.DescribeClusterResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil || len(resp.Brokers) != 1 {
		t.Fatalf("brokers endpoint: error %v, brokers %+v", err, resp.Brokers)
	}

	req.EndpointType = 2 // controllers: this runtime has no controller endpoint to list
	resp = c.roundTrip(req, 2).(*kmsg.DescribeClusterResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != kerr.UnsupportedEndpointType || len(resp.Brokers) != 0 {
		t.Fatalf("controllers endpoint: error %v (code %d), brokers %+v; want UNSUPPORTED_ENDPOINT_TYPE", err, resp.ErrorCode, resp.Brokers)
	}
}
