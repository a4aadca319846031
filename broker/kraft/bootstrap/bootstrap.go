// Package bootstrap is a KRaft cluster's bootstrap metadata: the records the
// first active controller writes to an empty metadata log (the finalized
// features the cluster starts at), kept in bootstrap.checkpoint in each log
// directory by `osprey storage format`, as Apache Kafka's BootstrapMetadata,
// BootstrapDirectory and Formatter (apache/kafka's metadata module) do.
//
// bootstrap.checkpoint has the snapshot layout of package snapshot at offset
// 0, epoch 0, with a SnapshotHeaderRecord whose last contained log timestamp
// is 0, one data batch of FeatureLevelRecords (version 0) and the footer:
// metadata.version first, then every other feature whose level is above 0,
// by name. kraft.version is never among them: it is not a metadata record
// but the KRaftVersionRecord of the voter-set snapshot a dynamic quorum gets.
package bootstrap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/kraft/snapshot"
	"github.com/osprey-kafka/osprey/internal/atomicfile"
)

// FileName is the bootstrap file's name in a log directory.
const FileName = "bootstrap.checkpoint"

// Metadata is the bootstrap metadata: records (at version 0, the only
// version of FeatureLevelRecord) and the metadata.version among them.
type Metadata struct {
	Records         []metadata.Record
	MetadataVersion MetadataVersion
	// Source says where it came from, for messages: "format command", a
	// file's path, or "the default bootstrap".
	Source string
}

// FromVersions is BootstrapMetadata.fromVersions: a FeatureLevelRecord for
// metadata.version, then one for each other feature above level 0 in name
// order, kraft.version left out.
func FromVersions(mv MetadataVersion, levels map[string]int16, source string) Metadata {
	recs := []metadata.Record{&metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: mv.Level}}
	names := make([]string, 0, len(levels))
	for n := range levels {
		if n != MetadataVersionFeature && n != KRaftVersionFeature {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if l := levels[n]; l > 0 {
			recs = append(recs, &metadata.FeatureLevelRecord{Name: n, FeatureLevel: l})
		}
	}
	return Metadata{Records: recs, MetadataVersion: mv, Source: source}
}

// Settings are the format command's choices of versions.
type Settings struct {
	// ReleaseVersion is --release-version ("" = not given).
	ReleaseVersion string
	// Features are the --feature name=level settings.
	Features map[string]int16
	// DynamicQuorum is true with --standalone or --initial-controllers.
	DynamicQuorum bool
}

// Resolve picks the metadata.version and every feature's level as Kafka's
// Formatter does (calculateEffectiveReleaseVersion and
// calculateEffectiveFeatureLevels): --feature metadata.version=N or
// --release-version, else the latest production version; each feature not
// given at its default for that version, kraft.version at 1 for a dynamic
// quorum and 0 otherwise; each level checked against its dependencies.
func Resolve(s Settings) (MetadataVersion, map[string]int16, error) {
	var mv MetadataVersion
	var err error
	mvLevel, mvGiven := s.Features[MetadataVersionFeature]
	switch {
	case mvGiven && s.ReleaseVersion != "":
		return mv, nil, errors.New("use --release-version instead of --feature metadata.version=X to avoid ambiguity")
	case mvGiven:
		if mv, err = MetadataVersionForLevel(mvLevel); err != nil {
			return mv, nil, fmt.Errorf("--feature metadata.version=%d: %w", mvLevel, err)
		}
	case s.ReleaseVersion != "":
		if mv, err = ParseMetadataVersion(s.ReleaseVersion); err != nil {
			return mv, nil, fmt.Errorf("--release-version: %w", err)
		}
	default:
		mv = LatestProduction
	}

	levels := map[string]int16{MetadataVersionFeature: mv.Level}
	for name, l := range s.Features {
		if name == MetadataVersionFeature {
			continue
		}
		if _, ok := findFeature(name); !ok {
			return mv, nil, fmt.Errorf("--feature %s=%d: unsupported feature: %s. Supported features are: %s",
				name, l, name, featureNames())
		}
		levels[name] = l
	}
	for _, f := range Features {
		given, ok := levels[f.Name]
		switch {
		case f.Name == KRaftVersionFeature && ok && given == 0 && s.DynamicQuorum:
			return mv, nil, errors.New("cannot set kraft.version to 0 if KIP-853 configuration is present " +
				"(--standalone or --initial-controllers); try removing the --feature flag for kraft.version")
		case f.Name == KRaftVersionFeature && ok && given != 0 && !s.DynamicQuorum:
			return mv, nil, fmt.Errorf("cannot set kraft.version to %d unless KIP-853 configuration is present "+
				"(--standalone or --initial-controllers); try removing the --feature flag for kraft.version", given)
		case f.Name == KRaftVersionFeature && !ok && s.DynamicQuorum:
			levels[f.Name] = 1
		case f.Name == KRaftVersionFeature && !ok:
			levels[f.Name] = 0
		case !ok:
			levels[f.Name] = f.DefaultLevel(mv)
		}
	}
	for _, f := range Features {
		l := levels[f.Name]
		i := slices.IndexFunc(f.Levels, func(fl FeatureLevel) bool { return fl.Level == l })
		if i < 0 {
			return mv, nil, fmt.Errorf("--feature %s=%d: %s has no level %d (levels %d to %d)",
				f.Name, l, f.Name, l, f.Levels[0].Level, f.Levels[len(f.Levels)-1].Level)
		}
		if need := f.Levels[i].NeedsMetadataLevel; need > mv.Level {
			return mv, nil, fmt.Errorf("%s could not be set to %d because it depends on metadata.version level %d; "+
				"use a later --release-version (metadata.version is %s, level %d)", f.Name, l, need, mv, mv.Level)
		}
	}
	return mv, levels, nil
}

// Marshal encodes md as bootstrap.checkpoint's bytes, its batches stamped
// with nowMs (Kafka's clock when it wrote them).
func (md Metadata) Marshal(nowMs int64) ([]byte, error) {
	recs := make([][]byte, 0, len(md.Records))
	for _, r := range md.Records {
		b, err := metadata.Marshal(r, 0)
		if err != nil {
			return nil, fmt.Errorf("bootstrap record: %w", err)
		}
		recs = append(recs, b)
	}
	return snapshot.Append(nil, snapshot.Options{NowMs: nowMs}, recs)
}

// WriteFile writes dir/bootstrap.checkpoint; dir must exist. The file
// replaces any earlier one whole (temporary file, fsync, rename), as
// BootstrapDirectory.writeBinaryFile does.
func WriteFile(dir string, md Metadata, nowMs int64) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("no such directory as %s", dir)
	}
	b, err := md.Marshal(nowMs)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, FileName), b, 0o644)
}

// ReadFile reads a bootstrap.checkpoint: its data records (control records
// are skipped, as BootstrapDirectory does), which must include a
// FeatureLevelRecord for metadata.version at a supported level.
func ReadFile(path string) (Metadata, error) {
	s, err := snapshot.ReadFile(path)
	if err != nil {
		return Metadata{}, err
	}
	md := Metadata{Source: "the binary bootstrap metadata file: " + path}
	found := false
	for i, b := range s.Records {
		rec, _, err := metadata.Unmarshal(b)
		if err != nil {
			return md, fmt.Errorf("%s: record %d: %w", path, i, err)
		}
		md.Records = append(md.Records, rec)
		if fl, ok := rec.(*metadata.FeatureLevelRecord); ok && fl.Name == MetadataVersionFeature {
			if md.MetadataVersion, err = MetadataVersionForLevel(fl.FeatureLevel); err != nil {
				return md, fmt.Errorf("%s: %w", path, err)
			}
			found = true
		}
	}
	if !found {
		return md, fmt.Errorf("no FeatureLevelRecord for metadata.version was found in the bootstrap metadata from %s", md.Source)
	}
	return md, nil
}

// ReadDir is BootstrapDirectory.read without an inter.broker.protocol.version:
// dir's bootstrap.checkpoint, or, when there is none, metadata.version at
// LatestProduction alone.
func ReadDir(dir string) (Metadata, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Metadata{}, fmt.Errorf("no such directory as %s", dir)
	case err != nil:
		return Metadata{}, err
	case !st.IsDir():
		return Metadata{}, fmt.Errorf("path %s exists, but is not a directory", dir)
	}
	md, err := ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return Metadata{
			Records:         []metadata.Record{&metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: LatestProduction.Level}},
			MetadataVersion: LatestProduction,
			Source:          "the default bootstrap",
		}, nil
	}
	return md, err
}
