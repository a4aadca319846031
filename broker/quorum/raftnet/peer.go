package raftnet

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/quorum"
)

// peer is the client side towards one other node. Its connection is owned by its goroutine
// (runPeer); the queue is filled by Send on the driver goroutine.
type peer struct {
	id    int32
	addr  string
	queue chan queued

	conn net.Conn
	br   *bufio.Reader
}

// queued is an encoded request waiting to be sent.
type queued struct {
	frame       []byte
	key         int16
	version     int16
	correlation int32
	at          time.Time
}

// runPeer sends the peer's requests one at a time, each with a deadline, and hands the answers
// to the driver. A failed request closes the connection (the next one dials again) and is not
// retried here: the node sends again on its own timers, with its current state.
func (s *Server) runPeer(p *peer) {
	defer s.wg.Done()
	defer s.closePeerConn(p)
	for {
		var q queued
		select {
		case <-s.stop:
			return
		case q = <-p.queue:
		}
		if time.Since(q.at) > s.cfg.RequestTimeout {
			continue
		}
		resp, err := s.roundTrip(p, q)
		if err != nil {
			s.log.Debug("quorum request failed", "to", p.id, "addr", p.addr, "key", q.key, "err", err)
			s.closePeerConn(p)
			continue
		}
		msg := quorum.Message{From: p.id, To: s.id, Correlation: q.correlation, Response: resp}
		select {
		case s.inbox <- inbound{msg: msg}:
		case <-s.stop:
			return
		}
	}
}

func (s *Server) roundTrip(p *peer, q queued) (kmsg.Response, error) {
	if p.conn == nil {
		c, err := s.dial(p.addr)
		if err != nil {
			return nil, fmt.Errorf("dial: %w", err)
		}
		if !s.track(c) {
			c.Close()
			return nil, ErrStopped
		}
		p.conn, p.br = c, bufio.NewReader(c)
	}
	if err := p.conn.SetDeadline(time.Now().Add(s.cfg.RequestTimeout)); err != nil {
		return nil, err
	}
	if _, err := p.conn.Write(q.frame); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	frame, err := kafkawire.ReadFrame(p.br, kafkawire.MinResponseFrame, s.cfg.MaxFrameBytes)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	req := kmsg.RequestForKey(q.key)
	req.SetVersion(q.version)
	return kafkawire.ParseResponse(frame, req, q.correlation)
}

func (s *Server) closePeerConn(p *peer) {
	if p.conn != nil {
		s.untrack(p.conn)
		p.conn, p.br = nil, nil
	}
}

// dial connects to a peer's listener: through Config.Dial (TLS and SASL included) within the
// request timeout, else plain TCP within DialTimeout.
func (s *Server) dial(addr string) (net.Conn, error) {
	if s.cfg.Dial != nil {
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
		defer cancel()
		return s.cfg.Dial(ctx, addr)
	}
	d := net.Dialer{Timeout: s.cfg.DialTimeout}
	return d.DialContext(s.ctx, "tcp", addr)
}
