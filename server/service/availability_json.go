package service

import (
	"context"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AvailabilityTimelineJSON is AvailabilityTimeline's answer encoded as JSON, byte for byte what
// encoding/json writes for it. A page of 100 events through encoding/json cost more CPU than
// finding them in the index (reflection, and an allocation per time); this writes the fixed shape
// directly into one buffer.
func (s *Service) AvailabilityTimelineJSON(ctx context.Context, cluster string, q TimelineQuery) ([]byte, error) {
	t, err := s.AvailabilityTimeline(ctx, cluster, q)
	if err != nil {
		return nil, err
	}
	return appendTimelineJSON(make([]byte, 0, 512+300*len(t.Events)), &t), nil
}

// appendTimelineJSON writes t with Timeline's field names and order, as encoding/json does.
func appendTimelineJSON(b []byte, t *Timeline) []byte {
	b = append(b, `{"from":`...)
	b = appendJSONTime(b, t.From)
	b = append(b, `,"to":`...)
	b = appendJSONTime(b, t.To)
	b = append(b, `,"flapChanges":`...)
	b = strconv.AppendInt(b, int64(t.FlapChanges), 10)
	b = append(b, `,"flapMinutes":`...)
	b = strconv.AppendInt(b, int64(t.FlapMinutes), 10)
	b = append(b, `,"events":`...)
	if t.Events == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range t.Events {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendEventJSON(b, &t.Events[i])
		}
		b = append(b, ']')
	}
	b = append(b, `,"flapping":`...)
	if t.Flapping == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, f := range t.Flapping {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"topic":`...)
			b = appendJSONString(b, f.Topic)
			b = append(b, `,"partition":`...)
			b = strconv.AppendInt(b, int64(f.Partition), 10)
			b = append(b, `,"changes":`...)
			b = strconv.AppendInt(b, int64(f.Changes), 10)
			b = append(b, `,"since":`...)
			b = appendJSONTime(b, f.Since)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"truncated":`...)
	b = strconv.AppendBool(b, t.Truncated)
	b = append(b, `,"next":`...)
	b = appendJSONString(b, t.Next)
	return append(b, '}')
}

// appendEventJSON writes one event; Seconds is finite (a duration, at least 0).
func appendEventJSON(b []byte, e *AvailabilityEvent) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, e.Kind)
	b = append(b, `,"topic":`...)
	b = appendJSONString(b, e.Topic)
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(e.Partition), 10)
	b = append(b, `,"start":`...)
	b = appendJSONTime(b, e.Start)
	b = append(b, `,"end":`...)
	if e.End == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONTime(b, *e.End)
	}
	b = append(b, `,"seconds":`...)
	b = appendJSONFloat(b, e.Seconds)
	b = append(b, `,"brokers":`...)
	if e.Brokers == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, id := range e.Brokers {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(id), 10)
		}
		b = append(b, ']')
	}
	b = append(b, `,"cause":`...)
	b = appendJSONString(b, e.Cause)
	b = append(b, `,"detail":`...)
	b = appendJSONString(b, e.Detail)
	return append(b, '}')
}

// appendJSONTime is time.Time's MarshalJSON (RFC 3339 with nanoseconds, trailing zeros dropped).
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONFloat formats a float64 as encoding/json does: %f-style, or exponent form outside
// [1e-6, 1e21) with a one-digit negative exponent unpadded.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does, HTML-escaping included (<, >, & as \u003c…),
// invalid UTF-8 as \ufffd, and U+2028 / U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
