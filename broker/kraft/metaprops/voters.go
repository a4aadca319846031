package metaprops

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/snapshot"
	"github.com/osprey-kafka/osprey/internal/atomicfile"
)

// MetadataPartitionDir is the metadata log's directory inside
// metadata.log.dir: the partition __cluster_metadata-0.
const MetadataPartitionDir = "__cluster_metadata-0"

// VotersRecord is the voter set of --initial-controllers or --standalone as
// Kafka's DynamicVoters.toVoterSet and VoterSet.toVotersRecord build it:
// each voter with its directory id, one endpoint named by the controller
// listener (upper-cased, as ListenerName.normalised does) at the host as
// java.net.InetSocketAddress.getHostString gives it back, and kraft.version
// support 0 to 1; voters in the order Kafka's HashMap iterates them.
func VotersRecord(voters []Voter, controllerListenerName string) *metadata.VotersRecord {
	byID := map[int32]Voter{}
	ids := make([]int32, 0, len(voters))
	for _, v := range voters {
		byID[v.ID] = v
		ids = append(ids, v.ID)
	}
	rec := &metadata.VotersRecord{}
	for _, id := range javaHashMapOrder(ids, javaCopyCapacity21) {
		v := byID[id]
		rec.Voters = append(rec.Voters, metadata.VotersRecordVoter{
			VoterID:          v.ID,
			VoterDirectoryID: v.DirectoryID,
			Endpoints: []metadata.VoterEndpoint{{
				Name: strings.ToUpper(controllerListenerName),
				Host: javaHostString(v.Host),
				Port: uint16(v.Port),
			}},
			KRaftVersionFeature: metadata.KRaftVersionFeature{MinSupportedVersion: 0, MaxSupportedVersion: 1},
		})
	}
	return rec
}

// WriteVoterSnapshot writes the bootstrap snapshot of a dynamic quorum,
// dir/__cluster_metadata-0/00000000000000000000-0000000000.checkpoint, as
// Formatter.writeDynamicQuorumSnapshot does: epoch 0, header timestamp nowMs,
// a KRaftVersionRecord at kraftVersion and the VotersRecord, no data records.
func WriteVoterSnapshot(dir string, voters []Voter, kraftVersion int16, controllerListenerName string, nowMs int64) error {
	b, err := snapshot.Append(nil, snapshot.Options{
		LastContainedLogTimestamp: nowMs,
		KRaftVersion:              kraftVersion,
		Voters:                    VotersRecord(voters, controllerListenerName),
		NowMs:                     nowMs,
	}, nil)
	if err != nil {
		return err
	}
	part := filepath.Join(dir, MetadataPartitionDir)
	if err := os.MkdirAll(part, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", part, err)
	}
	return atomicfile.Write(filepath.Join(part, snapshot.BootstrapFileName), b, 0o644)
}

// Kafka builds the voter set in a java.util.HashMap filled from
// DynamicVoters' TreeMap (ascending ids), then copies it with new
// HashMap(map); VotersRecord lists the copy's values in iteration order.
// A HashMap iterates by bucket (spread hash & (capacity-1)), and within a
// bucket in insertion order (resizing keeps that order); an Integer's hash
// is its value. The copy's capacity depends on the JDK: 17 sizes it for
// n/0.75+1 entries, 19 and later for ceil(n/0.75) (JDK-8281631).
// Bins of 8 or more colliding keys turn into trees at capacity 64 and up;
// voter sets are never that large.

func javaCopyCapacity17(n int) int {
	return javaTableSizeFor(int(float32(n)/0.75 + 1))
}

func javaCopyCapacity21(n int) int {
	return javaTableSizeFor(int(math.Ceil(float64(n) / 0.75)))
}

// javaTableSizeFor is HashMap.tableSizeFor: the least power of two >= c.
func javaTableSizeFor(c int) int {
	n := 1
	for n < c {
		n <<= 1
	}
	return n
}

func javaBucket(id int32, capacity int) int {
	h := uint32(id)
	return int((h ^ h>>16) & uint32(capacity-1))
}

// javaHashMapOrder is the order of ids after DynamicVoters.toVoterSet and
// VoterSet.fromMap, given the copy constructor's capacity rule.
func javaHashMapOrder(ids []int32, copyCapacity func(int) int) []int32 {
	order := slices.Clone(ids)
	slices.Sort(order) // DynamicVoters' TreeMap
	// The first map: default capacity 16, doubled whenever size passes 3/4.
	first := 16
	for len(order) > first*3/4 {
		first *= 2
	}
	slices.SortStableFunc(order, func(a, b int32) int { return javaBucket(a, first) - javaBucket(b, first) })
	second := copyCapacity(len(order))
	for len(order) > second*3/4 {
		second *= 2
	}
	slices.SortStableFunc(order, func(a, b int32) int { return javaBucket(a, second) - javaBucket(b, second) })
	return order
}

// javaHostString is what new InetSocketAddress(host, port).getHostString()
// gives back for a host from --initial-controllers: a name as written; an
// IPv4 literal as written; an IPv6 literal in Java's long form (eight
// groups in lower-case hex without leading zeros, no "::"); an IPv4-mapped
// IPv6 literal as its IPv4 address.
func javaHostString(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil || a.Is4() {
		return host
	}
	if a.Is4In6() {
		return a.Unmap().String()
	}
	b := a.As16()
	groups := make([]string, 8)
	for i := range groups {
		groups[i] = strconv.FormatUint(uint64(b[2*i])<<8|uint64(b[2*i+1]), 16)
	}
	s := strings.Join(groups, ":")
	if z := a.Zone(); z != "" {
		s += "%" + z
	}
	return s
}
