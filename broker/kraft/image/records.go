package image

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// VersionedRecord is a record and the schema version to encode it at.
type VersionedRecord struct {
	Record  metadata.Record
	Version int16
}

// ErrUnwritable is wrapped by Records' error when the image holds state that
// the records of its metadata.version cannot carry (Kafka's
// UnwritableMetadataException): writing it would lose that state.
var ErrUnwritable = errors.New("image not writable at its metadata.version")

// Records writes the image as the records that rebuild it when replayed on
// the empty image, as a Kafka snapshot does: the metadata.version
// FeatureLevelRecord first (at version 0, so any reader can take it), the
// other features, brokers, controllers, each topic followed by its
// partitions, configurations, the producer id block, then the SCRAM
// credentials. Record versions are
// the ones Kafka writes at the image's metadata.version. Each kind is ordered
// by key (feature name, node id, topic name, partition index, resource,
// configuration key), so equal images give equal records.
//
// The empty image has no records. Any other image needs a metadata.version of
// at least 3.3-IV0 (MetadataVersion33IV0); state its metadata.version has no
// field for is an error wrapping ErrUnwritable.
func (im Image) Records() ([]VersionedRecord, error) {
	mv := im.metadataVersion
	if mv == 0 {
		if im.Equal(Empty()) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: metadata.version is not set", ErrUnwritable)
	}
	if mv < MetadataVersion33IV0 {
		return nil, fmt.Errorf("%w: metadata.version %d predates 3.3-IV0 (%d), the first with FeatureLevelRecord", ErrUnwritable, mv, MetadataVersion33IV0)
	}
	var out []VersionedRecord
	add := func(r metadata.Record, v int16) { out = append(out, VersionedRecord{Record: r, Version: v}) }

	add(&metadata.FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: mv}, 0)
	for _, name := range slices.Sorted(maps.Keys(im.features)) {
		add(&metadata.FeatureLevelRecord{Name: name, FeatureLevel: im.features[name]}, 0)
	}

	for _, b := range im.Brokers() {
		r, v, err := brokerRecord(b, mv)
		if err != nil {
			return nil, err
		}
		add(r, v)
	}
	if len(im.controllers) > 0 && mv < MetadataVersion37IV0 {
		return nil, fmt.Errorf("%w: controller registrations need metadata.version 3.7-IV0 (%d), have %d", ErrUnwritable, MetadataVersion37IV0, mv)
	}
	for _, c := range im.Controllers() {
		add(&metadata.RegisterControllerRecord{
			ControllerID:     c.ID,
			IncarnationID:    c.IncarnationID,
			ZkMigrationReady: c.ZkMigrationReady,
			EndPoints:        endpoints(c.Listeners),
			Features:         features(c.Features),
		}, 0)
	}

	partitionVersion := int16(0)
	switch {
	case mv >= MetadataVersion40IV1:
		partitionVersion = 2
	case mv >= MetadataVersion37IV2:
		partitionVersion = 1
	}
	for _, t := range im.Topics() {
		add(&metadata.TopicRecord{Name: t.Name, TopicID: t.ID}, 0)
		for _, p := range t.Partitions() {
			r, err := partitionRecord(t, p, partitionVersion)
			if err != nil {
				return nil, err
			}
			add(r, partitionVersion)
		}
	}

	for _, res := range im.ConfigResources() {
		c := im.configs[res]
		for _, k := range slices.Sorted(maps.Keys(c)) {
			v := c[k]
			add(&metadata.ConfigRecord{ResourceType: res.Type, ResourceName: res.Name, Name: k, Value: &v}, 0)
		}
	}

	if im.nextProducerID >= 0 {
		add(&metadata.ProducerIdsRecord{BrokerID: -1, BrokerEpoch: -1, NextProducerID: im.nextProducerID}, 0)
	}
	scram, err := im.scramRecords(mv)
	if err != nil {
		return nil, err
	}
	out = append(out, scram...)
	out = append(out, im.aclRecords()...)
	return append(out, im.quotaRecords()...), nil
}

func brokerRecord(b Broker, mv int16) (*metadata.RegisterBrokerRecord, int16, error) {
	v := int16(0)
	switch {
	case mv >= MetadataVersion37IV2:
		v = 3
	case mv >= MetadataVersion34IV0:
		v = 2
	case mv >= MetadataVersion33IV3:
		v = 1
	}
	lost := func(what string, need int16) error {
		return fmt.Errorf("%w: broker %d: %s needs metadata.version %d, have %d", ErrUnwritable, b.ID, what, need, mv)
	}
	switch {
	case b.InControlledShutdown && v < 1:
		return nil, 0, lost("the in-controlled-shutdown state", MetadataVersion33IV3)
	case b.IsMigratingZkBroker && v < 2:
		return nil, 0, lost("the migrating-ZooKeeper-broker state", MetadataVersion34IV0)
	case len(b.LogDirs) > 0 && v < 3:
		return nil, 0, lost("log directories", MetadataVersion37IV2)
	}
	var rack *string
	if b.Rack != nil {
		s := *b.Rack
		rack = &s
	}
	return &metadata.RegisterBrokerRecord{
		BrokerID:             b.ID,
		IsMigratingZkBroker:  b.IsMigratingZkBroker,
		IncarnationID:        b.IncarnationID,
		BrokerEpoch:          b.Epoch,
		EndPoints:            endpoints(b.Listeners),
		Features:             features(b.Features),
		Rack:                 rack,
		Fenced:               b.Fenced,
		InControlledShutdown: b.InControlledShutdown,
		LogDirs:              cloneOrNil(b.LogDirs),
	}, v, nil
}

// partitionRecord writes p as a PartitionRecord of version v. Like Kafka's
// PartitionRegistration.toRecord it leaves out ELR lists that are empty, and
// writes directories only where the version has them (refusing to drop any
// that are known).
func partitionRecord(t Topic, p Partition, v int16) (*metadata.PartitionRecord, error) {
	r := &metadata.PartitionRecord{
		PartitionID:         p.Index,
		TopicID:             t.ID,
		Replicas:            cloneOrNil(p.Replicas),
		Isr:                 cloneOrNil(p.Isr),
		RemovingReplicas:    cloneOrNil(p.RemovingReplicas),
		AddingReplicas:      cloneOrNil(p.AddingReplicas),
		Leader:              p.Leader,
		LeaderRecoveryState: p.LeaderRecoveryState,
		LeaderEpoch:         p.LeaderEpoch,
		PartitionEpoch:      p.PartitionEpoch,
	}
	if v >= 2 {
		r.EligibleLeaderReplicas = cloneOrNil(p.EligibleLeaderReplicas)
		r.LastKnownElr = cloneOrNil(p.LastKnownElr)
	} else if len(p.EligibleLeaderReplicas) > 0 || len(p.LastKnownElr) > 0 {
		return nil, fmt.Errorf("%w: %s-%d: eligible leader replicas need metadata.version 4.0-IV1 (%d)", ErrUnwritable, t.Name, p.Index, MetadataVersion40IV1)
	}
	if v >= 1 {
		r.Directories = cloneOrNil(p.Directories)
	} else if slices.ContainsFunc(p.Directories, func(u metadata.Uuid) bool { return !u.IsZero() }) {
		return nil, fmt.Errorf("%w: %s-%d: replica directories need metadata.version 3.7-IV2 (%d)", ErrUnwritable, t.Name, p.Index, MetadataVersion37IV2)
	}
	return r, nil
}

func endpoints(ls []Listener) []metadata.Endpoint {
	var out []metadata.Endpoint
	for _, l := range ls {
		out = append(out, metadata.Endpoint{Name: l.Name, Host: l.Host, Port: l.Port, SecurityProtocol: l.SecurityProtocol})
	}
	return out
}

func features(fs []FeatureRange) []metadata.Feature {
	var out []metadata.Feature
	for _, f := range fs {
		out = append(out, metadata.Feature{Name: f.Name, MinSupportedVersion: f.MinLevel, MaxSupportedVersion: f.MaxLevel})
	}
	return out
}
