package node

import (
	"crypto/rand"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
)

// controllerRegistrationLevel is metadata.version 3.7-IV0, the first with RegisterControllerRecord:
// below it a controller does not register, as in Kafka.
const controllerRegistrationLevel = 15

// controllerEndpoints are the listeners a controller registers: Config.ControllerEndpoints, or
// one CONTROLLER endpoint at its voter address (with Security.Protocol).
func (n *Node) controllerEndpoints() []image.Listener {
	if n.cfg.ControllerEndpoints != nil {
		return n.cfg.ControllerEndpoints
	}
	for _, v := range n.cfg.Voters {
		if v.ID == n.cfg.NodeID {
			return []image.Listener{{Name: "CONTROLLER", Host: v.Host, Port: uint16(v.Port)}}
		}
	}
	// A controller of a dynamic quorum is in no configured voter list: it registers its
	// listeners in the voter set once it is a voter, else the address it listens on
	// (localhost for a wildcard address, as storage format --standalone names it).
	n.vmu.Lock()
	v, ok := n.voters.Get(n.cfg.NodeID)
	n.vmu.Unlock()
	if ok && len(v.Endpoints) > 0 {
		out := make([]image.Listener, len(v.Endpoints))
		for i, ep := range v.Endpoints {
			out[i] = image.Listener{Name: ep.Name, Host: ep.Host, Port: ep.Port}
		}
		return out
	}
	if n.cfg.ControllerListener == nil {
		return nil
	}
	a, ok := n.cfg.ControllerListener.Addr().(*net.TCPAddr)
	if !ok {
		return nil
	}
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "localhost"
	}
	return []image.Listener{{Name: "CONTROLLER", Host: host, Port: uint16(a.Port)}}
}

// runControllerRegistration registers this controller (KIP-919) with the active controller,
// with a new incarnation id per start, once the cluster's metadata.version allows it, and again
// whenever the image stops holding this incarnation's registration.
func (n *Node) runControllerRegistration() {
	defer n.wg.Done()
	inc, err := metadata.RandomUuid(rand.Reader)
	if err != nil {
		n.log.Error("controller registration: no incarnation id", "err", err)
		return
	}
	registered := func(img image.Image) bool {
		c, ok := img.Controller(n.cfg.NodeID)
		return ok && c.IncarnationID == inc
	}
	pause := 100 * time.Millisecond
	for {
		_, err := n.WaitFor(n.ctx, func(img image.Image) bool {
			return img.MetadataVersion() >= controllerRegistrationLevel && !registered(img)
		})
		if err != nil {
			return
		}
		resp, err := n.ControllerRequest(n.ctx, n.controllerRegistrationRequest(inc))
		if err == nil {
			if code := resp.(*kmsg.ControllerRegistrationResponse).ErrorCode; code != 0 {
				err = kerr.ErrorForCode(code)
			}
		}
		if err == nil {
			n.log.Info("controller registered", "incarnation", inc.String())
			if _, err := n.WaitFor(n.ctx, registered); err != nil {
				return
			}
			pause = 100 * time.Millisecond
			continue
		}
		if n.ctx.Err() != nil {
			return
		}
		n.log.Warn("controller registration refused; retrying", "err", err)
		t := time.NewTimer(pause)
		select {
		case <-n.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, 5*time.Second)
	}
}

func (n *Node) controllerRegistrationRequest(inc metadata.Uuid) *kmsg.ControllerRegistrationRequest {
	req := kmsg.NewPtrControllerRegistrationRequest()
	req.Version = controllerAPIs[req.Key()]
	req.ControllerID = n.cfg.NodeID
	req.IncarnationID = inc
	for _, l := range n.controllerEndpoints() {
		rl := kmsg.NewControllerRegistrationRequestListener()
		rl.Name, rl.Host, rl.Port, rl.SecurityProtocol = l.Name, l.Host, l.Port, l.SecurityProtocol
		if n.cfg.ControllerEndpoints == nil {
			rl.SecurityProtocol = n.cfg.Security.Protocol
		}
		req.Listeners = append(req.Listeners, rl)
	}
	for _, f := range SupportedFeatures() {
		rf := kmsg.NewControllerRegistrationRequestFeature()
		rf.Name, rf.MinSupportedVersion, rf.MaxSupportedVersion = f.Name, f.MinLevel, f.MaxLevel
		req.Features = append(req.Features, rf)
	}
	return req
}
