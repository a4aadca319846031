package raftnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka's framing, both directions: a 4-byte size, then a request header (api key, version,
// correlation id, client id, and tagged fields for flexible versions) and the body, or a response
// header (correlation id, and tagged fields for flexible versions) and the body.

// Request versions the client sends. Vote v2 carries PreVote (KIP-996); BeginQuorumEpoch and
// EndQuorumEpoch v1 are the flexible versions Kafka's raft client sends; Fetch keeps the version
// the node chose (it needs topic ids and ReplicaState).
var requestVersions = map[int16]int16{
	kmsg.Vote.Int16():             2,
	kmsg.BeginQuorumEpoch.Int16(): 1,
	kmsg.EndQuorumEpoch.Int16():   1,
	kmsg.Fetch.Int16():            16,
}

var errFrameSize = errors.New("frame size out of bounds")

// readFrame reads one size-prefixed frame. A size below 4 or above max is refused before
// anything is allocated.
func readFrame(r io.Reader, max int32) ([]byte, error) {
	var sz [4]byte
	if _, err := io.ReadFull(r, sz[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(sz[:]))
	if n < 4 || n > max {
		return nil, fmt.Errorf("%w: %d bytes (max %d)", errFrameSize, n, max)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("reading %d-byte frame: %w", n, err)
	}
	return buf, nil
}

// request is a decoded request frame.
type request struct {
	correlation int32
	clientID    string
	req         kmsg.Request
}

// requestHeader is a request frame's header, and the body that follows it.
type requestHeader struct {
	key, version int16
	correlation  int32
	clientID     string
	body         []byte
}

// parseRequestHeader decodes the header of a request frame for one of the keys the quorum
// serves. Any other key, or a version kmsg does not know, is an error: the connection is closed,
// as Kafka closes it for a request it cannot parse.
func parseRequestHeader(frame []byte) (requestHeader, error) {
	var h requestHeader
	if len(frame) < 10 {
		return h, fmt.Errorf("request header truncated: %d bytes", len(frame))
	}
	h.key = int16(binary.BigEndian.Uint16(frame[0:]))
	h.version = int16(binary.BigEndian.Uint16(frame[2:]))
	h.correlation = int32(binary.BigEndian.Uint32(frame[4:]))
	switch kmsg.Key(h.key) {
	case kmsg.Vote, kmsg.BeginQuorumEpoch, kmsg.EndQuorumEpoch, kmsg.Fetch, kmsg.DescribeQuorum:
	default:
		return h, fmt.Errorf("api key %d is not served by the quorum listener", h.key)
	}
	req := kmsg.RequestForKey(h.key)
	if h.version < 0 || h.version > req.MaxVersion() {
		return h, fmt.Errorf("api key %d version %d is not supported (max %d)", h.key, h.version, req.MaxVersion())
	}
	req.SetVersion(h.version)
	rest := frame[8:]
	l := int16(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if l > 0 {
		if int(l) > len(rest) {
			return h, fmt.Errorf("api key %d: client id truncated", h.key)
		}
		h.clientID, rest = string(rest[:l]), rest[l:]
	}
	if req.IsFlexible() {
		// Request header v2 ends with tagged fields, none of which the quorum uses.
		var err error
		if rest, err = skipTags(rest); err != nil {
			return h, fmt.Errorf("api key %d: request header: %w", h.key, err)
		}
	}
	h.body = rest
	return h, nil
}

// parseRequest decodes a request frame: the header (parseRequestHeader), then the body with kmsg.
func parseRequest(frame []byte) (request, error) {
	h, err := parseRequestHeader(frame)
	if err != nil {
		return request{}, err
	}
	req := kmsg.RequestForKey(h.key)
	req.SetVersion(h.version)
	if err := req.ReadFrom(h.body); err != nil {
		return request{}, fmt.Errorf("api key %d version %d: %w", h.key, h.version, err)
	}
	return request{correlation: h.correlation, clientID: h.clientID, req: req}, nil
}

// appendResponse appends a response frame (size, header, body) to dst.
func appendResponse(dst []byte, correlation int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlation))
	if resp.IsFlexible() {
		dst = append(dst, 0) // response header v1: no tagged fields
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// parseResponse decodes a response frame to req, checking its correlation id.
func parseResponse(frame []byte, req kmsg.Request, correlation int32) (kmsg.Response, error) {
	if got := int32(binary.BigEndian.Uint32(frame)); got != correlation {
		return nil, fmt.Errorf("response correlation id %d, want %d", got, correlation)
	}
	body := frame[4:]
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() {
		var err error
		if body, err = skipTags(body); err != nil {
			return nil, fmt.Errorf("response header: %w", err)
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("api key %d version %d response: %w", req.Key(), req.GetVersion(), err)
	}
	return resp, nil
}

// skipTags skips a tagged-field section (a count, then tag, size and data of each field).
func skipTags(b []byte) ([]byte, error) {
	uvarint := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errors.New("tagged fields truncated")
		}
		b = b[n:]
		return v, nil
	}
	count, err := uvarint()
	if err != nil {
		return nil, err
	}
	for ; count > 0; count-- {
		if _, err := uvarint(); err != nil {
			return nil, err
		}
		size, err := uvarint()
		if err != nil {
			return nil, err
		}
		if size > uint64(len(b)) {
			return nil, errors.New("tagged field truncated")
		}
		b = b[size:]
	}
	return b, nil
}
