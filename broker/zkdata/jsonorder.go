package zkdata

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

// Kafka writes its znodes with Jackson from Scala maps, so the key order of
// a JSON object is the iteration order of the Scala 2.13 collection it was
// built from: insertion order for immutable maps of up to four entries, hash
// order (CHAMP trie) for bigger immutable maps, and bucket order for
// mutable.HashMap. Readers must not depend on it, but writing the same bytes
// as Kafka keeps dumps and diffs against a real cluster clean. The orders
// below were checked against znodes written by Kafka 3.x (see the golden
// tests).

// javaHash is java.lang.String.hashCode (for BMP characters, which is all
// Kafka's keys use).
func javaHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r > 0xffff {
			// Surrogate pair, as Java sees it.
			r -= 0x10000
			h = 31*h + int32(0xd800+(r>>10))
			h = 31*h + int32(0xdc00+(r&0x3ff))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// mutableOrder is the iteration order of a Scala 2.13 mutable.HashMap holding
// keys, whose table started with initialCap buckets (a power of two) and
// doubled whenever an insertion would reach 3/4 load.
func mutableOrder(keys []string, initialCap int) []string {
	capacity := initialCap
	for n := range keys {
		if n+1 >= capacity*3/4 {
			capacity *= 2
		}
	}
	type entry struct {
		key    string
		hash   int32
		bucket int
	}
	es := make([]entry, len(keys))
	for i, k := range keys {
		h := javaHash(k)
		h ^= int32(uint32(h) >> 16)
		es[i] = entry{k, h, int(h) & (capacity - 1)}
	}
	// Buckets in index order; within a bucket nodes are kept sorted by hash
	// (stable for equal hashes, i.e. insertion order).
	slices.SortStableFunc(es, func(a, b entry) int {
		if a.bucket != b.bucket {
			return a.bucket - b.bucket
		}
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return 0
	})
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.key
	}
	return out
}

// mutableFromCap is the initial table size of mutable.HashMap.from(n elems)
// (what `mutable.Map(k -> v, ...)` builds): tableSizeFor((n+1)/0.75).
func mutableFromCap(n int) int {
	want := int(float64(n+1) / 0.75)
	c := 1
	for c < want {
		c *= 2
	}
	return max(c, 1)
}

// scalaImprove is scala.util.hashing's improve, used by immutable.HashMap.
func scalaImprove(h int32) int32 {
	h += ^(h << 9)
	h ^= int32(uint32(h) >> 14)
	h += h << 4
	return h ^ int32(uint32(h)>>10)
}

// immutableOrder is the iteration order of a Scala 2.13 immutable.Map built
// by inserting keys in order: Map1..Map4 keep insertion order, larger maps
// are CHAMP tries iterated payload-first by 5-bit hash fragments.
func immutableOrder(keys []string) []string {
	if len(keys) <= 4 {
		return keys
	}
	return champOrder(keys, 0)
}

func champOrder(keys []string, shift uint) []string {
	if shift >= 32 {
		return keys // full hash collision: insertion order
	}
	groups := map[int][]string{}
	for _, k := range keys {
		f := int(uint32(scalaImprove(javaHash(k)))>>shift) & 31
		groups[f] = append(groups[f], k)
	}
	frags := make([]int, 0, len(groups))
	for f := range groups {
		frags = append(frags, f)
	}
	slices.Sort(frags)
	var payload, nested []string
	for _, f := range frags {
		if g := groups[f]; len(g) == 1 {
			payload = append(payload, g[0])
		} else {
			nested = append(nested, champOrder(g, shift+5)...)
		}
	}
	return append(payload, nested...)
}

// object is a JSON object under construction whose members are written in
// a chosen order.
type object struct {
	keys []string
	vals map[string][]byte
}

func newObject() *object { return &object{vals: map[string][]byte{}} }

// set adds a member (or replaces its value, keeping its insertion place).
func (o *object) set(key string, v any) *object {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = marshal(v)
	return o
}

// bytes writes the members in order(insertion-ordered keys).
func (o *object) bytes(order func([]string) []string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range order(slices.Clone(o.keys)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(marshal(k))
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

func insertionOrder(keys []string) []string { return keys }

func sortedOrder(keys []string) []string {
	slices.Sort(keys)
	return keys
}

// raw is already-encoded JSON.
type raw []byte

// marshal encodes like Jackson's defaults: no HTML escaping, compact.
func marshal(v any) []byte {
	switch x := v.(type) {
	case raw:
		return x
	case []byte:
		panic("zkdata: marshal []byte")
	case []int32:
		if x == nil {
			x = []int32{}
		}
		b := []byte{'['}
		for i, n := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		return append(b, ']')
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("zkdata: encoding " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// flexInt decodes a JSON number or a string holding one (Kafka writes
// timestamps and producer id bounds as strings, the cluster id version as
// "1").
type flexInt struct {
	V   int64
	Set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = str
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return err
	}
	f.V, f.Set = n, true
	return nil
}
