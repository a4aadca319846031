package bootstrap

import (
	"fmt"
	"slices"
	"strings"
)

// MetadataVersion is one metadata.version: its feature level and its name
// (Kafka's MetadataVersion.toString, e.g. "4.0-IV3").
type MetadataVersion struct {
	Level   int16
	Release string // "4.0"
	IV      string // "IV3"
}

func (v MetadataVersion) String() string { return v.Release + "-" + v.IV }

// MetadataVersionFeature is the feature name of metadata.version.
const MetadataVersionFeature = "metadata.version"

// metadataVersions are the KRaft metadata versions from 3.3-IV3 (the
// lowest Kafka 4.0 formats or runs) to 4.0-IV3, with apache/kafka's feature
// levels (server-common MetadataVersion.java).
var metadataVersions = []MetadataVersion{
	{7, "3.3", "IV3"},
	{8, "3.4", "IV0"},
	{9, "3.5", "IV0"}, {10, "3.5", "IV1"}, {11, "3.5", "IV2"},
	{12, "3.6", "IV0"}, {13, "3.6", "IV1"}, {14, "3.6", "IV2"},
	{15, "3.7", "IV0"}, {16, "3.7", "IV1"}, {17, "3.7", "IV2"}, {18, "3.7", "IV3"}, {19, "3.7", "IV4"},
	{20, "3.8", "IV0"},
	{21, "3.9", "IV0"},
	{22, "4.0", "IV0"}, {23, "4.0", "IV1"}, {24, "4.0", "IV2"}, {25, "4.0", "IV3"},
}

// LatestProduction is the metadata.version storage format writes when
// neither --release-version nor --feature metadata.version is given: Kafka
// 4.0's default, 4.0-IV3 (level 25).
var LatestProduction = metadataVersions[len(metadataVersions)-1]

// MinimumVersion is the oldest metadata.version accepted.
var MinimumVersion = metadataVersions[0]

// ParseMetadataVersion reads a --release-version as Kafka's
// MetadataVersion.fromVersionString does: "4.0-IV3" names one version, a
// bare release ("3.9", or "3.9.1": only major.minor count) names its latest.
func ParseMetadataVersion(s string) (MetadataVersion, error) {
	key := s
	if parts := strings.Split(s, "."); len(parts) > 2 {
		key = parts[0] + "." + parts[1]
	}
	var found *MetadataVersion
	for i, v := range metadataVersions {
		if v.String() == key || v.Release == key {
			found = &metadataVersions[i]
		}
	}
	if found == nil {
		return MetadataVersion{}, fmt.Errorf("unknown release version %q: supported versions are %s to %s",
			s, MinimumVersion, LatestProduction)
	}
	return *found, nil
}

// MetadataVersionForLevel is the metadata.version at feature level l.
func MetadataVersionForLevel(l int16) (MetadataVersion, error) {
	for _, v := range metadataVersions {
		if v.Level == l {
			return v, nil
		}
	}
	return MetadataVersion{}, fmt.Errorf("metadata.version level %d is not supported: supported levels are %d (%s) to %d (%s)",
		l, MinimumVersion.Level, MinimumVersion, LatestProduction.Level, LatestProduction)
}

// Feature is a finalized feature other than metadata.version (Kafka's
// Features enum): its levels, the metadata.version from which each level is
// the format default, and the metadata.version each level needs.
type Feature struct {
	Name   string
	Levels []FeatureLevel // ascending from 0
}

// FeatureLevel is one level of a Feature.
type FeatureLevel struct {
	Level int16
	// BootstrapLevel: from this metadata.version level on, format picks this
	// feature level by default (FeatureVersion.bootstrapMetadataVersion).
	BootstrapLevel int16
	// NeedsMetadataLevel: the metadata.version level this feature level
	// depends on (FeatureVersion.dependencies), 0 for none.
	NeedsMetadataLevel int16
}

// KRaftVersionFeature is kraft.version's name.
const KRaftVersionFeature = "kraft.version"

// ShareVersionFeature is share.version's name: at level 1 or above the
// brokers serve share groups (as group.share.enable=true does).
const ShareVersionFeature = "share.version"

// Features are the production features of Kafka 4.0's Features enum that
// this format command knows, sorted by name. kraft.version 1 (KIP-853)
// bootstraps at and depends on 3.9-IV0; group.version 1 (KIP-848) bootstraps
// at 4.0-IV0; transaction.version 1 and 2 (KIP-890) at 4.0-IV2. Level 0 of
// each bootstraps at 3.0-IV1, the first KRaft version.
//
// share.version 1 (KIP-932 share groups) bootstraps at 4.2-IV0 (level 28),
// above the latest version here, so it is never a default and is set only
// with --feature share.version=1. Kafka makes it depend on 4.1-IV1; this
// runtime's metadata versions end at 4.0-IV3 and its share groups need no
// 4.1 metadata record, so the level has no metadata.version dependency.
var Features = []Feature{
	{Name: "group.version", Levels: []FeatureLevel{{0, 1, 0}, {1, 22, 0}}},
	{Name: KRaftVersionFeature, Levels: []FeatureLevel{{0, 1, 0}, {1, 21, 21}}},
	{Name: ShareVersionFeature, Levels: []FeatureLevel{{0, 1, 0}, {1, 28, 0}}},
	{Name: "transaction.version", Levels: []FeatureLevel{{0, 1, 0}, {1, 24, 0}, {2, 24, 0}}},
}

func findFeature(name string) (Feature, bool) {
	i := slices.IndexFunc(Features, func(f Feature) bool { return f.Name == name })
	if i < 0 {
		return Feature{}, false
	}
	return Features[i], true
}

// DefaultLevel is the highest level whose bootstrap metadata.version is at
// or below mv (Features.defaultValue).
func (f Feature) DefaultLevel(mv MetadataVersion) int16 {
	var l int16
	for _, fl := range f.Levels {
		if fl.BootstrapLevel > mv.Level {
			break
		}
		l = fl.Level
	}
	return l
}

func featureNames() string {
	names := make([]string, len(Features))
	for i, f := range Features {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}
