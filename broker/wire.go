package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Frame and request-header decoding. These functions are pure (no broker
// state) so that they can be fuzzed directly.

var (
	errFrameTooLarge = errors.New("frame larger than socket.request.max.bytes")
	errFrameTooSmall = errors.New("frame smaller than a request header")
	errShortHeader   = errors.New("truncated request header")
)

// minHeaderBytes is api key + api version + correlation id.
const minHeaderBytes = 8

// readFrame reads one size-prefixed frame from r into a fresh slice. A size
// above maxBytes or below minHeaderBytes is refused before any body byte is
// read, so a hostile size cannot make the broker allocate.
func readFrame(r io.Reader, maxBytes int32) ([]byte, error) {
	var sz [4]byte
	if _, err := io.ReadFull(r, sz[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(sz[:]))
	if n < minHeaderBytes {
		return nil, fmt.Errorf("%w: %d bytes", errFrameTooSmall, n)
	}
	if n > maxBytes {
		return nil, fmt.Errorf("%w: %d > %d", errFrameTooLarge, n, maxBytes)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("reading %d-byte frame body: %w", n, err)
	}
	return buf, nil
}

// reqHeader is a decoded request header (v0, v1 or v2).
type reqHeader struct {
	key           int16
	version       int16
	correlationID int32
	clientID      *string
	// flexible is true when the header is v2 (the request body is flexible).
	flexible bool
}

// parseRequestHeader decodes the header at the start of frame and returns it
// with the body that follows. The header version depends on the API: v2 for
// flexible request versions, v1 otherwise (v0 only for ControlledShutdown v0,
// which this broker does not serve, so v1 is assumed). For keys or versions
// kmsg does not know the header is read as v1: enough to log the client and
// to answer ApiVersions (KIP-511).
func parseRequestHeader(frame []byte) (reqHeader, []byte, error) {
	var h reqHeader
	if len(frame) < minHeaderBytes {
		return h, nil, errShortHeader
	}
	h.key = int16(binary.BigEndian.Uint16(frame[0:]))
	h.version = int16(binary.BigEndian.Uint16(frame[2:]))
	h.correlationID = int32(binary.BigEndian.Uint32(frame[4:]))
	rest := frame[8:]

	// Client id: nullable string with an int16 length (not compact even in v2).
	if len(rest) < 2 {
		return h, nil, errShortHeader
	}
	l := int16(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if l >= 0 {
		if int(l) > len(rest) {
			return h, nil, errShortHeader
		}
		s := string(rest[:l])
		h.clientID = &s
		rest = rest[l:]
	} else if l != -1 {
		return h, nil, fmt.Errorf("%w: client id length %d", errShortHeader, l)
	}

	if req := kmsg.RequestForKey(h.key); req != nil && h.version >= 0 && h.version <= req.MaxVersion() {
		req.SetVersion(h.version)
		h.flexible = req.IsFlexible()
	}
	if h.flexible {
		var err error
		if rest, err = skipTaggedFields(rest); err != nil {
			return h, nil, err
		}
	}
	return h, rest, nil
}

// skipTaggedFields skips a KIP-482 tagged-field section: a count followed by
// (tag, size, bytes) triples, all unsigned varints.
func skipTaggedFields(b []byte) ([]byte, error) {
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
			return nil, fmt.Errorf("%w: tagged field of %d bytes", errShortHeader, size)
		}
		b = b[size:]
	}
	return b, nil
}

func readUvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || v > 1<<31 {
		return 0, nil, fmt.Errorf("%w: bad uvarint", errShortHeader)
	}
	return v, b[n:], nil
}

// appendResponseHeader appends the response header for a response to h:
// v0 (correlation id) for ApiVersions and non-flexible versions, v1 (plus an
// empty tagged-field section) for the other flexible versions.
func appendResponseHeader(dst []byte, h reqHeader) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.correlationID))
	if h.flexible && h.key != 18 {
		dst = append(dst, 0)
	}
	return dst
}
