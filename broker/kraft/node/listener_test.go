package node

import (
	"bufio"
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/image"
)

// send writes req to addr at req's version on a connection of its own and reads the answer.
func send(t *testing.T, addr string, req kmsg.Request) kmsg.Response {
	t.Helper()
	return sendAs(t, addr, req, req)
}

// sendAs is send for an answer at the version of decodeAs (an ApiVersions answered at v0).
func sendAs(t *testing.T, addr string, req, decodeAs kmsg.Request) kmsg.Response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("test")).AppendRequest(nil, req, 7)
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	b, err := kafkawire.ReadFrame(bufio.NewReader(conn), kafkawire.MinResponseFrame, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := kafkawire.ParseResponse(b, decodeAs, 7)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestControllerListener(t *testing.T) {
	c := newTestCluster(t)
	leader, _ := c.leader(0)
	follower := controllerIDs[0]
	if follower == leader {
		follower = controllerIDs[1]
	}
	addr := c.voters[follower-1].Addr()
	c.waitAll("the bootstrap metadata.version", func(img image.Image) bool { return img.MetadataVersion() != 0 })

	// ApiVersions lists the quorum's keys, the controller APIs and itself.
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	resp := send(t, addr, req).(*kmsg.ApiVersionsResponse)
	var keys []int16
	for _, k := range resp.ApiKeys {
		keys = append(keys, k.ApiKey)
	}
	for _, k := range []kmsg.Key{kmsg.Fetch, kmsg.Vote, kmsg.DescribeQuorum, kmsg.ApiVersions, kmsg.CreateTopics, kmsg.BrokerRegistration, kmsg.BrokerHeartbeat} {
		if !slices.Contains(keys, k.Int16()) {
			t.Errorf("ApiVersions does not list %s: %v", k.Name(), keys)
		}
	}
	if resp.ErrorCode != 0 {
		t.Errorf("ApiVersions v3: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	// From v3 it carries the features: supported ranges, and the finalized levels of the image.
	mv := slices.IndexFunc(resp.FinalizedFeatures, func(f kmsg.ApiVersionsResponseFinalizedFeature) bool {
		return f.Name == bootstrap.MetadataVersionFeature && f.MaxVersionLevel == bootstrap.LatestProduction.Level
	})
	if mv < 0 || len(resp.SupportedFeatures) != len(SupportedFeatures()) || resp.FinalizedFeaturesEpoch < 0 {
		t.Errorf("ApiVersions v3 features: supported %+v finalized %+v epoch %d", resp.SupportedFeatures, resp.FinalizedFeatures, resp.FinalizedFeaturesEpoch)
	}

	// KIP-511: a version above the highest gets a v0 answer with UNSUPPORTED_VERSION and the list.
	req = kmsg.NewPtrApiVersionsRequest()
	req.Version = apiVersionsMax + 1
	if req.Version <= req.MaxVersion() {
		req0 := kmsg.NewPtrApiVersionsRequest()
		req0.Version = 0 // the answer comes back at v0
		raw := sendAs(t, addr, req, req0).(*kmsg.ApiVersionsResponse)
		if raw.ErrorCode != kerr.UnsupportedVersion.Code || len(raw.ApiKeys) != len(resp.ApiKeys) {
			t.Errorf("ApiVersions v%d: error %v, %d keys", req.Version, kerr.ErrorForCode(raw.ErrorCode), len(raw.ApiKeys))
		}
	}

	// A controller that is not active answers NOT_CONTROLLER in each topic's error.
	ct := kmsg.NewPtrCreateTopicsRequest()
	ct.Version = 7
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic = "x"
	ct.Topics = append(ct.Topics, rt)
	cr := send(t, addr, ct).(*kmsg.CreateTopicsResponse)
	if len(cr.Topics) != 1 || cr.Topics[0].ErrorCode != kerr.NotController.Code {
		t.Fatalf("CreateTopics to the follower %d: %+v, want NOT_CONTROLLER", follower, cr.Topics)
	}

	// A request the state machine fails is answered UNKNOWN_SERVER_ERROR, on the wire and
	// through ControllerRequest, which does not retry it.
	dt := kmsg.NewPtrDeleteTopicsRequest()
	dt.Version = 5
	dt.TopicNames = []string{"x"}
	dr := send(t, c.voters[leader-1].Addr(), dt).(*kmsg.DeleteTopicsResponse)
	if len(dr.Topics) != 1 || dr.Topics[0].ErrorCode != kerr.UnknownServerError.Code {
		t.Fatalf("DeleteTopics the test controller fails: %+v, want UNKNOWN_SERVER_ERROR", dr.Topics)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.nodes[observerID].ControllerRequest(ctx, dt)
	if err != nil || r.(*kmsg.DeleteTopicsResponse).Topics[0].ErrorCode != kerr.UnknownServerError.Code {
		t.Fatalf("DeleteTopics through ControllerRequest: %v, %+v", err, r)
	}
}
