package kafkawire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"testing/iotest"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestReadFrameBounds(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want error
	}{
		{[]byte{0, 0, 0, 2, 1, 2}, ErrFrameTooSmall},
		{[]byte{0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7}, ErrFrameTooSmall},
		{[]byte{0x7f, 0, 0, 0}, ErrFrameTooLarge},
		{[]byte{0xff, 0xff, 0xff, 0xff}, ErrFrameTooSmall}, // negative
	} {
		if _, err := ReadFrame(bytes.NewReader(tc.in), MinRequestFrame, 1<<20); !errors.Is(err, tc.want) {
			t.Errorf("ReadFrame(% x) = %v, want %v", tc.in, err, tc.want)
		}
	}
	// A response frame may be just the correlation id.
	if b, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 4, 0, 0, 0, 9}), MinResponseFrame, 1<<20); err != nil || len(b) != 4 {
		t.Errorf("4-byte response frame: %x %v", b, err)
	}
}

// Requests written by kmsg's formatter read back with their header, one byte at a time.
func TestRequestHeader(t *testing.T) {
	clientID := "osprey-test"
	for _, tc := range []struct {
		req      kmsg.Request
		version  int16
		flexible bool
	}{
		{kmsg.NewPtrMetadataRequest(), 1, false},
		{kmsg.NewPtrMetadataRequest(), 12, true},
		{kmsg.NewPtrApiVersionsRequest(), 3, true},
		{kmsg.NewPtrVoteRequest(), 2, true},
	} {
		tc.req.SetVersion(tc.version)
		frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID)).AppendRequest(nil, tc.req, 41)
		b, err := ReadFrame(iotest.OneByteReader(bytes.NewReader(frame)), MinRequestFrame, 1<<20)
		if err != nil {
			t.Fatalf("key %d v%d: %v", tc.req.Key(), tc.version, err)
		}
		h, body, err := ParseRequestHeader(b)
		if err != nil {
			t.Fatalf("key %d v%d: %v", tc.req.Key(), tc.version, err)
		}
		want := RequestHeader{Key: tc.req.Key(), Version: tc.version, Correlation: 41, ClientID: &clientID, Flexible: tc.flexible}
		if h.Key != want.Key || h.Version != want.Version || h.Correlation != want.Correlation || h.ClientIDString() != clientID || h.Flexible != want.Flexible {
			t.Errorf("key %d v%d: header %+v, want %+v", tc.req.Key(), tc.version, h, want)
		}
		if !bytes.Equal(body, tc.req.AppendTo(nil)) {
			t.Errorf("key %d v%d: body is not the request's", tc.req.Key(), tc.version)
		}
	}
	// Unknown keys are read as header v1, so the caller can log and refuse them.
	frame := []byte{0x7f, 0x00, 0, 1, 0, 0, 0, 5, 0xff, 0xff, 1, 2}
	h, body, err := ParseRequestHeader(frame)
	if err != nil || h.Key != 0x7f00 || h.ClientID != nil || h.Flexible || !bytes.Equal(body, []byte{1, 2}) {
		t.Errorf("unknown key: %+v body %x err %v", h, body, err)
	}
	if _, _, err := ParseRequestHeader([]byte{0, 3, 0, 1, 0, 0, 0, 5, 0xff, 0xfe}); !errors.Is(err, ErrShortHeader) {
		t.Errorf("client id length -2: %v, want ErrShortHeader", err)
	}
}

// Flexible responses carry a tagged-field section in their header, except ApiVersions' (KIP-511),
// and ParseResponse reads what AppendResponse writes.
func TestResponseRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		req     kmsg.Request
		resp    kmsg.Response
		version int16
		headLen int
	}{
		{kmsg.NewPtrApiVersionsRequest(), kmsg.NewPtrApiVersionsResponse(), 3, 4},
		{kmsg.NewPtrMetadataRequest(), kmsg.NewPtrMetadataResponse(), 12, 5},
		{kmsg.NewPtrMetadataRequest(), kmsg.NewPtrMetadataResponse(), 1, 4},
	} {
		tc.req.SetVersion(tc.version)
		h := RequestHeader{Key: tc.req.Key(), Version: tc.version, Correlation: 9, Flexible: tc.req.IsFlexible()}
		frame := AppendResponse([]byte("xx"), h, tc.resp)[2:]
		if n := int(binary.BigEndian.Uint32(frame)); n != len(frame)-4 {
			t.Fatalf("key %d v%d: size %d for a %d-byte frame", h.Key, h.Version, n, len(frame)-4)
		}
		if got := len(frame) - 4 - len(tc.resp.AppendTo(nil)); got != tc.headLen {
			t.Errorf("key %d v%d: header of %d bytes, want %d", h.Key, h.Version, got, tc.headLen)
		}
		got, err := ParseResponse(frame[4:], tc.req, 9)
		if err != nil || !bytes.Equal(got.AppendTo(nil), tc.resp.AppendTo(nil)) {
			t.Errorf("key %d v%d: round trip %v", h.Key, h.Version, err)
		}
		if _, err := ParseResponse(frame[4:], tc.req, 10); err == nil {
			t.Errorf("key %d v%d: a response with another correlation id was accepted", h.Key, h.Version)
		}
	}
}

// FuzzFrame feeds arbitrary bytes to the frame reader and the request header parser: they must
// return an error or a header, never panic or over-read. Bodies are kmsg's and not decoded here:
// its tagged-field reader loops as many times as a malformed count says (up to 2^32).
func FuzzFrame(f *testing.F) {
	fm := kmsg.NewRequestFormatter(kmsg.FormatterClientID("seed"))
	for _, req := range []kmsg.Request{kmsg.NewPtrApiVersionsRequest(), kmsg.NewPtrMetadataRequest(), kmsg.NewPtrFetchRequest(), kmsg.NewPtrVoteRequest()} {
		req.SetVersion(req.MaxVersion())
		f.Add(fm.AppendRequest(nil, req, 1))
		req.SetVersion(0)
		f.Add(fm.AppendRequest(nil, req, 2))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 8, 0, 18, 0, 3, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			frame, err := ReadFrame(r, MinRequestFrame, 1<<16)
			if err != nil {
				return
			}
			if len(frame) < MinRequestFrame || len(frame) > 1<<16 {
				t.Fatalf("frame of %d bytes accepted outside the limits", len(frame))
			}
			h, body, err := ParseRequestHeader(frame)
			if err != nil {
				continue
			}
			if len(body) > len(frame) || h.Correlation != int32(binary.BigEndian.Uint32(frame[4:])) {
				t.Fatalf("header %+v, %d-byte body from a %d-byte frame", h, len(body), len(frame))
			}
		}
	})
}
