package controller

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fuzzRequests are the request types Handle serves, by the fuzzer's first
// byte.
var fuzzRequests = []func() kmsg.Request{
	func() kmsg.Request { return kmsg.NewPtrBrokerRegistrationRequest() },
	func() kmsg.Request { return kmsg.NewPtrBrokerHeartbeatRequest() },
	func() kmsg.Request { return kmsg.NewPtrUnregisterBrokerRequest() },
	func() kmsg.Request { return kmsg.NewPtrControllerRegistrationRequest() },
	func() kmsg.Request { return kmsg.NewPtrCreateTopicsRequest() },
	func() kmsg.Request { return kmsg.NewPtrDeleteTopicsRequest() },
	func() kmsg.Request { return kmsg.NewPtrCreatePartitionsRequest() },
	func() kmsg.Request { return kmsg.NewPtrIncrementalAlterConfigsRequest() },
	func() kmsg.Request { return kmsg.NewPtrAlterConfigsRequest() },
	func() kmsg.Request { return kmsg.NewPtrAlterPartitionRequest() },
	func() kmsg.Request { return kmsg.NewPtrAlterPartitionAssignmentsRequest() },
	func() kmsg.Request { return kmsg.NewPtrListPartitionReassignmentsRequest() },
	func() kmsg.Request { return kmsg.NewPtrElectLeadersRequest() },
	func() kmsg.Request { return kmsg.NewPtrAllocateProducerIDsRequest() },
	func() kmsg.Request { return kmsg.NewPtrDescribeClusterRequest() },
}

// FuzzHandle feeds decoded requests of every served type, at every version,
// to a controller over a small cluster: Handle must not panic, and whatever
// it writes must encode and replay (the harness checks the partition
// invariants too).
func FuzzHandle(f *testing.F) {
	seed := func(kind int, r kmsg.Request) {
		f.Add(byte(kind), byte(r.GetVersion()), r.AppendTo(nil))
	}
	reg := registration(4, 1)
	seed(0, reg)
	seed(1, heartbeatReq(1, 1, 5, false, true))
	seed(4, withAssignment(createTopicReq("x", -1, -1), []int32{1, 2}))
	seed(4, createTopicReq("y", 3, 2, "retention.ms", "5"))
	seed(5, deleteReq("t"))
	seed(6, createPartitionsReq("t", 4, []int32{2, 3}))
	seed(7, incrementalConfig(kmsg.ConfigResourceTypeTopic, "t", kmsg.IncrementalAlterConfigOpAppend, "cleanup.policy", "compact"))
	seed(10, reassignReq("t", 0, []int32{3, 1}))
	seed(12, electReq(electionUnclean, "t", 0, 1))
	f.Fuzz(func(t *testing.T, kind, version byte, body []byte) {
		req := fuzzRequests[int(kind)%len(fuzzRequests)]()
		req.SetVersion(int16(version) % (req.MaxVersion() + 1))
		if req.ReadFrom(body) != nil {
			return
		}
		h := threeBrokers(t, testConfig(), []int32{1, 2, 3}, []int32{2, 3, 1})
		h.handle(req)
		h.tick(10_000_000_000)
	})
}
