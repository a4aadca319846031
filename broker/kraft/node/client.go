package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kafkawire"
	"github.com/osprey-kafka/osprey/broker/quorum"
)

// maxResponseFrame bounds a response frame read from a controller.
const maxResponseFrame = 100 << 20

// errNoLeader is the retryable error of a request made while no quorum leader is known.
var errNoLeader = errors.New("no quorum leader known")

// wireConn is one connection to another node's CONTROLLER listener.
type wireConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
}

// connPool keeps idle connections to the other nodes' listeners; a connection is used by one
// request at a time and closed after any error.
type connPool struct {
	mu     sync.Mutex // guards idle and closed
	idle   map[string][]*wireConn
	closed bool
}

func (p *connPool) get(addr string) *wireConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.idle[addr]
	if len(cs) == 0 {
		return nil
	}
	c := cs[len(cs)-1]
	p.idle[addr] = cs[:len(cs)-1]
	return c
}

func (p *connPool) put(c *wireConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle[c.addr]) >= 2 {
		c.c.Close()
		return
	}
	p.idle[c.addr] = append(p.idle[c.addr], c)
}

func (p *connPool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, cs := range p.idle {
		for _, c := range cs {
			c.c.Close()
		}
	}
	p.idle = nil
}

func (n *Node) nextCorrelation() int32 {
	n.corr.Lock()
	defer n.corr.Unlock()
	n.lastCorr++
	return n.lastCorr
}

// roundTrip sends req to addr and reads its answer, within ctx and RequestTimeout.
func (n *Node) roundTrip(ctx context.Context, addr string, req kmsg.Request) (kmsg.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	c := n.pool.get(addr)
	if c == nil {
		nc, err := n.dial(ctx, addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		c = &wireConn{addr: addr, c: nc, br: bufio.NewReader(nc)}
	}
	// A context that ends closes the exchange at once; the deadline covers the rest.
	stop := context.AfterFunc(ctx, func() { c.c.SetDeadline(time.Now()) })
	defer stop()
	deadline, _ := ctx.Deadline()
	resp, err := c.exchange(deadline, req, n.nextCorrelation(), n.cfg.NodeID)
	if err != nil {
		c.c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if stop() {
		n.pool.put(c)
	} else {
		c.c.Close()
	}
	return resp, nil
}

// dial connects to another node's CONTROLLER listener with the listener's protocol and
// credentials (Config.Security).
func (n *Node) dial(ctx context.Context, addr string) (net.Conn, error) {
	if n.cfg.Security.Dial != nil {
		return n.cfg.Security.Dial(ctx, addr)
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return d.DialContext(ctx, "tcp", addr)
}

func (c *wireConn) exchange(deadline time.Time, req kmsg.Request, corr, self int32) (kmsg.Response, error) {
	if err := c.c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("osprey-node-" + strconv.Itoa(int(self))))
	if _, err := c.c.Write(f.AppendRequest(nil, req, corr)); err != nil {
		return nil, fmt.Errorf("write to %s: %w", c.addr, err)
	}
	frame, err := kafkawire.ReadFrame(c.br, kafkawire.MinResponseFrame, maxResponseFrame)
	if err != nil {
		return nil, fmt.Errorf("read from %s: %w", c.addr, err)
	}
	return kafkawire.ParseResponse(frame, req, corr)
}

// ControllerRequest sends req to the active controller and returns its answer: in process when
// this node leads the quorum, else on the wire to the quorum leader's CONTROLLER listener. A
// NOT_CONTROLLER answer, an unknown leader or a network error is retried with a growing pause
// (up to 1 s) until ctx ends. req goes at its own version (kmsg's constructors leave it at 0:
// set the version whose fields are filled), and the answer comes at that version. A
// StateMachine's failure is returned at once as an error in process, and as an answer with
// UNKNOWN_SERVER_ERROR in its error fields from another node.
func (n *Node) ControllerRequest(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	max, ok := controllerAPIs[req.Key()]
	if !ok {
		return nil, fmt.Errorf("node: api key %d is not a controller API", req.Key())
	}
	if v := req.GetVersion(); v < 0 || v > max {
		return nil, fmt.Errorf("node: %s version %d is not served (0 to %d)", kmsg.NameForKey(req.Key()), v, max)
	}
	return retry(ctx, n, func() (kmsg.Response, error) {
		v := n.quorumView()
		switch {
		case v.leader < 0:
			return nil, errNoLeader
		case v.leader == n.cfg.NodeID:
			return n.local(ctx, req)
		}
		addr := n.nodeAddr(v.leader)
		if addr == "" {
			return nil, errNoLeader
		}
		resp, err := n.roundTrip(ctx, addr, req)
		if err == nil && isNotController(resp) {
			return nil, fmt.Errorf("node %d answered %w", v.leader, kerr.NotController)
		}
		return resp, err
	})
}

// retry calls try until it succeeds, returns a handleError, or ctx or the node ends.
func retry(ctx context.Context, n *Node, try func() (kmsg.Response, error)) (kmsg.Response, error) {
	pause := 10 * time.Millisecond
	for {
		resp, err := try()
		if err == nil && isNotController(resp) {
			err = kerr.NotController
		}
		if err == nil {
			return resp, nil
		}
		var he *handleError
		if errors.As(err, &he) || errors.Is(err, ErrClosed) {
			return nil, err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("node: no answer from the active controller: %w (last: %v)", ctx.Err(), err)
		case <-n.ctx.Done():
			t.Stop()
			return nil, ErrClosed
		case <-t.C:
		}
		pause = min(2*pause, time.Second)
	}
}

// DescribeQuorum asks the quorum leader (this node, or the leader's listener) for
// DescribeQuorum v2 of the metadata partition, retrying as ControllerRequest does while no
// leader answers.
func (n *Node) DescribeQuorum(ctx context.Context) (*kmsg.DescribeQuorumResponse, error) {
	resp, err := retry(ctx, n, func() (kmsg.Response, error) {
		req := describeQuorumRequest()
		v := n.quorumView()
		var resp *kmsg.DescribeQuorumResponse
		switch {
		case v.leader < 0:
			return nil, errNoLeader
		case v.leader == n.cfg.NodeID:
			if err := n.srv.Do(ctx, func(q *quorum.Node) { resp = q.Describe(req) }); err != nil {
				return nil, err
			}
		default:
			addr := n.nodeAddr(v.leader)
			if addr == "" {
				return nil, errNoLeader
			}
			r, err := n.roundTrip(ctx, addr, req)
			if err != nil {
				return nil, err
			}
			resp = r.(*kmsg.DescribeQuorumResponse)
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return nil, fmt.Errorf("DescribeQuorum answer from node %d has no partition", v.leader)
		}
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
			return nil, fmt.Errorf("DescribeQuorum answer from node %d: %w", v.leader, kerr.ErrorForCode(code))
		}
		return resp, nil
	})
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.DescribeQuorumResponse), nil
}

func describeQuorumRequest() *kmsg.DescribeQuorumRequest {
	req := kmsg.NewPtrDescribeQuorumRequest()
	req.Version = 2
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = quorum.MetadataTopic
	rt.Partitions = append(rt.Partitions, kmsg.NewDescribeQuorumRequestTopicPartition())
	req.Topics = append(req.Topics, rt)
	return req
}

// QuorumRequest sends a voter change (AddRaftVoter, RemoveRaftVoter or UpdateRaftVoter) to the
// quorum leader's listener (this node's own when it leads) and returns its answer. An unknown
// leader, a network error or a NOT_LEADER_OR_FOLLOWER answer (the leader moved) is retried as
// ControllerRequest retries until ctx ends; any other answer, errors included, is returned.
func (n *Node) QuorumRequest(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	switch kmsg.Key(req.Key()) {
	case kmsg.AddRaftVoter, kmsg.RemoveRaftVoter, kmsg.UpdateRaftVoter:
	default:
		return nil, fmt.Errorf("node: api key %d is not a voter change", req.Key())
	}
	return retry(ctx, n, func() (kmsg.Response, error) {
		v := n.quorumView()
		addr := n.nodeAddr(v.leader)
		if v.leader == n.cfg.NodeID {
			addr = n.srv.Addr().String()
		}
		if v.leader < 0 || addr == "" {
			return nil, errNoLeader
		}
		resp, err := n.roundTrip(ctx, addr, req)
		if err != nil {
			return nil, err
		}
		if code := voterChangeError(resp); code == kerr.NotLeaderForPartition.Code {
			return nil, fmt.Errorf("node %d answered %w", v.leader, kerr.NotLeaderForPartition)
		}
		return resp, nil
	})
}

// voterChangeError is the error code of a voter change's answer.
func voterChangeError(resp kmsg.Response) int16 {
	switch r := resp.(type) {
	case *kmsg.AddRaftVoterResponse:
		return r.ErrorCode
	case *kmsg.RemoveRaftVoterResponse:
		return r.ErrorCode
	case *kmsg.UpdateRaftVoterResponse:
		return r.ErrorCode
	}
	return 0
}
