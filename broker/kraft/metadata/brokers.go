package metadata

// Endpoint is one listener of a broker (RegisterBrokerRecord's
// BrokerEndpoint) or of a controller (RegisterControllerRecord's
// ControllerEndpoint); both schemas have the same fields.
type Endpoint struct {
	Name             string // Name: the listener name
	Host             string // Host
	Port             uint16 // Port
	SecurityProtocol int16  // SecurityProtocol: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL
	UnknownTags      []Tag
}

func appendEndpoints(e *encoder, eps []Endpoint) {
	e.arrayLen(len(eps), false)
	for _, ep := range eps {
		e.string(ep.Name)
		e.string(ep.Host)
		e.uint16(ep.Port)
		e.int16(ep.SecurityProtocol)
		e.tags(nil, ep.UnknownTags)
	}
}

func readEndpoints(d *decoder) []Endpoint {
	// name, host (1 byte each at least), port, protocol, tag count
	n := d.arrayLen("endPoints", false, 7)
	if n <= 0 {
		return nil
	}
	eps := make([]Endpoint, n)
	for i := range eps {
		ep := &eps[i]
		ep.Name = d.string("name")
		ep.Host = d.string("host")
		ep.Port = d.uint16()
		ep.SecurityProtocol = d.int16()
		ep.UnknownTags = d.tags(nil)
	}
	return eps
}

// Feature is the range of levels of one feature a node supports
// (BrokerFeature, ControllerFeature).
type Feature struct {
	Name                string // Name: the feature name
	MinSupportedVersion int16  // MinSupportedVersion
	MaxSupportedVersion int16  // MaxSupportedVersion
	UnknownTags         []Tag
}

func appendFeatures(e *encoder, fs []Feature) {
	e.arrayLen(len(fs), false)
	for _, f := range fs {
		e.string(f.Name)
		e.int16(f.MinSupportedVersion)
		e.int16(f.MaxSupportedVersion)
		e.tags(nil, f.UnknownTags)
	}
}

func readFeatures(d *decoder) []Feature {
	n := d.arrayLen("features", false, 6)
	if n <= 0 {
		return nil
	}
	fs := make([]Feature, n)
	for i := range fs {
		f := &fs[i]
		f.Name = d.string("name")
		f.MinSupportedVersion = d.int16()
		f.MaxSupportedVersion = d.int16()
		f.UnknownTags = d.tags(nil)
	}
	return fs
}

// RegisterBrokerRecord (api key 0, v0-3) registers a broker (a new
// incarnation of it) with the controller.
//
// Version notes: v1 added InControlledShutdown; v2 added
// IsMigratingZkBroker (KIP-866); v3 added the tagged LogDirs (tag 0, KIP-858).
type RegisterBrokerRecord struct {
	BrokerID             int32      // BrokerId
	IsMigratingZkBroker  bool       // IsMigratingZkBroker (v2+)
	IncarnationID        Uuid       // IncarnationId
	BrokerEpoch          int64      // BrokerEpoch
	EndPoints            []Endpoint // EndPoints
	Features             []Feature  // Features
	Rack                 *string    // Rack (nil = null)
	Fenced               bool       // Fenced (schema default true)
	InControlledShutdown bool       // InControlledShutdown (v1+)
	LogDirs              []Uuid     // LogDirs (v3+, tag 0)
	UnknownTags          []Tag
}

func (*RegisterBrokerRecord) Key() APIKey       { return KeyRegisterBroker }
func (*RegisterBrokerRecord) MaxVersion() int16 { return 3 }
func (*RegisterBrokerRecord) name() string      { return "RegisterBrokerRecord" }

func (r *RegisterBrokerRecord) appendBody(e *encoder) {
	e.int32(r.BrokerID)
	if e.version >= 2 {
		e.bool(r.IsMigratingZkBroker)
	} else if r.IsMigratingZkBroker {
		e.unsupported(r.name(), "IsMigratingZkBroker")
	}
	e.uuid(r.IncarnationID)
	e.int64(r.BrokerEpoch)
	appendEndpoints(e, r.EndPoints)
	appendFeatures(e, r.Features)
	e.nullableString(r.Rack)
	e.bool(r.Fenced)
	if e.version >= 1 {
		e.bool(r.InControlledShutdown)
	} else if r.InControlledShutdown {
		e.unsupported(r.name(), "InControlledShutdown")
	}
	var tags []Tag
	if e.version >= 3 {
		if len(r.LogDirs) > 0 {
			tags = append(tags, e.tagged(0, func(e *encoder) { e.uuids(r.LogDirs, false) }))
		}
	} else if len(r.LogDirs) > 0 {
		e.unsupported(r.name(), "LogDirs")
	}
	e.tags(tags, r.UnknownTags)
}

func (r *RegisterBrokerRecord) readBody(d *decoder) {
	*r = RegisterBrokerRecord{Fenced: true}
	r.BrokerID = d.int32()
	if d.version >= 2 {
		r.IsMigratingZkBroker = d.bool()
	}
	r.IncarnationID = d.uuid()
	r.BrokerEpoch = d.int64()
	r.EndPoints = readEndpoints(d)
	r.Features = readFeatures(d)
	r.Rack = d.nullableString()
	r.Fenced = d.bool()
	if d.version >= 1 {
		r.InControlledShutdown = d.bool()
	}
	r.UnknownTags = d.tags(func(key uint32, d *decoder) bool {
		if key == 0 && d.version >= 3 {
			r.LogDirs = d.uuids("logDirs", false)
			return true
		}
		return false
	})
}

// UnregisterBrokerRecord (api key 1, v0) removes a broker's registration.
type UnregisterBrokerRecord struct {
	BrokerID    int32 // BrokerId
	BrokerEpoch int64 // BrokerEpoch
	UnknownTags []Tag
}

func (*UnregisterBrokerRecord) Key() APIKey       { return KeyUnregisterBroker }
func (*UnregisterBrokerRecord) MaxVersion() int16 { return 0 }
func (*UnregisterBrokerRecord) name() string      { return "UnregisterBrokerRecord" }

func (r *UnregisterBrokerRecord) appendBody(e *encoder) {
	e.int32(r.BrokerID)
	e.int64(r.BrokerEpoch)
	e.tags(nil, r.UnknownTags)
}

func (r *UnregisterBrokerRecord) readBody(d *decoder) {
	*r = UnregisterBrokerRecord{}
	r.BrokerID = d.int32()
	r.BrokerEpoch = d.int64()
	r.UnknownTags = d.tags(nil)
}

// The values of BrokerRegistrationChangeRecord.Fenced.
const (
	FenceChangeUnfence int8 = -1
	FenceChangeNone    int8 = 0
	FenceChangeFence   int8 = 1
)

// BrokerRegistrationChangeRecord (api key 17, v0-2) changes a registered
// broker's state; the changes are tagged fields, absent when 0 / empty.
//
// Version notes: v1 added InControlledShutdown (tag 1); v2 added LogDirs (tag 2).
type BrokerRegistrationChangeRecord struct {
	BrokerID             int32  // BrokerId
	BrokerEpoch          int64  // BrokerEpoch
	Fenced               int8   // Fenced, tag 0: -1 unfenced, 0 no change, 1 fenced
	InControlledShutdown int8   // InControlledShutdown (v1+), tag 1: 0 no change, 1 in controlled shutdown
	LogDirs              []Uuid // LogDirs (v2+), tag 2
	UnknownTags          []Tag
}

func (*BrokerRegistrationChangeRecord) Key() APIKey       { return KeyBrokerRegistrationChange }
func (*BrokerRegistrationChangeRecord) MaxVersion() int16 { return 2 }
func (*BrokerRegistrationChangeRecord) name() string      { return "BrokerRegistrationChangeRecord" }

func (r *BrokerRegistrationChangeRecord) appendBody(e *encoder) {
	e.int32(r.BrokerID)
	e.int64(r.BrokerEpoch)
	var tags []Tag
	if r.Fenced != 0 {
		tags = append(tags, e.tagged(0, func(e *encoder) { e.int8(r.Fenced) }))
	}
	if e.version >= 1 {
		if r.InControlledShutdown != 0 {
			tags = append(tags, e.tagged(1, func(e *encoder) { e.int8(r.InControlledShutdown) }))
		}
	} else if r.InControlledShutdown != 0 {
		e.unsupported(r.name(), "InControlledShutdown")
	}
	if e.version >= 2 {
		if len(r.LogDirs) > 0 {
			tags = append(tags, e.tagged(2, func(e *encoder) { e.uuids(r.LogDirs, false) }))
		}
	} else if len(r.LogDirs) > 0 {
		e.unsupported(r.name(), "LogDirs")
	}
	e.tags(tags, r.UnknownTags)
}

func (r *BrokerRegistrationChangeRecord) readBody(d *decoder) {
	*r = BrokerRegistrationChangeRecord{}
	r.BrokerID = d.int32()
	r.BrokerEpoch = d.int64()
	r.UnknownTags = d.tags(func(key uint32, d *decoder) bool {
		switch {
		case key == 0:
			r.Fenced = d.int8()
		case key == 1 && d.version >= 1:
			r.InControlledShutdown = d.int8()
		case key == 2 && d.version >= 2:
			r.LogDirs = d.uuids("logDirs", false)
		default:
			return false
		}
		return true
	})
}

// FenceBrokerRecord (api key 7, v0) fences a broker. Kafka writes
// BrokerRegistrationChangeRecord instead from metadata.version 3.3-IV3 on,
// and still reads this one.
type FenceBrokerRecord struct {
	ID          int32 // Id: the broker id
	Epoch       int64 // Epoch: the broker epoch
	UnknownTags []Tag
}

func (*FenceBrokerRecord) Key() APIKey       { return KeyFenceBroker }
func (*FenceBrokerRecord) MaxVersion() int16 { return 0 }
func (*FenceBrokerRecord) name() string      { return "FenceBrokerRecord" }

func (r *FenceBrokerRecord) appendBody(e *encoder) {
	e.int32(r.ID)
	e.int64(r.Epoch)
	e.tags(nil, r.UnknownTags)
}

func (r *FenceBrokerRecord) readBody(d *decoder) {
	*r = FenceBrokerRecord{}
	r.ID = d.int32()
	r.Epoch = d.int64()
	r.UnknownTags = d.tags(nil)
}

// UnfenceBrokerRecord (api key 8, v0) unfences a broker.
type UnfenceBrokerRecord struct {
	ID          int32 // Id: the broker id
	Epoch       int64 // Epoch: the broker epoch
	UnknownTags []Tag
}

func (*UnfenceBrokerRecord) Key() APIKey       { return KeyUnfenceBroker }
func (*UnfenceBrokerRecord) MaxVersion() int16 { return 0 }
func (*UnfenceBrokerRecord) name() string      { return "UnfenceBrokerRecord" }

func (r *UnfenceBrokerRecord) appendBody(e *encoder) {
	e.int32(r.ID)
	e.int64(r.Epoch)
	e.tags(nil, r.UnknownTags)
}

func (r *UnfenceBrokerRecord) readBody(d *decoder) {
	*r = UnfenceBrokerRecord{}
	r.ID = d.int32()
	r.Epoch = d.int64()
	r.UnknownTags = d.tags(nil)
}

// RegisterControllerRecord (api key 27, v0) registers a controller (KIP-919).
type RegisterControllerRecord struct {
	ControllerID     int32      // ControllerId
	IncarnationID    Uuid       // IncarnationId
	ZkMigrationReady bool       // ZkMigrationReady
	EndPoints        []Endpoint // EndPoints
	Features         []Feature  // Features
	UnknownTags      []Tag
}

func (*RegisterControllerRecord) Key() APIKey       { return KeyRegisterController }
func (*RegisterControllerRecord) MaxVersion() int16 { return 0 }
func (*RegisterControllerRecord) name() string      { return "RegisterControllerRecord" }

func (r *RegisterControllerRecord) appendBody(e *encoder) {
	e.int32(r.ControllerID)
	e.uuid(r.IncarnationID)
	e.bool(r.ZkMigrationReady)
	appendEndpoints(e, r.EndPoints)
	appendFeatures(e, r.Features)
	e.tags(nil, r.UnknownTags)
}

func (r *RegisterControllerRecord) readBody(d *decoder) {
	*r = RegisterControllerRecord{}
	r.ControllerID = d.int32()
	r.IncarnationID = d.uuid()
	r.ZkMigrationReady = d.bool()
	r.EndPoints = readEndpoints(d)
	r.Features = readFeatures(d)
	r.UnknownTags = d.tags(nil)
}
