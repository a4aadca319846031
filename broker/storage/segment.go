package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/osprey-kafka/osprey/broker/txn"
)

// Segment file name suffixes, as Kafka names them.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	idxEntrySize    = 8  // relative offset uint32 + position uint32
	tidxEntrySize   = 12 // timestamp int64 + relative offset uint32
)

// segmentFileName is Kafka's zero-padded 20-digit base offset name.
func segmentFileName(base int64, suffix string) string {
	return fmt.Sprintf("%020d%s", base, suffix)
}

// idxEntry is an offset index entry: the batch at pos has last offset off.
type idxEntry struct{ off, pos int64 }

// tsEntry is a time index entry: batches up to offset off have timestamps
// <= ts (the largest seen so far when the entry was written).
type tsEntry struct{ ts, off int64 }

// segment is one .log file with its indexes. Every field is guarded by the
// owning fileLog's mu (written with it held for writing).
type segment struct {
	base        int64
	dir         string
	log         *os.File // read-write; written with WriteAt at size, read with ReadAt
	idxF, tidxF *os.File

	size     int64 // bytes of whole, committed batches
	next     int64 // offset after the last batch (base when empty)
	idx      []idxEntry
	tidx     []tsEntry
	sinceIdx int64 // bytes appended since the last index entry
	maxTs    int64 // largest batch maxTimestamp, -1 if none
	maxTsOff int64 // last offset of the batch with maxTs
	rollTs   int64 // maxTimestamp of the first batch (time-based roll), -1 if none
	created  int64 // ms when created or opened, for time-based roll without timestamps
	dirty    bool  // written since the last fsync
	// txns are the .txnindex entries: aborted transactions whose abort
	// marker is in this segment (txnindex.go).
	txns []txn.AbortedTxn
}

// segState is the mutable part of a segment, saved to undo a failed append.
type segState struct {
	size, next, sinceIdx, maxTs, maxTsOff, rollTs int64
	nIdx, nTidx                                   int
}

func (s *segment) state() segState {
	return segState{s.size, s.next, s.sinceIdx, s.maxTs, s.maxTsOff, s.rollTs, len(s.idx), len(s.tidx)}
}

func (s *segment) restore(st segState) {
	s.size, s.next, s.sinceIdx, s.maxTs, s.maxTsOff, s.rollTs = st.size, st.next, st.sinceIdx, st.maxTs, st.maxTsOff, st.rollTs
	s.idx, s.tidx = s.idx[:st.nIdx], s.tidx[:st.nTidx]
}

func (s *segment) path(suffix string) string {
	return filepath.Join(s.dir, segmentFileName(s.base, suffix))
}

// openSegmentFiles opens (creating, and emptying if trunc) the three files.
func openSegmentFiles(dir string, base int64, trunc bool, nowMs int64) (*segment, error) {
	s := &segment{base: base, dir: dir, next: base, maxTs: -1, maxTsOff: -1, rollTs: -1, created: nowMs}
	flags := os.O_CREATE | os.O_RDWR
	if trunc {
		flags |= os.O_TRUNC
	}
	var err error
	if s.log, err = os.OpenFile(s.path(logSuffix), flags, 0o644); err != nil {
		return nil, fmt.Errorf("opening segment: %w", errors.Join(ErrStorage, err))
	}
	if s.idxF, err = os.OpenFile(s.path(indexSuffix), flags, 0o644); err != nil {
		s.close()
		return nil, fmt.Errorf("opening offset index: %w", errors.Join(ErrStorage, err))
	}
	if s.tidxF, err = os.OpenFile(s.path(timeIndexSuffix), flags, 0o644); err != nil {
		s.close()
		return nil, fmt.Errorf("opening time index: %w", errors.Join(ErrStorage, err))
	}
	return s, nil
}

func (s *segment) close() error {
	var errs []error
	for _, f := range []*os.File{s.log, s.idxF, s.tidxF} {
		if f != nil {
			if err := f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// remove closes and deletes the segment's files. Readers that already
// opened the .log keep their descriptor and can finish.
func (s *segment) remove() error {
	err := s.close()
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		if rerr := os.Remove(s.path(suf)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		return fmt.Errorf("deleting segment %d: %w", s.base, errors.Join(ErrStorage, err))
	}
	return nil
}

func (s *segment) sync() error {
	var errs []error
	for _, f := range []*os.File{s.log, s.idxF, s.tidxF} {
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("fsync segment %d: %w", s.base, errors.Join(ErrStorage, errors.Join(errs...)))
	}
	return nil
}

// readHeaderAt reads the batch header at pos. It never reads at or past
// limit (the committed size), so a concurrent append is never observed.
func (s *segment) readHeaderAt(pos, limit int64) (BatchHeader, error) {
	if limit-pos < BatchHeaderSize {
		return BatchHeader{}, fmt.Errorf("%w: segment %d: %d bytes at position %d are shorter than a batch header", ErrCorruptMessage, s.base, limit-pos, pos)
	}
	var buf [BatchHeaderSize]byte
	if _, err := s.log.ReadAt(buf[:], pos); err != nil {
		return BatchHeader{}, fmt.Errorf("reading batch header of segment %d at %d: %w", s.base, pos, errors.Join(ErrStorage, err))
	}
	h := parseHeader(buf[:])
	if int64(h.Size()) < BatchHeaderSize || pos+int64(h.Size()) > limit {
		return h, fmt.Errorf("%w: segment %d: batch at position %d has length %d beyond %d", ErrCorruptMessage, s.base, pos, h.BatchLength, limit)
	}
	return h, nil
}

// lookup returns the position of the last indexed batch whose last offset
// is <= off, or 0: a position at or before the batch containing off.
func (s *segment) lookup(off int64) int64 {
	i := sort.Search(len(s.idx), func(i int) bool { return s.idx[i].off > off })
	if i == 0 {
		return 0
	}
	return s.idx[i-1].pos
}

// translate finds the first batch whose last offset is >= off.
func (s *segment) translate(off int64) (int64, BatchHeader, bool, error) {
	for pos := s.lookup(off); pos < s.size; {
		h, err := s.readHeaderAt(pos, s.size)
		if err != nil {
			return 0, h, false, err
		}
		if h.LastOffset() >= off {
			return pos, h, true, nil
		}
		pos += int64(h.Size())
	}
	return 0, BatchHeader{}, false, nil
}

// readEnd returns the end of the longest run of whole batches starting at
// start that ends at or before limit and whose offsets are all below
// maxOffset. The index lets it skip most headers.
func (s *segment) readEnd(start, limit, maxOffset int64) (int64, error) {
	limit = min(limit, s.size)
	p := start
	// Entries (off, pos) with pos <= limit and off < maxOffset form a
	// prefix; the last one is a batch boundary whose batch and everything
	// before it are below maxOffset.
	i := sort.Search(len(s.idx), func(i int) bool { return s.idx[i].pos > limit || s.idx[i].off >= maxOffset })
	if i > 0 && s.idx[i-1].pos > p {
		p = s.idx[i-1].pos
	}
	for p < limit {
		h, err := s.readHeaderAt(p, s.size)
		if err != nil {
			return 0, err
		}
		if h.LastOffset() >= maxOffset || p+int64(h.Size()) > limit {
			break
		}
		p += int64(h.Size())
	}
	return p, nil
}

// indexBatch updates the in-memory index state for a batch written at pos
// and returns the index file bytes to append (Kafka's LogSegment.append).
func (s *segment) indexBatch(h BatchHeader, pos int64, interval int32, idxBuf, tidxBuf []byte) ([]byte, []byte) {
	last := h.LastOffset()
	if s.rollTs < 0 && s.size == 0 && pos == 0 {
		s.rollTs = h.MaxTimestamp
	}
	if h.MaxTimestamp > s.maxTs {
		s.maxTs, s.maxTsOff = h.MaxTimestamp, last
	}
	if s.sinceIdx > int64(interval) {
		s.idx = append(s.idx, idxEntry{off: last, pos: pos})
		idxBuf = binary.BigEndian.AppendUint32(idxBuf, uint32(last-s.base))
		idxBuf = binary.BigEndian.AppendUint32(idxBuf, uint32(pos))
		tidxBuf = s.maybeTimeEntry(tidxBuf)
		s.sinceIdx = 0
	}
	s.sinceIdx += int64(h.Size())
	s.next = last + 1
	return idxBuf, tidxBuf
}

// maybeTimeEntry adds (maxTs, maxTsOff) to the time index if it is newer
// than the last entry.
func (s *segment) maybeTimeEntry(buf []byte) []byte {
	if s.maxTs < 0 || (len(s.tidx) > 0 && s.maxTs <= s.tidx[len(s.tidx)-1].ts) {
		return buf
	}
	s.tidx = append(s.tidx, tsEntry{ts: s.maxTs, off: s.maxTsOff})
	buf = binary.BigEndian.AppendUint64(buf, uint64(s.maxTs))
	return binary.BigEndian.AppendUint32(buf, uint32(s.maxTsOff-s.base))
}

// writeIndexes appends index bytes at the ends of the index files.
func (s *segment) writeIndexes(idxBuf, tidxBuf []byte) error {
	if len(idxBuf) > 0 {
		at := int64(len(s.idx))*idxEntrySize - int64(len(idxBuf))
		if _, err := s.idxF.WriteAt(idxBuf, at); err != nil {
			return fmt.Errorf("writing offset index of segment %d: %w", s.base, errors.Join(ErrStorage, err))
		}
	}
	if len(tidxBuf) > 0 {
		at := int64(len(s.tidx))*tidxEntrySize - int64(len(tidxBuf))
		if _, err := s.tidxF.WriteAt(tidxBuf, at); err != nil {
			return fmt.Errorf("writing time index of segment %d: %w", s.base, errors.Join(ErrStorage, err))
		}
	}
	return nil
}

// rewriteIndexes replaces both index files with the in-memory entries.
func (s *segment) rewriteIndexes() error {
	ib := make([]byte, 0, len(s.idx)*idxEntrySize)
	for _, e := range s.idx {
		ib = binary.BigEndian.AppendUint32(ib, uint32(e.off-s.base))
		ib = binary.BigEndian.AppendUint32(ib, uint32(e.pos))
	}
	tb := make([]byte, 0, len(s.tidx)*tidxEntrySize)
	for _, e := range s.tidx {
		tb = binary.BigEndian.AppendUint64(tb, uint64(e.ts))
		tb = binary.BigEndian.AppendUint32(tb, uint32(e.off-s.base))
	}
	for _, x := range []struct {
		f *os.File
		b []byte
	}{{s.idxF, ib}, {s.tidxF, tb}} {
		if err := x.f.Truncate(0); err != nil {
			return fmt.Errorf("rewriting index of segment %d: %w", s.base, errors.Join(ErrStorage, err))
		}
		if _, err := x.f.WriteAt(x.b, 0); err != nil {
			return fmt.Errorf("rewriting index of segment %d: %w", s.base, errors.Join(ErrStorage, err))
		}
	}
	s.dirty = true
	return nil
}

// loadIndexes reads the index files, checking that they are whole entries,
// strictly increasing and inside the segment. ok is false if they must be
// rebuilt.
func (s *segment) loadIndexes(logSize int64) bool {
	ib, err1 := io.ReadAll(io.NewSectionReader(s.idxF, 0, 1<<40))
	tb, err2 := io.ReadAll(io.NewSectionReader(s.tidxF, 0, 1<<40))
	if err1 != nil || err2 != nil || len(ib)%idxEntrySize != 0 || len(tb)%tidxEntrySize != 0 {
		return false
	}
	s.idx, s.tidx = nil, nil
	for i := 0; i < len(ib); i += idxEntrySize {
		e := idxEntry{off: s.base + int64(binary.BigEndian.Uint32(ib[i:])), pos: int64(binary.BigEndian.Uint32(ib[i+4:]))}
		if e.pos >= logSize || (len(s.idx) > 0 && (e.off <= s.idx[len(s.idx)-1].off || e.pos <= s.idx[len(s.idx)-1].pos)) {
			return false
		}
		s.idx = append(s.idx, e)
	}
	for i := 0; i < len(tb); i += tidxEntrySize {
		e := tsEntry{ts: int64(binary.BigEndian.Uint64(tb[i:])), off: s.base + int64(binary.BigEndian.Uint32(tb[i+8:]))}
		if len(s.tidx) > 0 && (e.ts <= s.tidx[len(s.tidx)-1].ts || e.off < s.tidx[len(s.tidx)-1].off) {
			return false
		}
		s.tidx = append(s.tidx, e)
	}
	return true
}

// truncatedAt updates the segment's state after its .log was cut at the
// batch boundary cut: index entries at or past the cut go, and the tail
// after the last remaining index entry is re-read (headers only) for the
// next offset and the largest timestamp, so the cost does not grow with
// the segment's size.
func (s *segment) truncatedAt(cut int64) error {
	i := sort.Search(len(s.idx), func(i int) bool { return s.idx[i].pos >= cut })
	s.idx = s.idx[:i]
	pos := int64(0)
	s.next, s.maxTs, s.maxTsOff = s.base, -1, -1
	if i > 0 {
		pos = s.idx[i-1].pos
	}
	s.size, s.sinceIdx = cut, cut-pos
	var hs []BatchHeader
	for p := pos; p < cut; {
		h, err := s.readHeaderAt(p, cut)
		if err != nil {
			return err
		}
		hs = append(hs, h)
		p += int64(h.Size())
	}
	if len(hs) > 0 {
		s.next = hs[len(hs)-1].LastOffset() + 1
	} else if i > 0 {
		s.next = s.idx[i-1].off + 1 // unreachable: the indexed batch is in the tail
	}
	j := sort.Search(len(s.tidx), func(j int) bool { return s.tidx[j].off >= s.next })
	s.tidx = s.tidx[:j]
	if j > 0 {
		s.maxTs, s.maxTsOff = s.tidx[j-1].ts, s.tidx[j-1].off
	}
	for _, h := range hs {
		if h.MaxTimestamp > s.maxTs {
			s.maxTs, s.maxTsOff = h.MaxTimestamp, h.LastOffset()
		}
	}
	if cut == 0 {
		s.rollTs = -1
	}
	return s.rewriteIndexes()
}

// maxTimestampFrom is the largest batch maxTimestamp among batches that
// hold offsets >= from, and the last offset of that batch (-1, -1 if
// none). It reads headers.
func (s *segment) maxTimestampFrom(from int64) (int64, int64, error) {
	pos, _, found, err := s.translate(from)
	if err != nil || !found {
		return -1, -1, err
	}
	ts, off := int64(-1), int64(-1)
	for pos < s.size {
		h, err := s.readHeaderAt(pos, s.size)
		if err != nil {
			return -1, -1, err
		}
		if h.MaxTimestamp > ts {
			ts, off = h.MaxTimestamp, h.LastOffset()
		}
		pos += int64(h.Size())
	}
	return ts, off, nil
}
