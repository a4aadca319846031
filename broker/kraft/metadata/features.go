package metadata

// FeatureLevelRecord (api key 12, v0) sets a finalized feature level, e.g.
// metadata.version or kraft.version. Level 0 removes the feature.
type FeatureLevelRecord struct {
	Name         string // Name: the feature name
	FeatureLevel int16  // FeatureLevel
	UnknownTags  []Tag
}

func (*FeatureLevelRecord) Key() APIKey       { return KeyFeatureLevel }
func (*FeatureLevelRecord) MaxVersion() int16 { return 0 }
func (*FeatureLevelRecord) name() string      { return "FeatureLevelRecord" }

func (r *FeatureLevelRecord) appendBody(e *encoder) {
	e.string(r.Name)
	e.int16(r.FeatureLevel)
	e.tags(nil, r.UnknownTags)
}

func (r *FeatureLevelRecord) readBody(d *decoder) {
	*r = FeatureLevelRecord{}
	r.Name = d.string("name")
	r.FeatureLevel = d.int16()
	r.UnknownTags = d.tags(nil)
}

// ProducerIdsRecord (api key 15, v0) records a block of producer ids handed
// to a broker (AllocateProducerIds).
type ProducerIdsRecord struct {
	BrokerID       int32 // BrokerId: the broker the block went to
	BrokerEpoch    int64 // BrokerEpoch (schema default -1)
	NextProducerID int64 // NextProducerId: the first id not yet handed out
	UnknownTags    []Tag
}

func (*ProducerIdsRecord) Key() APIKey       { return KeyProducerIDs }
func (*ProducerIdsRecord) MaxVersion() int16 { return 0 }
func (*ProducerIdsRecord) name() string      { return "ProducerIdsRecord" }

func (r *ProducerIdsRecord) appendBody(e *encoder) {
	e.int32(r.BrokerID)
	e.int64(r.BrokerEpoch)
	e.int64(r.NextProducerID)
	e.tags(nil, r.UnknownTags)
}

func (r *ProducerIdsRecord) readBody(d *decoder) {
	*r = ProducerIdsRecord{}
	r.BrokerID = d.int32()
	r.BrokerEpoch = d.int64()
	r.NextProducerID = d.int64()
	r.UnknownTags = d.tags(nil)
}

// NoOpRecord (api key 20, v0) has no fields; the active controller appends
// one every metadata.max.idle.interval.ms so the high watermark moves.
type NoOpRecord struct {
	UnknownTags []Tag
}

func (*NoOpRecord) Key() APIKey       { return KeyNoOp }
func (*NoOpRecord) MaxVersion() int16 { return 0 }
func (*NoOpRecord) name() string      { return "NoOpRecord" }

func (r *NoOpRecord) appendBody(e *encoder) { e.tags(nil, r.UnknownTags) }

func (r *NoOpRecord) readBody(d *decoder) {
	*r = NoOpRecord{}
	r.UnknownTags = d.tags(nil)
}
