package storage

import (
	"encoding/binary"
	"hash/maphash"
)

// offsetMapSlot is the size of one offsetMap entry: a 128-bit key hash and
// the offset (Kafka's SkimpyOffsetMap stores an MD5 hash and an offset,
// 24 bytes too).
const offsetMapSlot = 24

// offsetMap is the cleaner's bounded key → latest offset map, after Kafka's
// SkimpyOffsetMap: keys are not stored, only a 128-bit hash of each (two
// independently seeded maphash values), so its memory is fixed when it is
// made and a key's size does not matter. Two keys with the same 128-bit hash
// would be taken for one; at 2^-128 per pair that is accepted, as Kafka
// accepts it for MD5. Open addressing with linear probing; the map is
// "full" at loadFactor of its slots, where the cleaner stops adding.
//
// An offsetMap belongs to one cleaner goroutine; it is not safe for
// concurrent use.
type offsetMap struct {
	slots      []byte // len = n*offsetMapSlot; an all-zero slot is empty (offsets are stored +1)
	n          uint64
	maxEntries int
	entries    int
	latest     int64 // largest offset put since clear, -1 if none
	seedA      maphash.Seed
	seedB      maphash.Seed
}

// newOffsetMap makes a map using memory bytes (at least one slot) that
// counts as full at loadFactor of its slots.
func newOffsetMap(memory int64, loadFactor float64) *offsetMap {
	n := max(memory/offsetMapSlot, 1)
	m := &offsetMap{slots: make([]byte, n*offsetMapSlot), n: uint64(n), seedA: maphash.MakeSeed(), seedB: maphash.MakeSeed()}
	m.maxEntries = max(int(float64(n)*loadFactor), 1)
	m.latest = -1
	return m
}

// clear empties the map for the next cleaning.
func (m *offsetMap) clear() {
	clear(m.slots)
	m.entries, m.latest = 0, -1
}

// size is the number of distinct keys held.
func (m *offsetMap) size() int { return m.entries }

// room reports whether n more keys may be added without passing the load
// factor.
func (m *offsetMap) room(n int) bool { return m.entries+n <= m.maxEntries }

func (m *offsetMap) hash(key []byte) (uint64, uint64) {
	a, b := maphash.Bytes(m.seedA, key), maphash.Bytes(m.seedB, key)
	if a == 0 && b == 0 {
		b = 1 // the all-zero hash marks an empty slot
	}
	return a, b
}

// put records offset as the latest offset of key. Callers check room first;
// put on a completely full table panics.
func (m *offsetMap) put(key []byte, offset int64) {
	a, b := m.hash(key)
	for i, probes := a%m.n, uint64(0); ; i, probes = (i+1)%m.n, probes+1 {
		if probes == m.n {
			panic("storage: offset map overfull")
		}
		s := m.slots[i*offsetMapSlot : (i+1)*offsetMapSlot]
		ha, hb := binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[8:])
		if ha == 0 && hb == 0 {
			binary.LittleEndian.PutUint64(s, a)
			binary.LittleEndian.PutUint64(s[8:], b)
			binary.LittleEndian.PutUint64(s[16:], uint64(offset+1))
			m.entries++
			break
		}
		if ha == a && hb == b {
			binary.LittleEndian.PutUint64(s[16:], uint64(offset+1))
			break
		}
	}
	m.latest = max(m.latest, offset)
}

// get returns the latest offset put for key, or -1.
func (m *offsetMap) get(key []byte) int64 {
	a, b := m.hash(key)
	for i, probes := a%m.n, uint64(0); probes < m.n; i, probes = (i+1)%m.n, probes+1 {
		s := m.slots[i*offsetMapSlot : (i+1)*offsetMapSlot]
		ha, hb := binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[8:])
		if ha == 0 && hb == 0 {
			return -1
		}
		if ha == a && hb == b {
			return int64(binary.LittleEndian.Uint64(s[16:])) - 1
		}
	}
	return -1
}
