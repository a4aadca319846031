package metadata

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Tag is one tagged field as it is on the wire: its tag and its raw value.
// Records keep the tagged fields they do not know in UnknownTags.
type Tag struct {
	Key   uint32
	Value []byte
}

// ErrUnsupportedVersion is wrapped by the errors for a version a record does
// not have, and for a non-default value in a field the version lacks.
var ErrUnsupportedVersion = errors.New("unsupported version")

// encoder appends one struct's fields. The first error sticks; later appends
// still run but their output is discarded by the caller.
type encoder struct {
	b       []byte
	version int16
	err     error
}

func (e *encoder) bool(v bool)              { e.b = kbin.AppendBool(e.b, v) }
func (e *encoder) int8(v int8)              { e.b = kbin.AppendInt8(e.b, v) }
func (e *encoder) int16(v int16)            { e.b = kbin.AppendInt16(e.b, v) }
func (e *encoder) uint16(v uint16)          { e.b = kbin.AppendUint16(e.b, v) }
func (e *encoder) int32(v int32)            { e.b = kbin.AppendInt32(e.b, v) }
func (e *encoder) int64(v int64)            { e.b = kbin.AppendInt64(e.b, v) }
func (e *encoder) uuid(v Uuid)              { e.b = kbin.AppendUuid(e.b, v) }
func (e *encoder) string(v string)          { e.b = kbin.AppendCompactString(e.b, v) }
func (e *encoder) nullableString(v *string) { e.b = kbin.AppendCompactNullableString(e.b, v) }

// int32s writes a compact array; nil is null when the field is nullable and an
// empty array when it is not.
func (e *encoder) int32s(v []int32, nullable bool) {
	e.arrayLen(len(v), nullable && v == nil)
	for _, x := range v {
		e.int32(x)
	}
}

func (e *encoder) uuids(v []Uuid, nullable bool) {
	e.arrayLen(len(v), nullable && v == nil)
	for _, x := range v {
		e.uuid(x)
	}
}

func (e *encoder) arrayLen(n int, null bool) {
	e.b = kbin.AppendCompactNullableArrayLen(e.b, n, null)
}

// unsupported records that field holds a value the encoder's version cannot
// carry; Kafka's generated writers throw UnsupportedVersionException here.
func (e *encoder) unsupported(record, field string) {
	if e.err == nil {
		e.err = fmt.Errorf("%s version %d has no %s field, and it is set: %w", record, e.version, field, ErrUnsupportedVersion)
	}
}

// tagged encodes one tagged field's value.
func (e *encoder) tagged(key uint32, fn func(*encoder)) Tag {
	sub := encoder{version: e.version}
	fn(&sub)
	if sub.err != nil && e.err == nil {
		e.err = sub.err
	}
	return Tag{Key: key, Value: sub.b}
}

// tags writes a struct's tagged-field section: the count, then each field in
// ascending tag order (known and unknown merged, as Kafka's RawTaggedFieldWriter
// does), each as tag, size, value.
func (e *encoder) tags(known, unknown []Tag) {
	all := append(append(make([]Tag, 0, len(known)+len(unknown)), known...), unknown...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Key < all[j].Key })
	e.b = kbin.AppendUvarint(e.b, uint32(len(all)))
	for _, t := range all {
		e.b = kbin.AppendUvarint(e.b, t.Key)
		e.b = kbin.AppendUvarint(e.b, uint32(len(t.Value)))
		e.b = append(e.b, t.Value...)
	}
}

// decoder reads one struct's fields. kbin.Reader marks itself bad when the
// input runs out; err holds the first error that is not about length.
type decoder struct {
	r       kbin.Reader
	version int16
	err     error
}

func (d *decoder) failf(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) bool() bool     { return d.r.Bool() }
func (d *decoder) int8() int8     { return d.r.Int8() }
func (d *decoder) int16() int16   { return d.r.Int16() }
func (d *decoder) uint16() uint16 { return d.r.Uint16() }
func (d *decoder) int32() int32   { return d.r.Int32() }
func (d *decoder) int64() int64   { return d.r.Int64() }
func (d *decoder) uuid() Uuid     { return d.r.Uuid() }

func (d *decoder) string(field string) string {
	s := d.r.CompactNullableString()
	if s == nil {
		if d.r.Ok() {
			d.failf("non-nullable field %s was serialized as null", field)
		}
		return ""
	}
	return *s
}

func (d *decoder) nullableString() *string { return d.r.CompactNullableString() }

// arrayLen reads a compact array length and checks that n elements of at
// least minSize bytes fit in what is left, so a corrupt length cannot make the
// decoder allocate more than the input. -1 is null.
func (d *decoder) arrayLen(field string, nullable bool, minSize int) int {
	n := int(d.r.Uvarint()) - 1
	if !d.r.Ok() {
		return -1
	}
	if n < 0 {
		if !nullable {
			d.failf("non-nullable field %s was serialized as null", field)
		}
		return -1
	}
	if n > len(d.r.Src)/minSize {
		d.failf("field %s: array of %d elements does not fit in the %d bytes left", field, n, len(d.r.Src))
		return -1
	}
	return n
}

// int32s reads a compact int32 array; null is nil, and an empty array is an
// empty non-nil slice only when the field is nullable (so null and empty stay
// apart where the schema tells them apart).
func (d *decoder) int32s(field string, nullable bool) []int32 {
	n := d.arrayLen(field, nullable, 4)
	if n < 0 {
		return nil
	}
	if n == 0 && !nullable {
		return nil
	}
	v := make([]int32, n)
	for i := range v {
		v[i] = d.int32()
	}
	return v
}

func (d *decoder) uuids(field string, nullable bool) []Uuid {
	n := d.arrayLen(field, nullable, 16)
	if n < 0 {
		return nil
	}
	if n == 0 && !nullable {
		return nil
	}
	v := make([]Uuid, n)
	for i := range v {
		v[i] = d.uuid()
	}
	return v
}

// tags reads a tagged-field section. known decodes the value of a tag the
// struct has at the decoder's version and reports true; other tags are kept
// raw and returned. A known value must use exactly its declared size.
func (d *decoder) tags(known func(key uint32, d *decoder) bool) []Tag {
	n := int(d.r.Uvarint())
	if n > len(d.r.Src)/2 { // a tagged field takes at least its tag and size bytes
		if d.r.Ok() {
			d.failf("%d tagged fields do not fit in the %d bytes left", n, len(d.r.Src))
		}
		return nil
	}
	var unknown []Tag
	for i := 0; i < n && d.r.Ok() && d.err == nil; i++ {
		key := d.r.Uvarint()
		size := d.r.Uvarint()
		if size > math.MaxInt32 {
			d.failf("tagged field %d: size %d", key, size)
			return nil
		}
		val := d.r.Span(int(size))
		if !d.r.Ok() {
			return nil
		}
		sub := decoder{r: kbin.Reader{Src: val}, version: d.version}
		if known != nil && known(key, &sub) {
			if sub.err != nil {
				d.failf("tagged field %d: %w", key, sub.err)
			} else if err := sub.r.Complete(); err != nil {
				d.failf("tagged field %d: %d bytes are too few for its value", key, size)
			} else if len(sub.r.Src) != 0 {
				d.failf("tagged field %d: %d of its %d bytes left unread", key, len(sub.r.Src), size)
			}
			continue
		}
		unknown = append(unknown, Tag{Key: key, Value: append([]byte(nil), val...)})
	}
	// Kafka's readers take tags in any order; the writer puts them in
	// ascending order, so keep them in the order they will be written.
	sort.SliceStable(unknown, func(i, j int) bool { return unknown[i].Key < unknown[j].Key })
	return unknown
}

// done is the decoder's verdict on one body: its first error, a truncated
// input, or bytes left over.
func (d *decoder) done(what string) error {
	if d.err != nil {
		return fmt.Errorf("%s: %w", what, d.err)
	}
	if err := d.r.Complete(); err != nil {
		return fmt.Errorf("%s: truncated: %w", what, err)
	}
	if len(d.r.Src) != 0 {
		return fmt.Errorf("%s: found %d byte(s) of garbage after the record", what, len(d.r.Src))
	}
	return nil
}
