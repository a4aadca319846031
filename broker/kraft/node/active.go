package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/quorum"
)

// ctrlRequest is a controller request handed to the controller goroutine; the answer goes to
// reply (buffered, one answer).
type ctrlRequest struct {
	req   kmsg.Request
	reply chan ctrlReply
}

type ctrlReply struct {
	resp kmsg.Response
	err  error
}

// handleError is a StateMachine's refusal of a request: not retried.
type handleError struct{ err error }

func (e *handleError) Error() string { return e.err.Error() }
func (e *handleError) Unwrap() error { return e.err }

// activeState is the controller goroutine's term as the active controller.
type activeState struct {
	epoch  int32 // the quorum epoch this node leads; 0 when it leads none
	start  int64 // offset of the epoch's first entry
	active bool  // StateMachine activated for this epoch
	// pending is the committed image plus every record issued in this term.
	pending image.Image
	last    int64 // offset of the last record issued in this term, -1 before one
	// lastWrite is when the term last appended records (or began).
	lastWrite time.Time
	waiting   []waiter
}

// waiter is an answer held until the committed image reaches offset.
type waiter struct {
	offset int64
	req    kmsg.Request
	resp   kmsg.Response
	reply  chan ctrlReply
}

// runController is the controller goroutine: it owns the StateMachine and the activeState.
func (n *Node) runController() {
	defer n.wg.Done()
	var a activeState
	t := time.NewTicker(n.cfg.ControllerTick)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			for _, w := range a.waiting {
				w.reply <- ctrlReply{err: ErrClosed}
			}
			return
		case <-n.ctrlWake:
			n.syncActive(&a)
		case <-t.C:
			n.tick(&a)
		case r := <-n.ctrlReqs:
			n.handle(&a, r)
		}
	}
}

// syncActive follows the quorum: it ends the term when this node stops leading, starts one
// (activating the StateMachine once the committed image reaches the epoch's first entry) when
// it leads, and answers the requests whose records are committed.
func (n *Node) syncActive(a *activeState) {
	v := n.quorumView()
	leading := v.state == quorum.Leader
	if !leading || v.epoch != a.epoch {
		if a.epoch != 0 {
			n.endTerm(a, "the quorum leadership moved")
		}
		if !leading {
			return
		}
		start, ok := n.epochStart(v.epoch)
		if !ok {
			return
		}
		*a = activeState{epoch: v.epoch, start: start, last: -1}
	}
	img, next := n.committed()
	if !a.active {
		if next <= a.start {
			return
		}
		n.activate(a, img)
		if !a.active {
			return
		}
	}
	for len(a.waiting) > 0 && a.waiting[0].offset < next {
		w := a.waiting[0]
		a.waiting = a.waiting[1:]
		w.reply <- ctrlReply{resp: w.resp}
	}
}

// activate starts the term on the committed image; a log without metadata.version gets the
// bootstrap records first, as Kafka's QuorumController writes them on a new cluster.
func (n *Node) activate(a *activeState, img image.Image) {
	a.active = true
	a.pending = img
	a.lastWrite = time.Now()
	n.cfg.StateMachine.Activate(time.Now(), img)
	n.log.Info("active controller", "epoch", a.epoch, "image_offset", a.start)
	if img.MetadataVersion() != 0 {
		return
	}
	recs := make([]image.VersionedRecord, len(n.boot.Records))
	for i, r := range n.boot.Records {
		recs[i] = image.VersionedRecord{Record: r}
	}
	if err := n.appendRecords(a, recs); err != nil {
		n.log.Error("bootstrap records not written", "source", n.boot.Source, "err", err)
		n.endTerm(a, "the bootstrap records were not written")
		return
	}
	n.log.Info("bootstrap metadata written", "source", n.boot.Source, "metadata_version", n.boot.MetadataVersion.String())
}

// epochStart is the offset of the first entry of epoch, which this node leads; false when it no
// longer leads it.
func (n *Node) epochStart(epoch int32) (int64, bool) {
	var start int64
	ok := false
	err := n.srv.Do(n.ctx, func(q *quorum.Node) {
		if q.State() == quorum.Leader && q.Epoch() == epoch {
			start, ok = q.Log().EndOffsetForEpoch(epoch-1).Offset, true
		}
	})
	return start, ok && err == nil
}

// endTerm answers every waiting request NOT_CONTROLLER and forgets the term: its records may
// still be committed by the next leader, or truncated, and the next term starts again from the
// committed image.
func (n *Node) endTerm(a *activeState, why string) {
	if a.active {
		n.log.Info("no longer the active controller", "epoch", a.epoch, "why", why, "waiting", len(a.waiting))
	}
	for _, w := range a.waiting {
		w.reply <- ctrlReply{resp: notControllerResponse(w.req)}
	}
	*a = activeState{last: -1}
}

func (n *Node) handle(a *activeState, r ctrlRequest) {
	n.syncActive(a)
	if !a.active {
		r.reply <- ctrlReply{resp: notControllerResponse(r.req)}
		return
	}
	recs, resp, err := n.cfg.StateMachine.Handle(time.Now(), a.pending, r.req)
	if err != nil {
		r.reply <- ctrlReply{err: &handleError{err}}
		return
	}
	if len(recs) > 0 {
		if err := n.appendRecords(a, recs); err != nil {
			if errors.Is(err, quorum.ErrNotLeader) {
				n.endTerm(a, "append refused")
				r.reply <- ctrlReply{resp: notControllerResponse(r.req)}
				return
			}
			r.reply <- ctrlReply{err: err}
			return
		}
	}
	// A request without records is answered once everything issued before it is committed, so
	// its answer never shows state a failover could still undo.
	a.waiting = append(a.waiting, waiter{offset: a.last, req: r.req, resp: resp, reply: r.reply})
	n.syncActive(a)
}

func (n *Node) tick(a *activeState) {
	n.syncActive(a)
	if !a.active {
		return
	}
	now := time.Now()
	recs := n.cfg.StateMachine.Tick(now, a.pending)
	if len(recs) == 0 && n.cfg.MaxIdleInterval > 0 && now.Sub(a.lastWrite) >= n.cfg.MaxIdleInterval {
		recs = []image.VersionedRecord{{Record: &metadata.NoOpRecord{}}}
	}
	if len(recs) == 0 {
		return
	}
	if err := n.appendRecords(a, recs); err != nil {
		n.log.Warn("controller tick records not written", "err", err)
		if errors.Is(err, quorum.ErrNotLeader) {
			n.endTerm(a, "append refused")
		}
	}
}

// appendRecords checks recs against the pending image, appends them in one quorum append (one
// entry each, in Kafka's record frame) and applies them to the pending image.
func (n *Node) appendRecords(a *activeState, recs []image.VersionedRecord) error {
	d := image.NewDelta(a.pending)
	data := make([][]byte, len(recs))
	for i, r := range recs {
		if err := d.Replay(r.Record); err != nil {
			return fmt.Errorf("node: the controller issued a record the image refuses (%T): %w", r.Record, err)
		}
		b, err := metadata.Marshal(r.Record, r.Version)
		if err != nil {
			return fmt.Errorf("node: encode %T v%d: %w", r.Record, r.Version, err)
		}
		data[i] = b
	}
	var first int64
	var aerr error
	err := n.srv.Do(n.ctx, func(q *quorum.Node) {
		if q.State() != quorum.Leader || q.Epoch() != a.epoch {
			aerr = quorum.ErrNotLeader
			return
		}
		first, aerr = q.Append(data...)
	})
	if err != nil {
		return fmt.Errorf("node: append: %w", err)
	}
	if aerr != nil {
		return fmt.Errorf("node: append: %w", aerr)
	}
	a.pending = d.Apply()
	a.last = first + int64(len(data)) - 1
	a.lastWrite = time.Now()
	return nil
}

// local hands req to this node's controller goroutine and waits for the answer; a node that is
// not a controller answers NOT_CONTROLLER.
func (n *Node) local(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	if !n.cfg.Controller {
		return notControllerResponse(req), nil
	}
	r := ctrlRequest{req: req, reply: make(chan ctrlReply, 1)}
	select {
	case n.ctrlReqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-n.ctx.Done():
		return nil, ErrClosed
	}
	select {
	case rep := <-r.reply:
		return rep.resp, rep.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-n.ctx.Done():
		return nil, ErrClosed
	}
}
