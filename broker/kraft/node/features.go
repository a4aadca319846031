package node

import (
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/quorum"
)

// FillFeatures sets an ApiVersions (v3+) answer's supported features and the finalized
// features of the committed image, as a KRaft broker's listener answers them too. kraft.version
// is no metadata record: a dynamic quorum adds it at level 1, as Kafka's metadata cache does.
func (n *Node) FillFeatures(resp *kmsg.ApiVersionsResponse) {
	for _, f := range SupportedFeatures() {
		sf := kmsg.NewApiVersionsResponseSupportedFeature()
		sf.Name, sf.MinVersion, sf.MaxVersion = f.Name, f.MinLevel, f.MaxLevel
		resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
	}
	n.mu.Lock()
	img, next := n.img, n.next
	n.mu.Unlock()
	finalized := img.FinalizedFeatures() // a copy
	if n.dynamic {
		finalized[bootstrap.KRaftVersionFeature] = 1
	}
	for _, name := range slices.Sorted(maps.Keys(finalized)) {
		ff := kmsg.NewApiVersionsResponseFinalizedFeature()
		ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = name, finalized[name], finalized[name]
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
	}
	resp.FinalizedFeaturesEpoch = next - 1
}

// Following reports whether this node has a working quorum as far as it knows: it is the leader,
// or a follower of a known leader. A voter that lost its leader (prospective, candidate,
// unattached) is not, even if it still remembers the old leader's id.
func (n *Node) Following() bool {
	v := n.quorumView()
	return v.state == quorum.Leader || (v.state == quorum.Follower && v.leader >= 0)
}
