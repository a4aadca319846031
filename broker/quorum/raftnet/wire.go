package raftnet

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
)

// Frames and headers are Kafka's, read and written by broker/kafkawire as on the broker's client
// listener; this file adds what the quorum serves and sends.

// Request versions the client sends. Vote v2 carries PreVote (KIP-996); BeginQuorumEpoch and
// EndQuorumEpoch v1 are the flexible versions Kafka's raft client sends; Fetch and FetchSnapshot
// keep the versions the node chose (Fetch needs topic ids and ReplicaState).
var requestVersions = map[int16]int16{
	kmsg.Vote.Int16():             2,
	kmsg.BeginQuorumEpoch.Int16(): 1,
	kmsg.EndQuorumEpoch.Int16():   1,
	kmsg.Fetch.Int16():            16,
}

// request is a decoded request frame.
type request struct {
	hdr kafkawire.RequestHeader
	req kmsg.Request
}

// parseRequest decodes a request frame for one of the keys the quorum serves. Any other key, or
// a version kmsg does not know, is an error: the connection is closed, as Kafka closes it for a
// request it cannot parse.
func parseRequest(frame []byte) (request, error) {
	h, body, err := kafkawire.ParseRequestHeader(frame)
	if err != nil {
		return request{}, err
	}
	return parseBody(h, body)
}

// servedKey reports whether the quorum itself serves key.
func servedKey(key int16) bool {
	switch kmsg.Key(key) {
	case kmsg.Vote, kmsg.BeginQuorumEpoch, kmsg.EndQuorumEpoch, kmsg.Fetch, kmsg.FetchSnapshot, kmsg.DescribeQuorum,
		kmsg.AddRaftVoter, kmsg.RemoveRaftVoter, kmsg.UpdateRaftVoter:
		return true
	}
	return false
}

// ServedAPIs lists the keys the quorum listener serves itself with their version ranges, for
// the ApiVersions answer of a listener that adds more through Config.Handler. DescribeQuorum
// stops at v2, the last version quorum.Node.Describe fills.
func ServedAPIs() []kmsg.ApiVersionsResponseApiKey {
	keys := []kmsg.Key{kmsg.Fetch, kmsg.Vote, kmsg.BeginQuorumEpoch, kmsg.EndQuorumEpoch, kmsg.DescribeQuorum, kmsg.FetchSnapshot,
		kmsg.AddRaftVoter, kmsg.RemoveRaftVoter, kmsg.UpdateRaftVoter}
	out := make([]kmsg.ApiVersionsResponseApiKey, 0, len(keys))
	for _, k := range keys {
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey = k.Int16()
		ak.MaxVersion = kmsg.RequestForKey(k.Int16()).MaxVersion()
		if k == kmsg.DescribeQuorum {
			ak.MaxVersion = min(ak.MaxVersion, 2)
		}
		out = append(out, ak)
	}
	return out
}

// parseBody decodes the body of a request whose header is h; see parseRequest.
func parseBody(h kafkawire.RequestHeader, body []byte) (request, error) {
	if !servedKey(h.Key) {
		return request{}, fmt.Errorf("api key %d is not served by the quorum listener", h.Key)
	}
	req := kmsg.RequestForKey(h.Key)
	if h.Version < 0 || h.Version > req.MaxVersion() {
		return request{}, fmt.Errorf("api key %d version %d is not supported (max %d)", h.Key, h.Version, req.MaxVersion())
	}
	req.SetVersion(h.Version)
	if err := req.ReadFrom(body); err != nil {
		return request{}, fmt.Errorf("api key %d version %d: %w", h.Key, h.Version, err)
	}
	return request{hdr: h, req: req}, nil
}
