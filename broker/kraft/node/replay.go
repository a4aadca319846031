package node

import (
	"errors"
	"sync"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/quorum"
)

// errCaughtUp says the replay has every committed entry the log holds now.
var errCaughtUp = errors.New("replay caught up with the log")

// replayBatch bounds the entries read from the log in one driver call, so that a long replay
// (a restart) does not hold the quorum's driver for long; the log is read in chunks of about
// 1 MiB of batches, which a few thousand metadata records fill.
const replayBatch = 5000

// runReplay is the replay goroutine: whenever the high watermark moves past what it replayed,
// it reads the newly committed entries and publishes the next image.
func (n *Node) runReplay() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.replayWake:
		}
		for {
			hw := n.quorumView().hw
			_, next := n.committed()
			if next >= hw {
				break
			}
			if err := n.replayUpTo(next, hw); err != nil {
				if n.ctx.Err() == nil && !errors.Is(err, errCaughtUp) {
					n.log.Error("metadata log replay failed; retrying when the quorum moves", "offset", next, "err", err)
				}
				break
			}
		}
	}
}

// replayUpTo replays the committed entries from next (at most replayBatch of them, below hw
// and the log end: a follower may learn a high watermark before it has the entries) and
// publishes the image.
func (n *Node) replayUpTo(next, hw int64) error {
	var entries []quorum.Entry
	var rerr error
	var start int64
	err := n.srv.Do(n.ctx, func(q *quorum.Node) {
		start = q.Log().StartOffset()
		end := min(hw, q.HighWatermark(), q.Log().EndOffset())
		if end > next && next >= start {
			entries, rerr = q.Log().Read(next, int(min(end-next, replayBatch)))
		}
	})
	if err != nil {
		return err
	}
	if next < start {
		// The quorum restarted the log at a snapshot fetched from the leader.
		return n.loadSnapshotAt(start)
	}
	if rerr != nil {
		return rerr
	}
	if len(entries) == 0 {
		return errCaughtUp
	}
	base, _ := n.committed()
	d := image.NewDelta(base)
	for _, e := range entries {
		if e.Control {
			continue
		}
		rec, _, err := metadata.Unmarshal(e.Data)
		if err == nil {
			err = d.Replay(rec)
		}
		if err != nil {
			// Kafka's loader reports a record it cannot apply and goes on with the next one;
			// stopping here would wedge every later change behind it.
			n.log.Error("metadata record skipped", "offset", e.Offset, "err", err)
		}
	}
	img := n.publish(d, entries[len(entries)-1].Offset+1)
	n.replayed(img, entries)
	return nil
}

// publish makes d's image the node's image, queues it for every subscriber and wakes WaitFor
// and the controller goroutine.
func (n *Node) publish(d *image.Delta, next int64) image.Image {
	img := d.Apply()
	n.syncACLs(img, d)
	n.mu.Lock()
	prev := n.img
	n.img, n.next = img, next
	for s := range n.subs {
		s.push(event{prev: prev, next: img, delta: d})
	}
	close(n.changed)
	n.changed = make(chan struct{})
	n.mu.Unlock()
	notify(n.ctrlWake)
	return img
}

type event struct {
	prev, next image.Image
	delta      *image.Delta
}

// subscriber is one Watch callback with its own queue and goroutine, so that a slow callback
// holds up neither the replay nor the other subscribers.
type subscriber struct {
	fn   func(prev, next image.Image, d *image.Delta)
	mu   sync.Mutex // guards queue
	q    []event
	wake chan struct{} // cap 1
	stop chan struct{} // closed by cancel
	once sync.Once
}

func (s *subscriber) push(e event) {
	s.mu.Lock()
	s.q = append(s.q, e)
	s.mu.Unlock()
	notify(s.wake)
}

// Watch calls fn with every new committed image, in log order, on a goroutine of its own: first
// with (Empty, current image, a delta holding the current image's records), then with each
// image the replay publishes and the delta that made it. fn must not modify the delta, and
// must return: Close waits for a call in progress (so fn must not call Close either). cancel
// stops the calls (one already running finishes); Close stops them too.
func (n *Node) Watch(fn func(prev, next image.Image, d *image.Delta)) (cancel func()) {
	s := &subscriber{fn: fn, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	n.mu.Lock()
	cur := n.img
	d := image.NewDelta(image.Empty())
	if recs, err := cur.Records(); err != nil {
		n.log.Error("the first Watch delta is incomplete", "err", err)
	} else {
		for _, r := range recs {
			if err := d.Replay(r.Record); err != nil {
				n.log.Error("the first Watch delta is incomplete", "err", err)
			}
		}
	}
	s.q = append(s.q, event{prev: image.Empty(), next: cur, delta: d})
	notify(s.wake)
	n.subs[s] = struct{}{}
	n.mu.Unlock()
	n.wg.Add(1)
	go n.runSubscriber(s)
	return func() {
		s.once.Do(func() { close(s.stop) })
		n.mu.Lock()
		delete(n.subs, s)
		n.mu.Unlock()
	}
}

func (n *Node) runSubscriber(s *subscriber) {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-s.stop:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		q := s.q
		s.q = nil
		s.mu.Unlock()
		for _, e := range q {
			select {
			case <-s.stop:
				return
			case <-n.ctx.Done():
				return
			default:
			}
			s.fn(e.prev, e.next, e.delta)
		}
	}
}
