// Package kafkawire is Kafka's connection framing, shared by every Kafka
// listener and client in the broker runtime (the client listener in
// package broker, the quorum's listener and peers in broker/quorum/raftnet):
// a 4-byte size before each frame, the request header (api key, version,
// correlation id, client id, and tagged fields in flexible versions) and the
// response header (correlation id, and tagged fields in flexible versions
// other than ApiVersions'). Bodies are kmsg's.
//
// The functions are pure, so they can be fuzzed directly.
package kafkawire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	// ErrFrameTooLarge is wrapped when a frame's size is above the limit.
	ErrFrameTooLarge = errors.New("frame larger than the limit")
	// ErrFrameTooSmall is wrapped when a frame's size cannot hold its header.
	ErrFrameTooSmall = errors.New("frame smaller than its header")
	// ErrShortHeader is wrapped when a header (or its tagged fields) is cut short.
	ErrShortHeader = errors.New("truncated header")
)

const (
	// MinRequestFrame is the smallest request frame: api key, api version
	// and correlation id.
	MinRequestFrame = 8
	// MinResponseFrame is the smallest response frame: the correlation id.
	MinResponseFrame = 4
)

// ReadFrame reads one size-prefixed frame from r into a fresh slice. A size
// below minBytes or above maxBytes is refused before anything is allocated
// or read, so a hostile size cannot make the reader allocate.
func ReadFrame(r io.Reader, minBytes, maxBytes int32) ([]byte, error) {
	var sz [4]byte
	if _, err := io.ReadFull(r, sz[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(sz[:]))
	if n < minBytes {
		return nil, fmt.Errorf("%w: %d bytes (min %d)", ErrFrameTooSmall, n, minBytes)
	}
	if n > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes (max %d)", ErrFrameTooLarge, n, maxBytes)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("reading %d-byte frame body: %w", n, err)
	}
	return buf, nil
}

// RequestHeader is a decoded request header (v1 or v2).
type RequestHeader struct {
	Key         int16
	Version     int16
	Correlation int32
	ClientID    *string // nil when the client sent a null client id
	// Flexible is true when the header is v2 (the request body is flexible);
	// the response header is then v1, except for ApiVersions.
	Flexible bool
}

// ClientIDString is the client id, "" when null.
func (h RequestHeader) ClientIDString() string {
	if h.ClientID == nil {
		return ""
	}
	return *h.ClientID
}

// ParseRequestHeader decodes the header at the start of frame and returns it
// with the body that follows. The header version depends on the API: v2 for
// flexible request versions, v1 otherwise (v0 only for ControlledShutdown
// v0, which no Osprey listener serves, so v1 is assumed). For keys or
// versions kmsg does not know the header is read as v1: enough to log the
// client and to answer ApiVersions (KIP-511); the caller decides whether it
// serves the key and version.
func ParseRequestHeader(frame []byte) (RequestHeader, []byte, error) {
	var h RequestHeader
	if len(frame) < MinRequestFrame {
		return h, nil, ErrShortHeader
	}
	h.Key = int16(binary.BigEndian.Uint16(frame[0:]))
	h.Version = int16(binary.BigEndian.Uint16(frame[2:]))
	h.Correlation = int32(binary.BigEndian.Uint32(frame[4:]))
	rest := frame[8:]

	// Client id: nullable string with an int16 length (not compact even in v2).
	if len(rest) < 2 {
		return h, nil, ErrShortHeader
	}
	l := int16(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if l >= 0 {
		if int(l) > len(rest) {
			return h, nil, ErrShortHeader
		}
		s := string(rest[:l])
		h.ClientID = &s
		rest = rest[l:]
	} else if l != -1 {
		return h, nil, fmt.Errorf("%w: client id length %d", ErrShortHeader, l)
	}

	if req := kmsg.RequestForKey(h.Key); req != nil && h.Version >= 0 && h.Version <= req.MaxVersion() {
		req.SetVersion(h.Version)
		h.Flexible = req.IsFlexible()
	}
	if h.Flexible {
		var err error
		if rest, err = SkipTags(rest); err != nil {
			return h, nil, err
		}
	}
	return h, rest, nil
}

// AppendResponseHeader appends the header of the response to h: v0 (the
// correlation id) for ApiVersions and non-flexible versions, v1 (plus an
// empty tagged-field section) for the other flexible versions.
func AppendResponseHeader(dst []byte, h RequestHeader) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.Correlation))
	if h.Flexible && h.Key != kmsg.ApiVersions.Int16() {
		dst = append(dst, 0)
	}
	return dst
}

// AppendResponse appends a whole response frame to dst: its size, the
// header for h and resp's body at h's version.
func AppendResponse(dst []byte, h RequestHeader, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = AppendResponseHeader(dst, h)
	resp.SetVersion(h.Version)
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// ParseResponse decodes a response frame (without its size) to the request
// req that was sent with the given correlation id.
func ParseResponse(frame []byte, req kmsg.Request, correlation int32) (kmsg.Response, error) {
	resp := req.ResponseKind()
	if err := DecodeResponse(frame, req, correlation, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// DecodeResponse is ParseResponse into a response the caller provides; its
// version is set to req's.
func DecodeResponse(frame []byte, req kmsg.Request, correlation int32, resp kmsg.Response) error {
	if len(frame) < MinResponseFrame {
		return ErrShortHeader
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != correlation {
		return fmt.Errorf("response correlation id %d, want %d", got, correlation)
	}
	body := frame[4:]
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() && req.Key() != kmsg.ApiVersions.Int16() {
		var err error
		if body, err = SkipTags(body); err != nil {
			return fmt.Errorf("response header: %w", err)
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		return fmt.Errorf("api key %d version %d response: %w", req.Key(), req.GetVersion(), err)
	}
	return nil
}

// SkipTags skips a KIP-482 tagged-field section: a count followed by (tag,
// size, bytes) triples, all unsigned varints.
func SkipTags(b []byte) ([]byte, error) {
	n, b, err := readUvarint(b)
	if err != nil {
		return nil, err
	}
	for i := uint64(0); i < n; i++ {
		if _, b, err = readUvarint(b); err != nil {
			return nil, err
		}
		var size uint64
		if size, b, err = readUvarint(b); err != nil {
			return nil, err
		}
		if size > uint64(len(b)) {
			return nil, fmt.Errorf("%w: tagged field of %d bytes", ErrShortHeader, size)
		}
		b = b[size:]
	}
	return b, nil
}

func readUvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || v > 1<<31 {
		return 0, nil, fmt.Errorf("%w: bad uvarint", ErrShortHeader)
	}
	return v, b[n:], nil
}
