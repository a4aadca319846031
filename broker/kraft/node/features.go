package node

import (
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FillFeatures sets an ApiVersions (v3+) answer's supported features and the finalized
// features of the committed image, as a KRaft broker's listener answers them too.
func (n *Node) FillFeatures(resp *kmsg.ApiVersionsResponse) {
	for _, f := range SupportedFeatures() {
		sf := kmsg.NewApiVersionsResponseSupportedFeature()
		sf.Name, sf.MinVersion, sf.MaxVersion = f.Name, f.MinLevel, f.MaxLevel
		resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
	}
	n.mu.Lock()
	img, next := n.img, n.next
	n.mu.Unlock()
	finalized := img.FinalizedFeatures()
	for _, name := range slices.Sorted(maps.Keys(finalized)) {
		ff := kmsg.NewApiVersionsResponseFinalizedFeature()
		ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = name, finalized[name], finalized[name]
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
	}
	resp.FinalizedFeaturesEpoch = next - 1
}
