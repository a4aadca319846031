package controller

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// regError is a refused registration: the code and Kafka's message (the
// BrokerRegistration response has no message field; it goes to the log).
type regError struct {
	err *kerr.Error
	msg string
}

// registerBroker answers BrokerRegistration (v0-4) as Kafka's
// ClusterControlManager.registerBroker does. A new incarnation gets a new
// broker epoch and starts fenced; the same incarnation registering again
// keeps its epoch and state (a record is written only when its listeners,
// features, rack or directories changed).
func (c *Controller) registerBroker(now time.Time, b *batch, req *kmsg.BrokerRegistrationRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.BrokerRegistrationResponse)
	resp.BrokerEpoch = -1
	rec, rerr := c.registrationRecord(now, b.image(), req)
	if rerr != nil {
		c.log.Info("broker registration refused", "broker", req.BrokerID, "err", rerr.err.Message, "msg", rerr.msg)
		resp.ErrorCode = rerr.err.Code
		return resp
	}
	img := b.image()
	existing, had := img.Broker(req.BrokerID)
	newIncarnation := !had || existing.IncarnationID != rec.IncarnationID
	switch {
	case newIncarnation:
		c.maxEpoch = max(c.maxEpoch, maxBrokerEpoch(img)) + 1
		rec.BrokerEpoch = c.maxEpoch
		rec.Fenced = true
		if had && !existing.Fenced {
			// The previous incarnation never fenced (its session had not
			// been noticed as expired): take it out of ISRs and leadership
			// first, so no partition is led by a fenced broker.
			c.moveOff(b, req.BrokerID, 0)
		}
		c.log.Info("broker registered", "broker", req.BrokerID, "epoch", rec.BrokerEpoch, "new", !had)
	default:
		rec.BrokerEpoch = existing.Epoch
		rec.Fenced = existing.Fenced
		rec.InControlledShutdown = existing.InControlledShutdown
	}
	if newIncarnation || !sameRegistration(existing, rec) {
		b.add(rec, registerBrokerVersion(b.mv))
	}
	c.sessions[req.BrokerID] = &session{epoch: rec.BrokerEpoch, lastSeen: now}
	resp.BrokerEpoch = rec.BrokerEpoch
	return resp
}

// registrationRecord checks a registration and makes its record (epoch and
// fencing left to the caller).
func (c *Controller) registrationRecord(now time.Time, img image.Image, req *kmsg.BrokerRegistrationRequest) (*metadata.RegisterBrokerRecord, *regError) {
	if c.cfg.ClusterID != "" && req.ClusterID != c.cfg.ClusterID {
		return nil, &regError{kerr.InconsistentClusterID, fmt.Sprintf("Expected cluster ID %s, but got cluster ID %s", c.cfg.ClusterID, req.ClusterID)}
	}
	if existing, ok := img.Broker(req.BrokerID); ok && c.hasValidSession(existing, now) &&
		existing.IncarnationID != metadata.Uuid(req.IncarnationID) {
		return nil, &regError{kerr.DuplicateBrokerRegistration, "Another broker is registered with that broker id."}
	}
	if req.IsMigratingZkBroker {
		return nil, &regError{kerr.BrokerIDNotRegistered, "Controller does not support registering ZK brokers."}
	}
	rec := &metadata.RegisterBrokerRecord{BrokerID: req.BrokerID, IncarnationID: req.IncarnationID, Rack: req.Rack}
	if directoriesSupported(img.MetadataVersion()) {
		if err := checkLogDirs(img, req); err != nil {
			return nil, err
		}
		for _, d := range req.LogDirs {
			rec.LogDirs = append(rec.LogDirs, d)
		}
	}
	for _, l := range req.Listeners {
		rec.EndPoints = append(rec.EndPoints, metadata.Endpoint{Name: l.Name, Host: l.Host, Port: l.Port, SecurityProtocol: l.SecurityProtocol})
	}
	features, err := registrationFeatures(img, req.Features)
	if err != nil {
		return nil, err
	}
	rec.Features = features
	return rec, nil
}

// checkLogDirs applies Kafka's directory rules (KIP-858) from 3.7-IV2.
func checkLogDirs(img image.Image, req *kmsg.BrokerRegistrationRequest) *regError {
	if len(req.LogDirs) == 0 {
		return &regError{kerr.InvalidRegistration, "No directories specified in request"}
	}
	seen := map[metadata.Uuid]bool{}
	for _, d := range req.LogDirs {
		u := metadata.Uuid(d)
		if metadata.IsReservedDirectoryID(u) {
			return &regError{kerr.InvalidRegistration, "Reserved directory ID in request"}
		}
		if seen[u] {
			return &regError{kerr.InvalidRegistration, "Duplicate directory ID in request"}
		}
		seen[u] = true
	}
	for _, br := range img.Brokers() {
		if br.ID == req.BrokerID {
			continue
		}
		for _, d := range br.LogDirs {
			if seen[d] {
				return &regError{kerr.InvalidRegistration, fmt.Sprintf("Broker %d is already registered with directory %s", br.ID, d)}
			}
		}
	}
	return nil
}

// registrationFeatures checks that the broker supports every finalized
// feature level (Kafka's processRegistrationFeature): a broker naming no
// metadata.version range supports only level 1, and one naming no range for
// another finalized feature supports only level 0.
func registrationFeatures(img image.Image, fs []kmsg.BrokerRegistrationRequestFeature) ([]metadata.Feature, *regError) {
	finalized := img.FinalizedFeatures()
	check := func(name string, lo, hi int16) *regError {
		level, ok := finalized[name]
		if !ok && name == image.MetadataVersionFeature {
			level = registrationFeatureMVDefault
		}
		if level < lo || level > hi {
			return &regError{kerr.UnsupportedVersion, fmt.Sprintf("Unable to register because the broker does not support finalized version %d of %s. The broker wants a version between %d and %d, inclusive.", level, name, lo, hi)}
		}
		return nil
	}
	var out []metadata.Feature
	named := map[string]bool{}
	for _, f := range fs {
		if err := check(f.Name, f.MinSupportedVersion, f.MaxSupportedVersion); err != nil {
			return nil, err
		}
		named[f.Name] = true
		out = append(out, metadata.Feature{Name: f.Name, MinSupportedVersion: f.MinSupportedVersion, MaxSupportedVersion: f.MaxSupportedVersion})
	}
	if !named[image.MetadataVersionFeature] {
		if err := check(image.MetadataVersionFeature, registrationFeatureMVDefault, registrationFeatureMVDefault); err != nil {
			return nil, err
		}
		out = append(out, metadata.Feature{Name: image.MetadataVersionFeature, MinSupportedVersion: registrationFeatureMVDefault, MaxSupportedVersion: registrationFeatureMVDefault})
	}
	names := make([]string, 0, len(finalized))
	for name := range finalized {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !named[name] && name != image.MetadataVersionFeature && finalized[name] != 0 {
			if err := check(name, 0, 0); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func maxBrokerEpoch(img image.Image) int64 {
	var m int64
	for _, br := range img.Brokers() {
		m = max(m, br.Epoch)
	}
	return m
}

// sameRegistration reports whether rec would leave existing as it is.
func sameRegistration(existing image.Broker, rec *metadata.RegisterBrokerRecord) bool {
	d := image.NewDelta(image.Empty())
	if err := d.Replay(rec); err != nil {
		return false
	}
	next, _ := d.Apply().Broker(rec.BrokerID)
	return reflect.DeepEqual(next, existing)
}

// brokerState is the state Kafka's BrokerHeartbeatManager derives.
type brokerState int

const (
	stateFenced brokerState = iota
	stateUnfenced
	stateControlledShutdown
	stateShutdownNow
)

func currentState(br image.Broker) brokerState {
	switch {
	case br.Fenced:
		return stateFenced
	case br.InControlledShutdown:
		return stateControlledShutdown
	}
	return stateUnfenced
}

// leadsAny reports whether broker leads a partition.
func leadsAny(img image.Image, broker int32) bool {
	leads := false
	forEachPartition(img, func(_ image.Topic, p image.Partition) bool {
		leads = p.Leader == broker
		return !leads
	})
	return leads
}

// nextState is Kafka's BrokerHeartbeatManager.calculateNextBrokerState.
// Kafka unfences a broker once it has replayed its own registration record
// and lets one in controlled shutdown go once every active broker has
// replayed past the offset where it began; this controller knows no offsets
// (records reach it before they have one), so a broker that reports any
// replayed offset (CurrentMetadataOffset >= 0) counts as caught up, and
// controlled shutdown ends as soon as the broker leads nothing.
func nextState(img image.Image, br image.Broker, req *kmsg.BrokerHeartbeatRequest) brokerState {
	cur := currentState(br)
	switch cur {
	case stateFenced:
		switch {
		case req.WantShutdown:
			return stateShutdownNow
		case !req.WantFence && caughtUp(req):
			return stateUnfenced
		}
		return stateFenced
	case stateUnfenced:
		switch {
		case req.WantFence && req.WantShutdown:
			return stateShutdownNow
		case req.WantFence:
			return stateFenced
		case req.WantShutdown && leadsAny(img, br.ID):
			return stateControlledShutdown
		case req.WantShutdown:
			return stateShutdownNow
		}
		return stateUnfenced
	case stateControlledShutdown:
		if leadsAny(img, br.ID) {
			return stateControlledShutdown
		}
		return stateShutdownNow
	}
	return stateShutdownNow
}

func caughtUp(req *kmsg.BrokerHeartbeatRequest) bool { return req.CurrentMetadataOffset >= 0 }

// heartbeat answers BrokerHeartbeat (v0-1) as Kafka's
// ReplicationControlManager.processBrokerHeartbeat does.
func (c *Controller) heartbeat(now time.Time, b *batch, req *kmsg.BrokerHeartbeatRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.BrokerHeartbeatResponse)
	resp.IsFenced = true
	img := b.image()
	br, ok := img.Broker(req.BrokerID)
	if !ok || br.Epoch != req.BrokerEpoch {
		resp.ErrorCode = kerr.StaleBrokerEpoch.Code
		return resp
	}
	cur, next := currentState(br), nextState(img, br, req)
	if cur != next {
		switch next {
		case stateFenced, stateShutdownNow:
			c.fence(b, br, 0)
		case stateUnfenced:
			c.unfence(b, br)
		case stateControlledShutdown:
			c.enterControlledShutdown(b, br)
		}
	}
	c.session(br.ID, br.Epoch, now).lastSeen = now
	resp.IsCaughtUp = caughtUp(req)
	resp.IsFenced = next == stateFenced || next == stateShutdownNow
	resp.ShouldShutdown = next == stateShutdownNow
	return resp
}

// fence writes the ISR and leader changes that take br out of every
// partition, then fences it (Kafka's handleBrokerFenced). With a limit it may
// stop before the fence; it reports whether br was fenced.
func (c *Controller) fence(b *batch, br image.Broker, limit int) bool {
	if !c.moveOff(b, br.ID, limit) {
		return false
	}
	if br.Fenced {
		return true
	}
	if b.mv >= mv33IV2 {
		b.add(&metadata.BrokerRegistrationChangeRecord{BrokerID: br.ID, BrokerEpoch: br.Epoch, Fenced: metadata.FenceChangeFence}, 0)
	} else {
		b.add(&metadata.FenceBrokerRecord{ID: br.ID, Epoch: br.Epoch}, 0)
	}
	return true
}

// unfence unfences br and elects it where partitions have no leader (Kafka's
// handleBrokerUnfenced).
func (c *Controller) unfence(b *batch, br image.Broker) {
	if b.mv >= mv33IV2 {
		b.add(&metadata.BrokerRegistrationChangeRecord{BrokerID: br.ID, BrokerEpoch: br.Epoch, Fenced: metadata.FenceChangeUnfence}, 0)
	} else {
		b.add(&metadata.UnfenceBrokerRecord{ID: br.ID, Epoch: br.Epoch}, 0)
	}
	c.log.Info("broker unfenced", "broker", br.ID, "epoch", br.Epoch)
	c.electFor(b, br.ID)
}

// enterControlledShutdown marks br in controlled shutdown and moves it out of
// every ISR and leadership (Kafka's handleBrokerInControlledShutdown).
func (c *Controller) enterControlledShutdown(b *batch, br image.Broker) {
	if b.mv >= image.MetadataVersion33IV3 && !br.InControlledShutdown {
		b.add(&metadata.BrokerRegistrationChangeRecord{BrokerID: br.ID, BrokerEpoch: br.Epoch, InControlledShutdown: 1}, 1)
	}
	c.log.Info("broker in controlled shutdown", "broker", br.ID)
	c.moveOff(b, br.ID, 0)
}

// unregisterBroker answers UnregisterBroker: the broker leaves every ISR and
// leadership, then its registration goes.
func (c *Controller) unregisterBroker(b *batch, req *kmsg.UnregisterBrokerRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.UnregisterBrokerResponse)
	br, ok := b.image().Broker(req.BrokerID)
	if !ok {
		resp.ErrorCode = kerr.BrokerIDNotRegistered.Code
		resp.ErrorMessage = strPtr(fmt.Sprintf("Broker ID %d is not currently registered", req.BrokerID))
		return resp
	}
	c.moveOff(b, br.ID, 0)
	b.add(&metadata.UnregisterBrokerRecord{BrokerID: br.ID, BrokerEpoch: br.Epoch}, 0)
	delete(c.sessions, br.ID)
	return resp
}

// registerController answers ControllerRegistration (KIP-919) with a
// RegisterControllerRecord; a registration identical to the one in the image
// writes nothing.
func (c *Controller) registerController(b *batch, req *kmsg.ControllerRegistrationRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ControllerRegistrationResponse)
	if b.mv < image.MetadataVersion37IV0 {
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		resp.ErrorMessage = strPtr("The current MetadataVersion is too old to support controller registrations.")
		return resp
	}
	rec := &metadata.RegisterControllerRecord{ControllerID: req.ControllerID, IncarnationID: req.IncarnationID}
	for _, l := range req.Listeners {
		rec.EndPoints = append(rec.EndPoints, metadata.Endpoint{Name: l.Name, Host: l.Host, Port: l.Port, SecurityProtocol: l.SecurityProtocol})
	}
	for _, f := range req.Features {
		rec.Features = append(rec.Features, metadata.Feature{Name: f.Name, MinSupportedVersion: f.MinSupportedVersion, MaxSupportedVersion: f.MaxSupportedVersion})
	}
	if cur, ok := b.image().Controller(req.ControllerID); ok {
		d := image.NewDelta(image.Empty())
		if d.Replay(rec) == nil {
			if next, _ := d.Apply().Controller(req.ControllerID); reflect.DeepEqual(next, cur) {
				return resp
			}
		}
	}
	b.add(rec, 0)
	return resp
}

// fenceStaleBrokers fences every unfenced broker whose session expired.
func (c *Controller) fenceStaleBrokers(now time.Time, b *batch) {
	for _, br := range b.image().Brokers() {
		if br.Fenced || c.hasValidSession(br, now) {
			continue
		}
		if c.full(b) {
			return
		}
		if c.fence(b, br, c.maxTickRecords) {
			c.log.Info("broker fenced: its session timed out", "broker", br.ID, "epoch", br.Epoch,
				"session_timeout", c.cfg.SessionTimeout)
		}
	}
}
