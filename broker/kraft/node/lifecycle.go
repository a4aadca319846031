package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// BrokerRegistration is what a broker registers with the controller (KIP-631).
type BrokerRegistration struct {
	// Listeners are the broker's advertised listeners.
	Listeners []image.Listener
	Rack      *string
	// LogDirs are the directory ids of the broker's online log directories (KIP-858), which
	// a controller at 3.7-IV2 or later requires; nil: the metadata directory's directory.id.
	LogDirs []metadata.Uuid
	// Features are the feature ranges the broker supports; nil: SupportedFeatures().
	Features []image.FeatureRange
	// HeartbeatInterval is broker.heartbeat.interval.ms (default 2 s).
	HeartbeatInterval time.Duration
}

// SupportedFeatures are the feature ranges this build supports: metadata.version from the
// lowest level Kafka 4.0 runs (3.3-IV3) to the latest production level, as a Kafka 4.0 node
// reports it, and each feature the bootstrap package knows from 0 to its highest level.
func SupportedFeatures() []image.FeatureRange {
	out := []image.FeatureRange{{Name: bootstrap.MetadataVersionFeature, MinLevel: bootstrap.MinimumVersion.Level, MaxLevel: bootstrap.LatestProduction.Level}}
	for _, f := range bootstrap.Features {
		out = append(out, image.FeatureRange{Name: f.Name, MinLevel: 0, MaxLevel: f.Levels[len(f.Levels)-1].Level})
	}
	return out
}

// Lifecycle is a broker's registration with the active controller: it registers with a fresh
// incarnation id, then heartbeats every HeartbeatInterval with the offset of the last record
// the node replayed, asking to be unfenced once it has replayed up to the high watermark it
// learned when the registration was answered.
type Lifecycle struct {
	n           *Node
	reg         BrokerRegistration
	incarnation metadata.Uuid
	ctx         context.Context
	cancel      context.CancelFunc
	done        chan struct{}
	wake        chan struct{} // cap 1: heartbeat now

	mu             sync.Mutex // guards the fields below
	epoch          int64      // -1 until registered
	fenced         bool
	wantShutdown   bool
	shouldShutdown bool
	changed        chan struct{} // closed and replaced when the fields above change
}

// StartBrokerLifecycle starts the broker lifecycle of this node (a node with the broker role).
// Close (or the node's Close) stops it.
func (n *Node) StartBrokerLifecycle(reg BrokerRegistration) (*Lifecycle, error) {
	if !n.cfg.Broker {
		return nil, errors.New("node: a broker lifecycle needs the broker role")
	}
	if reg.HeartbeatInterval <= 0 {
		reg.HeartbeatInterval = 2 * time.Second
	}
	if reg.Features == nil {
		reg.Features = SupportedFeatures()
	}
	if reg.LogDirs == nil && !n.dirID.IsZero() {
		reg.LogDirs = []metadata.Uuid{n.dirID}
	}
	inc, err := metadata.RandomUuid(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("node: incarnation id: %w", err)
	}
	l := &Lifecycle{
		n: n, reg: reg, incarnation: inc, epoch: -1, fenced: true,
		done: make(chan struct{}), wake: make(chan struct{}, 1), changed: make(chan struct{}),
	}
	l.ctx, l.cancel = context.WithCancel(n.ctx)
	n.wg.Add(1)
	go l.run()
	return l, nil
}

// IncarnationID is this start's incarnation id.
func (l *Lifecycle) IncarnationID() metadata.Uuid { return l.incarnation }

// Epoch is the broker epoch the controller gave the registration, -1 before it answered.
func (l *Lifecycle) Epoch() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epoch
}

// Fenced is the last heartbeat answer's fenced state (true until one says otherwise).
func (l *Lifecycle) Fenced() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fenced
}

// ControlledShutdown asks the controller, in every heartbeat from now on, to move leadership
// off this broker, and returns once it answers that the broker may shut down, or with ctx's
// error.
func (l *Lifecycle) ControlledShutdown(ctx context.Context) error {
	l.mu.Lock()
	l.wantShutdown = true
	l.mu.Unlock()
	notify(l.wake)
	for {
		l.mu.Lock()
		ok, ch := l.shouldShutdown, l.changed
		l.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("node: controlled shutdown of broker %d: %w", l.n.cfg.NodeID, ctx.Err())
		case <-l.done:
			return fmt.Errorf("node: controlled shutdown of broker %d: %w", l.n.cfg.NodeID, ErrClosed)
		}
	}
}

// Close stops the registration and heartbeats (nothing is sent to the controller) and waits
// for the lifecycle's goroutine.
func (l *Lifecycle) Close() {
	l.cancel()
	<-l.done
}

func (l *Lifecycle) update(f func()) {
	l.mu.Lock()
	f()
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *Lifecycle) run() {
	defer l.n.wg.Done()
	defer close(l.done)
	var target int64 // the high watermark to replay before asking to be unfenced
	for l.ctx.Err() == nil {
		if l.Epoch() < 0 {
			if !l.register() {
				return
			}
			target = l.n.quorumView().hw
			continue
		}
		l.heartbeat(target)
		t := time.NewTimer(l.reg.HeartbeatInterval)
		select {
		case <-l.ctx.Done():
		case <-l.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// register sends BrokerRegistration until it is answered without error; false when the
// lifecycle stopped first.
func (l *Lifecycle) register() bool {
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.Version = controllerAPIs[req.Key()]
	req.BrokerID = l.n.cfg.NodeID
	req.ClusterID = l.n.clusterID
	req.IncarnationID = l.incarnation
	for _, ln := range l.reg.Listeners {
		rl := kmsg.NewBrokerRegistrationRequestListener()
		rl.Name, rl.Host, rl.Port, rl.SecurityProtocol = ln.Name, ln.Host, ln.Port, ln.SecurityProtocol
		req.Listeners = append(req.Listeners, rl)
	}
	for _, f := range l.reg.Features {
		rf := kmsg.NewBrokerRegistrationRequestFeature()
		rf.Name, rf.MinSupportedVersion, rf.MaxSupportedVersion = f.Name, f.MinLevel, f.MaxLevel
		req.Features = append(req.Features, rf)
	}
	req.Rack = l.reg.Rack
	for _, d := range l.reg.LogDirs {
		req.LogDirs = append(req.LogDirs, d)
	}
	req.PreviousBrokerEpoch = -1
	for pause := 100 * time.Millisecond; ; pause = min(2*pause, 2*time.Second) {
		resp, err := l.n.ControllerRequest(l.ctx, req)
		if err == nil {
			r := resp.(*kmsg.BrokerRegistrationResponse)
			if r.ErrorCode == 0 {
				l.update(func() { l.epoch = r.BrokerEpoch })
				l.n.log.Info("broker registered", "epoch", r.BrokerEpoch, "incarnation", l.incarnation.String())
				return true
			}
			err = kerr.ErrorForCode(r.ErrorCode)
		}
		if l.ctx.Err() != nil {
			return false
		}
		l.n.log.Warn("broker registration refused; retrying", "err", err)
		t := time.NewTimer(pause)
		select {
		case <-l.ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// heartbeat sends one BrokerHeartbeat and takes its answer; an answer saying the registration
// is gone (a stale epoch, an unknown broker) makes the next round register again.
func (l *Lifecycle) heartbeat(target int64) {
	l.mu.Lock()
	epoch, wantShutdown := l.epoch, l.wantShutdown
	l.mu.Unlock()
	offset := l.n.Offset()
	req := kmsg.NewPtrBrokerHeartbeatRequest()
	req.Version = controllerAPIs[req.Key()]
	req.BrokerID = l.n.cfg.NodeID
	req.BrokerEpoch = epoch
	req.CurrentMetadataOffset = offset
	req.WantFence = offset+1 < target
	req.WantShutdown = wantShutdown
	ctx, cancel := context.WithTimeout(l.ctx, max(3*l.reg.HeartbeatInterval, 3*time.Second))
	defer cancel()
	resp, err := l.n.ControllerRequest(ctx, req)
	if err != nil {
		if l.ctx.Err() == nil {
			l.n.log.Warn("broker heartbeat not answered", "err", err)
		}
		return
	}
	r := resp.(*kmsg.BrokerHeartbeatResponse)
	switch r.ErrorCode {
	case 0:
		l.update(func() { l.fenced, l.shouldShutdown = r.IsFenced, r.ShouldShutdown })
	case kerr.StaleBrokerEpoch.Code, kerr.BrokerIDNotRegistered.Code:
		l.n.log.Warn("broker heartbeat refused; registering again", "err", kerr.ErrorForCode(r.ErrorCode))
		l.update(func() { l.epoch, l.fenced = -1, true })
	default:
		l.n.log.Warn("broker heartbeat refused", "err", kerr.ErrorForCode(r.ErrorCode))
	}
}
