package storage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/osprey-kafka/osprey/broker/txn"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Suffixes of the files a clean writes next to the segments (Kafka's
// .cleaned and .swap), and of the file naming the end of the offset range a
// swap replaces.
const (
	cleanedSuffix = ".cleaned"
	swapSuffix    = ".swap"
	swapEndSuffix = ".swapend"
)

// Crash points of a segment swap, in order, as passed to a cleaning hook.
const (
	StepCleanedWritten = "cleaned-written" // new segment complete in .cleaned files, fsynced
	StepIndexesSwapped = "indexes-swapped" // its index files renamed to .swap
	StepSwapCommitted  = "swap-committed"  // its .log renamed to .log.swap: from here recovery completes the swap
	StepOldRemoved     = "old-removed"     // one replaced segment unlinked (once per segment)
	StepSwapRenamed    = "swap-renamed"    // .swap files renamed to their final names
	StepSwapDone       = "swap-done"       // the range file removed
)

// errCleanAborted: the log changed under the clean (truncation, retention,
// deletion); the clean is dropped and tried again later.
var errCleanAborted = errors.New("segments changed while cleaning")

// cleanRange is what a clean of one log covers, computed with the log's lock
// held: segments from the log start, the dirty part starting at firstDirty,
// and the uncleanable offset (segment aligned) where the clean stops.
type cleanRange struct {
	segs        []*segment // non-active segments wholly below uncleanable
	sizes       []int64    // their sizes when the range was taken
	firstDirty  int64
	uncleanable int64 // base of the first segment that may not be cleaned
	cleanBytes  int64 // bytes of segments wholly below firstDirty
	dirtyBytes  int64 // bytes of the cleanable segments from firstDirty on
	needNow     bool  // max.compaction.lag.ms has passed for the first dirty segment
	cfg         Config
	start       int64
}

// ratio is the dirty ratio: dirty bytes over all cleanable bytes.
func (r cleanRange) ratio() float64 {
	if total := r.cleanBytes + r.dirtyBytes; total > 0 {
		return float64(r.dirtyBytes) / float64(total)
	}
	return 0
}

// cleanableRange computes the range as Kafka's LogCleanerManager does: the
// clean stops at the first segment that is the active one, that holds an
// offset at or above the last stable offset (the high watermark when the
// log's owner gives no stable offset), or that has a record newer than
// min.compaction.lag.ms.
func (l *fileLog) cleanableRange(checkpoint, nowMs int64) (cleanRange, error) {
	// The owner's function takes its own lock, which is taken before the
	// log's elsewhere; it is called without the log's lock. The LSO only
	// moves up, except on truncation, which drops the clean.
	l.mu.RLock()
	stableFn := l.stableFn
	l.mu.RUnlock()
	stable := int64(math.MaxInt64)
	if stableFn != nil {
		stable = stableFn()
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.usable(); err != nil {
		return cleanRange{}, err
	}
	r := cleanRange{cfg: l.cfg, start: l.start, firstDirty: checkpoint}
	if r.firstDirty < l.start || r.firstDirty > l.end() {
		r.firstDirty = l.start // no checkpoint, or one from before a truncation
	}
	hw := min(max(l.hw, l.start), l.end(), max(stable, l.start))
	r.uncleanable = l.active().base
	for i, s := range l.segs[:len(l.segs)-1] {
		upper := l.segs[i+1].base
		dirty := upper > r.firstDirty
		if upper > hw || (dirty && l.cfg.MinCompactionLagMs > 0 && s.largestTimestamp() > nowMs-l.cfg.MinCompactionLagMs) {
			r.uncleanable = s.base
			break
		}
		r.segs = append(r.segs, s)
		r.sizes = append(r.sizes, s.size)
		if !dirty {
			r.cleanBytes += s.size
			continue
		}
		if r.dirtyBytes == 0 && s.rollTs >= 0 && nowMs-s.rollTs > l.cfg.MaxCompactionLagMs {
			r.needNow = true
		}
		r.dirtyBytes += s.size
	}
	r.firstDirty = min(r.firstDirty, r.uncleanable)
	return r, nil
}

// cleaning is one clean of one log by one cleaner goroutine.
type cleaning struct {
	l        *fileLog
	r        cleanRange
	m        *offsetMap
	nowMs    int64
	ioBuf    int
	throttle func(n int64)
	hook     func(step string) error
	crashed  bool // the hook stopped the clean: leave every file as it is

	comps    map[int8]kgo.Compressor
	cbuf     bytes.Buffer
	producer map[int64]int64 // producer id → base offset of its last batch; built on first need
	txns     *cleanTxns      // transactions of the range being walked (map or group)

	stats CleanStats
}

// CleanStats describes one clean.
type CleanStats struct {
	EndOffset         int64 // the new first dirty offset (cleaner-offset-checkpoint)
	BytesRead         int64
	BytesWritten      int64
	RecordsRead       int64
	RecordsKept       int64
	TombstonesRemoved int64
	AbortedRemoved    int64 // records of aborted transactions removed
	MarkersRemoved    int64 // transaction markers removed
	Segments          int   // segments replaced
	MapKeys           int   // keys in the offset map
	DeleteHorizonMs   int64 // the latest delete horizon set, 0 if none
}

// step calls the test hook; an error from it stops the clean as a crash.
func (c *cleaning) step(name string) error {
	if c.hook == nil {
		return nil
	}
	if err := c.hook(name); err != nil {
		c.crashed = true
		return err
	}
	return nil
}

// segReader reads a snapshot of a segment through a descriptor of its own,
// so a concurrent deletion of the segment does not disturb it.
type segReader struct {
	f    *os.File
	r    *bufio.Reader
	pos  int64
	size int64
	buf  []byte
}

func (c *cleaning) openSeg(s *segment, size int64) (*segReader, error) {
	c.l.mu.RLock()
	closed := c.l.closed
	path := s.path(logSuffix)
	c.l.mu.RUnlock()
	if closed {
		return nil, ErrLogClosed
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Join(errCleanAborted, err)
	}
	return &segReader{f: f, r: bufio.NewReaderSize(io.NewSectionReader(f, 0, size), c.ioBuf), size: size}, nil
}

// next returns the next batch (valid until the following call), or io.EOF.
func (sr *segReader) next() (BatchHeader, []byte, error) {
	if sr.pos >= sr.size {
		return BatchHeader{}, nil, io.EOF
	}
	var hdr [logOverhead]byte
	if _, err := io.ReadFull(sr.r, hdr[:]); err != nil {
		return BatchHeader{}, nil, fmt.Errorf("%w: reading batch at %d: %v", ErrCorruptMessage, sr.pos, err)
	}
	length := int64(int32(uint32(hdr[8])<<24 | uint32(hdr[9])<<16 | uint32(hdr[10])<<8 | uint32(hdr[11])))
	if length < BatchHeaderSize-logOverhead || sr.pos+logOverhead+length > sr.size {
		return BatchHeader{}, nil, fmt.Errorf("%w: batch length %d at %d", ErrCorruptMessage, length, sr.pos)
	}
	n := int(logOverhead + length)
	if cap(sr.buf) < n {
		sr.buf = make([]byte, n)
	}
	sr.buf = sr.buf[:n]
	copy(sr.buf, hdr[:])
	if _, err := io.ReadFull(sr.r, sr.buf[logOverhead:]); err != nil {
		return BatchHeader{}, nil, fmt.Errorf("%w: reading batch at %d: %v", ErrCorruptMessage, sr.pos, err)
	}
	sr.pos += int64(n)
	return parseHeader(sr.buf), sr.buf, nil
}

func (sr *segReader) close() { sr.f.Close() }

// buildOffsetMap puts the keys of the dirty batches into the map, batch by
// batch, until the map is full or the dirty range ends. Control batches and
// aborted transactional data are not mapped (so aborted data never shadows
// a value); committed transactional data is. It returns the offset after
// the last mapped batch: where the next clean starts.
func (c *cleaning) buildOffsetMap() (int64, error) {
	end := c.r.uncleanable
	c.txns = nil
	for i, s := range c.r.segs {
		if i+1 < len(c.r.segs) && c.r.segs[i+1].base <= c.r.firstDirty {
			continue
		}
		if c.txns == nil {
			c.txns = newCleanTxns(c.l.AbortedTxns(), s.base, end)
		}
		sr, err := c.openSeg(s, c.r.sizes[i])
		if err != nil {
			return 0, err
		}
		full, last, err := c.mapSegment(sr)
		sr.close()
		if err != nil {
			return 0, err
		}
		if full {
			return last + 1, nil
		}
	}
	return end, nil
}

// mapSegment maps one segment's dirty batches; full reports that the map
// had no room for the next batch, last the last offset mapped.
func (c *cleaning) mapSegment(sr *segReader) (full bool, last int64, err error) {
	last = c.r.firstDirty - 1
	for {
		h, batch, err := sr.next()
		if err == io.EOF {
			return false, last, nil
		}
		if err != nil {
			return false, last, err
		}
		c.throttle(int64(len(batch)))
		aborted := false
		if h.Control() {
			c.txns.controlBatch(h, batch)
		} else {
			aborted = c.txns.dataBatch(h)
		}
		if h.LastOffset() < c.r.firstDirty {
			continue
		}
		if h.Control() || aborted {
			last = h.LastOffset()
			continue
		}
		recs, err := batchRecords(h, batch)
		if err != nil {
			return false, last, err
		}
		n, err := keyedRecordCount(h, recs)
		if err != nil {
			return false, last, err
		}
		if !c.m.room(n) {
			if c.m.size() == 0 {
				return false, last, fmt.Errorf("%w: a batch of %d keys at offset %d does not fit the cleaner's offset map of %d keys; raise log.cleaner.dedupe.buffer.size",
					ErrInvalidConfig, n, h.BaseOffset, c.m.maxEntries)
			}
			return true, last, nil
		}
		if err := forEachRecord(h, recs, func(r cleanerRecord) {
			if r.key != nil {
				c.m.put(r.key, h.BaseOffset+r.offDelta)
			}
		}); err != nil {
			return false, last, err
		}
		last = h.LastOffset()
	}
}

// groupSegments splits the segments below end into runs that fit one
// segment (segment.bytes, offsets within MaxInt32 of the base), as Kafka's
// groupSegmentsBySize does, so a clean also merges small segments.
func (c *cleaning) groupSegments(end int64) [][]int {
	var groups [][]int
	var cur []int
	var size int64
	for i, s := range c.r.segs {
		if s.base >= end {
			break
		}
		upper := c.r.uncleanable
		if i+1 < len(c.r.segs) {
			upper = c.r.segs[i+1].base
		}
		if len(cur) > 0 && (size+c.r.sizes[i] > c.r.cfg.SegmentBytes || upper-1-c.r.segs[cur[0]].base > math.MaxInt32) {
			groups = append(groups, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += c.r.sizes[i]
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

// run cleans the log: map the dirty range, then rewrite every segment group
// below its end.
func (c *cleaning) run() (CleanStats, error) {
	end, err := c.buildOffsetMap()
	if err != nil {
		return c.stats, err
	}
	c.stats.EndOffset = end
	c.stats.MapKeys = c.m.size()
	for _, g := range c.groupSegments(end) {
		if err := c.cleanGroup(g); err != nil {
			return c.stats, err
		}
	}
	return c.stats, nil
}

// cleanGroup writes the kept batches of a run of segments into one new
// segment and swaps it in.
func (c *cleaning) cleanGroup(g []int) error {
	l := c.l
	base := c.r.segs[g[0]].base
	ns, err := openCleanedSegment(l.dir, base, l.now().UnixMilli())
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok && !c.crashed {
			ns.removeWithSuffix(cleanedSuffix)
		}
	}()
	w := bufio.NewWriterSize(&segWriter{s: ns}, c.ioBuf)
	var out []byte
	upper := c.r.uncleanable
	if last := g[len(g)-1]; last+1 < len(c.r.segs) {
		upper = c.r.segs[last+1].base
	}
	c.txns = newCleanTxns(c.l.AbortedTxns(), base, upper)
	for _, i := range g {
		sr, err := c.openSeg(c.r.segs[i], c.r.sizes[i])
		if err != nil {
			return err
		}
		for {
			h, batch, err := sr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				sr.close()
				return err
			}
			c.throttle(int64(len(batch)))
			c.stats.BytesRead += int64(len(batch))
			if out, err = c.filterBatch(out[:0], h, batch); err != nil {
				sr.close()
				return err
			}
			if err := c.appendCleaned(ns, w, out); err != nil {
				sr.close()
				return err
			}
		}
		sr.close()
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing cleaned segment %d: %w", base, errors.Join(ErrStorage, err))
	}
	ns.txns = c.txns.kept
	if err := ns.finishCleaned(); err != nil {
		return err
	}
	if err := syncDir(l.dir); err != nil {
		return err
	}
	if err := c.step(StepCleanedWritten); err != nil {
		return err
	}
	segs := make([]*segment, len(g))
	sizes := make([]int64, len(g))
	for k, i := range g {
		segs[k], sizes[k] = c.r.segs[i], c.r.sizes[i]
	}
	if err := l.swapIn(ns, segs, sizes, upper, c.step); err != nil {
		return err
	}
	l.mu.RLock()
	txnsFn := l.txnsFn
	l.mu.RUnlock()
	if txnsFn != nil {
		txnsFn(base, upper, slices.Clone(ns.txns))
	}
	ok = true
	c.stats.Segments += len(g)
	return nil
}

// appendCleaned writes kept batches and indexes them in the new segment.
func (c *cleaning) appendCleaned(ns *segment, w *bufio.Writer, out []byte) error {
	if len(out) == 0 {
		return nil
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("writing cleaned segment %d: %w", ns.base, errors.Join(ErrStorage, err))
	}
	c.throttle(int64(len(out)))
	c.stats.BytesWritten += int64(len(out))
	return forEachBatch(out, func(h BatchHeader, b []byte) error {
		ns.indexBatch(h, ns.size, c.r.cfg.IndexIntervalBytes, nil, nil)
		ns.size += int64(len(b))
		return nil
	})
}

// filterBatch appends to dst what the clean keeps of one batch (Kafka's
// MemoryRecords.filterTo with the cleaner's retention rules): the record
// that holds the latest offset of its key, tombstones until the batch's
// delete horizon, no record without a key, no aborted transactional data,
// and transaction markers as filterMarker says. An unchanged batch is
// copied as is.
func (c *cleaning) filterBatch(dst []byte, h BatchHeader, batch []byte) ([]byte, error) {
	if h.Control() {
		return c.filterMarker(dst, h, batch)
	}
	if c.txns.dataBatch(h) {
		c.stats.RecordsRead += int64(h.RecordCount)
		c.stats.AbortedRemoved += int64(h.RecordCount)
		return c.emptyOrNothing(dst, h, batch)
	}
	recs, err := batchRecords(h, batch)
	if err != nil {
		return dst, err
	}
	horizon, hasHorizon := h.deleteHorizon()
	var kept []cleanerRecord
	all, tombstones := true, false
	err = forEachRecord(h, recs, func(r cleanerRecord) {
		c.stats.RecordsRead++
		off := h.BaseOffset + r.offDelta
		keep := r.key != nil && off >= c.m.get(r.key)
		if keep && r.tombstone && hasHorizon && c.nowMs >= horizon {
			keep = false
			c.stats.TombstonesRemoved++
		}
		if !keep {
			all = false
			return
		}
		tombstones = tombstones || r.tombstone
		kept = append(kept, r)
	})
	if err != nil {
		return dst, err
	}
	c.stats.RecordsKept += int64(len(kept))
	setHorizon := int64(-1)
	if tombstones && !hasHorizon {
		setHorizon = c.nowMs + c.r.cfg.DeleteRetentionMs
		c.stats.DeleteHorizonMs = max(c.stats.DeleteHorizonMs, setHorizon)
	} else if tombstones {
		c.stats.DeleteHorizonMs = max(c.stats.DeleteHorizonMs, horizon)
	}
	if all && setHorizon < 0 {
		return append(dst, batch...), nil
	}
	if len(kept) == 0 {
		return c.emptyOrNothing(dst, h, batch)
	}
	return c.rebuild(dst, h, batch, kept, setHorizon)
}

// filterMarker applies Kafka's rules to a control batch: a marker stays
// while data of its transaction may remain in the log; once a clean finds
// none it gets a delete horizon (delete.retention.ms from then, as a
// tombstone does), and a clean after the horizon removes it. A producer's
// last batch stays, emptied, so its epoch survives.
func (c *cleaning) filterMarker(dst []byte, h BatchHeader, batch []byte) ([]byte, error) {
	c.stats.RecordsRead += int64(h.RecordCount)
	if !c.txns.controlBatch(h, batch) {
		c.stats.RecordsKept += int64(h.RecordCount)
		return append(dst, batch...), nil
	}
	if horizon, ok := h.deleteHorizon(); ok {
		if c.nowMs >= horizon {
			c.stats.MarkersRemoved += int64(h.RecordCount)
			return c.emptyOrNothing(dst, h, batch)
		}
		c.stats.RecordsKept += int64(h.RecordCount)
		c.stats.DeleteHorizonMs = max(c.stats.DeleteHorizonMs, horizon)
		return append(dst, batch...), nil
	}
	if h.RecordCount == 0 {
		return c.emptyOrNothing(dst, h, batch)
	}
	var kept []cleanerRecord
	if err := forEachRecord(h, batch[BatchHeaderSize:], func(r cleanerRecord) { kept = append(kept, r) }); err != nil {
		return dst, err
	}
	c.stats.RecordsKept += int64(len(kept))
	horizon := c.nowMs + c.r.cfg.DeleteRetentionMs
	c.stats.DeleteHorizonMs = max(c.stats.DeleteHorizonMs, horizon)
	return rebuildBatch(dst, batch, h, kept, horizon, nil, &c.cbuf)
}

// emptyOrNothing drops a batch the clean emptied, unless it is its
// producer's last batch, which stays as an empty batch.
func (c *cleaning) emptyOrNothing(dst []byte, h BatchHeader, batch []byte) ([]byte, error) {
	last, err := c.isLastBatchOfProducer(h)
	if err != nil || !last {
		return dst, err
	}
	return rebuildBatch(dst, batch, h, nil, -1, nil, &c.cbuf)
}

// rebuild writes the kept records of a data batch with its codec.
func (c *cleaning) rebuild(dst []byte, h BatchHeader, batch []byte, kept []cleanerRecord, setHorizon int64) ([]byte, error) {
	var err error
	codec := h.Compression()
	comp := c.comps[codec]
	if comp == nil && codec != 0 {
		if codec > 4 {
			return dst, fmt.Errorf("%w: unknown compression codec %d at offset %d", ErrCorruptMessage, codec, h.BaseOffset)
		}
		codecs := []kgo.CompressionCodec{kgo.NoCompression(), kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()}
		if comp, err = kgo.DefaultCompressor(codecs[codec]); err != nil {
			return dst, fmt.Errorf("%w: compressor for codec %d: %v", ErrStorage, codec, err)
		}
		if c.comps == nil {
			c.comps = map[int8]kgo.Compressor{}
		}
		c.comps[codec] = comp
	}
	return rebuildBatch(dst, batch, h, kept, setHorizon, comp, &c.cbuf)
}

// isLastBatchOfProducer reports whether h is the last batch of its
// producer in the log: Kafka keeps such a batch even when cleaning empties
// it, so the producer's last sequence number survives.
func (c *cleaning) isLastBatchOfProducer(h BatchHeader) (bool, error) {
	if h.ProducerID < 0 {
		return false, nil
	}
	if c.producer == nil {
		c.producer = map[int64]int64{}
		c.l.mu.RLock()
		segs := append([]*segment(nil), c.l.segs...)
		sizes := make([]int64, len(segs))
		for i, s := range segs {
			sizes[i] = s.size
		}
		c.l.mu.RUnlock()
		for i, s := range segs {
			for pos := int64(0); pos < sizes[i]; {
				bh, err := s.readHeaderAt(pos, sizes[i])
				if err != nil {
					return false, errors.Join(errCleanAborted, err)
				}
				if bh.ProducerID >= 0 {
					c.producer[bh.ProducerID] = bh.BaseOffset
				}
				pos += int64(bh.Size())
			}
		}
	}
	return c.producer[h.ProducerID] == h.BaseOffset, nil
}

// segWriter appends to a segment's .log at its write position.
type segWriter struct {
	s   *segment
	pos int64
}

func (w *segWriter) Write(p []byte) (int, error) {
	n, err := w.s.log.WriteAt(p, w.pos)
	w.pos += int64(n)
	return n, err
}

// openCleanedSegment creates the .cleaned files of a new segment at base.
func openCleanedSegment(dir string, base int64, nowMs int64) (*segment, error) {
	s := &segment{base: base, dir: dir, next: base, maxTs: -1, maxTsOff: -1, rollTs: -1, created: nowMs}
	var err error
	open := func(suffix string) *os.File {
		if err != nil {
			return nil
		}
		var f *os.File
		f, err = os.OpenFile(s.path(suffix+cleanedSuffix), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
		return f
	}
	s.log, s.idxF, s.tidxF = open(logSuffix), open(indexSuffix), open(timeIndexSuffix)
	if err != nil {
		s.removeWithSuffix(cleanedSuffix)
		return nil, fmt.Errorf("creating cleaned segment %d: %w", base, errors.Join(ErrStorage, err))
	}
	return s, nil
}

// finishCleaned writes the new segment's indexes (with the final time
// index entry a roll would write, and the .txnindex of the aborted
// transactions it keeps) and fsyncs its files.
func (s *segment) finishCleaned() error {
	s.maybeTimeEntry(nil)
	if err := s.rewriteIndexes(); err != nil {
		return err
	}
	if len(s.txns) > 0 {
		var b []byte
		for _, e := range s.txns {
			b = txn.AppendEntry(b, e)
		}
		if err := writeFileSync(s.path(txnIndexSuffix+cleanedSuffix), b); err != nil {
			return fmt.Errorf("writing cleaned transaction index %d: %w", s.base, errors.Join(ErrStorage, err))
		}
	}
	s.dirty = false
	return s.sync()
}

// removeWithSuffix closes the segment and removes its files named with
// suffix appended (a failed clean's .cleaned files).
func (s *segment) removeWithSuffix(suffix string) {
	_ = s.close()
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		_ = os.Remove(s.path(suf + suffix))
	}
}

// swapIn replaces old (taken with sizes) by the cleaned segment ns, whose
// files end in .cleaned, with Kafka's protocol: a range file naming the end
// of the replaced offsets, index files and then the .log renamed to .swap
// (the commit point: recovery completes the swap from here on, and discards
// it before), the old segments unlinked, the .swap files renamed to their
// final names. It holds the log's lock throughout, so no reader opens a
// segment by name half way. If the log changed under the clean it returns
// errCleanAborted and the caller removes the .cleaned files.
func (l *fileLog) swapIn(ns *segment, old []*segment, sizes []int64, upper int64, step func(string) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(); err != nil {
		return err
	}
	at := -1
	for i, s := range l.segs {
		if s == old[0] {
			at = i
			break
		}
	}
	if at < 0 || at+len(old) >= len(l.segs) {
		return errCleanAborted
	}
	for k, s := range old {
		if l.segs[at+k] != s || s.size != sizes[k] {
			return errCleanAborted
		}
	}
	endPath := filepath.Join(l.dir, segmentFileName(ns.base, swapEndSuffix))
	if err := writeFileAtomic(endPath, []byte(strconv.FormatInt(upper, 10)+"\n")); err != nil {
		return fmt.Errorf("swapping cleaned segment into %s: %w", l.name, err)
	}
	rename := func(suffix, from, to string) error {
		if err := os.Rename(ns.path(suffix+from), ns.path(suffix+to)); err != nil {
			return fmt.Errorf("swapping cleaned segment into %s: %w", l.name, errors.Join(ErrStorage, err))
		}
		return nil
	}
	indexes := []string{indexSuffix, timeIndexSuffix}
	for _, suf := range indexes {
		if err := rename(suf, cleanedSuffix, swapSuffix); err != nil {
			_ = os.Remove(endPath)
			return err
		}
	}
	if err := step(StepIndexesSwapped); err != nil {
		return err
	}
	if err := rename(logSuffix, cleanedSuffix, swapSuffix); err != nil {
		_ = os.Remove(endPath)
		for _, suf := range indexes {
			_ = rename(suf, swapSuffix, cleanedSuffix)
		}
		return err
	}
	if err := syncDir(l.dir); err != nil {
		return l.failAfterCommit(err)
	}
	if err := step(StepSwapCommitted); err != nil {
		return err
	}
	return l.completeSwap(ns, old, at, endPath, step)
}

// completeSwap finishes a committed swap. Lock held.
//
// The cleaned segment's .txnindex (the aborted transactions whose data it
// still holds) replaces those of the segments it replaces. It stays
// .txnindex.cleaned until the commit point, then becomes .txnindex.swap,
// which is renamed last: recovery completes it whether or not the .log.swap
// is still there.
func (l *fileLog) completeSwap(ns *segment, old []*segment, at int, endPath string, step func(string) error) error {
	if len(ns.txns) > 0 {
		if err := os.Rename(ns.path(txnIndexSuffix+cleanedSuffix), ns.path(txnIndexSuffix+swapSuffix)); err != nil {
			return l.failAfterCommit(errors.Join(ErrStorage, err))
		}
	}
	for _, s := range old {
		if err := s.remove(); err != nil {
			return l.failAfterCommit(err)
		}
		if err := step(StepOldRemoved); err != nil {
			return err
		}
	}
	for _, suf := range []string{indexSuffix, timeIndexSuffix, logSuffix} {
		if err := os.Rename(ns.path(suf+swapSuffix), ns.path(suf)); err != nil {
			return l.failAfterCommit(errors.Join(ErrStorage, err))
		}
	}
	if len(ns.txns) > 0 {
		if err := os.Rename(ns.path(txnIndexSuffix+swapSuffix), ns.path(txnIndexSuffix)); err != nil {
			return l.failAfterCommit(errors.Join(ErrStorage, err))
		}
	}
	if err := syncDir(l.dir); err != nil {
		return l.failAfterCommit(err)
	}
	if err := step(StepSwapRenamed); err != nil {
		return err
	}
	_ = os.Remove(endPath)
	if err := step(StepSwapDone); err != nil {
		return err
	}
	segs := make([]*segment, 0, len(l.segs)-len(old)+1)
	segs = append(segs, l.segs[:at]...)
	segs = append(segs, ns)
	segs = append(segs, l.segs[at+len(old):]...)
	l.segs = segs
	return nil
}

// failAfterCommit handles an I/O error after a swap's commit point: the
// files on disk are between the old and the new segment set, which only
// recovery at the next open puts right, so the log is closed (its replicas
// answer KAFKA_STORAGE_ERROR until the broker restarts). Lock held.
func (l *fileLog) failAfterCommit(err error) error {
	l.logger.Error("segment swap failed after its commit point; the log is closed until the broker restarts and recovery completes the swap",
		"dir", l.dir, "err", err)
	l.closeSegments()
	l.closed = true
	return fmt.Errorf("swapping cleaned segment into %s: %w", l.name, err)
}

// recoverSwaps completes the swaps a crash interrupted after their commit
// point (a .log.swap exists): the segments in the range the swap replaces
// are deleted and the .swap file renamed; the new segment's indexes are
// rebuilt, so its bases go into verify. Everything else a clean leaves
// behind (.cleaned files, .swap index files and range files of swaps that
// never committed) is removed. logs holds the bases of the .log files and is
// updated.
func (l *fileLog) recoverSwaps(names []string, logs map[int64]bool, verify map[int64]bool) error {
	swaps := map[int64]bool{}
	for _, n := range names {
		if strings.HasSuffix(n, logSuffix+swapSuffix) {
			if b, err := strconv.ParseInt(n[:min(20, len(n))], 10, 64); err == nil {
				swaps[b] = true
			}
		}
	}
	for _, n := range names {
		b, err := strconv.ParseInt(n[:min(20, len(n))], 10, 64)
		newTxnIndex := strings.HasSuffix(n, txnIndexSuffix+cleanedSuffix) && err == nil && swaps[b]
		stale := (strings.HasSuffix(n, cleanedSuffix) && !newTxnIndex) ||
			((strings.HasSuffix(n, swapEndSuffix) || strings.HasSuffix(n, indexSuffix+swapSuffix) || strings.HasSuffix(n, timeIndexSuffix+swapSuffix)) && (err != nil || !swaps[b]))
		if stale {
			_ = os.Remove(filepath.Join(l.dir, n))
		}
	}
	if err := l.finishTxnIndexSwaps(names, swaps); err != nil {
		return err
	}
	for base := range swaps {
		if err := l.completeInterruptedSwap(base, logs, verify); err != nil {
			return err
		}
	}
	return nil
}

// finishTxnIndexSwaps renames a .txnindex.swap whose .log.swap is gone
// into place: the crash came after the swap's .log was renamed, and the
// index is its last step.
func (l *fileLog) finishTxnIndexSwaps(names []string, swaps map[int64]bool) error {
	done := false
	for _, n := range names {
		b, err := strconv.ParseInt(n[:min(20, len(n))], 10, 64)
		if err != nil || swaps[b] || !strings.HasSuffix(n, txnIndexSuffix+swapSuffix) {
			continue
		}
		ns := &segment{base: b, dir: l.dir}
		if err := os.Rename(ns.path(txnIndexSuffix+swapSuffix), ns.path(txnIndexSuffix)); err != nil {
			return fmt.Errorf("completing an interrupted segment swap: %w", errors.Join(ErrStorage, err))
		}
		done = true
	}
	if done {
		return syncDir(l.dir)
	}
	return nil
}

// completeInterruptedSwap completes the committed swap of the segment at
// base (its .log.swap exists). logs and verify as for recoverSwaps.
func (l *fileLog) completeInterruptedSwap(base int64, logs, verify map[int64]bool) error {
	end := base + 1
	endPath := filepath.Join(l.dir, segmentFileName(base, swapEndSuffix))
	if b, err := os.ReadFile(endPath); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > base {
			end = v
		}
	}
	for b := range logs {
		if b >= base && b < end {
			gone := &segment{base: b, dir: l.dir}
			if err := gone.remove(); err != nil {
				return err
			}
			delete(logs, b)
		}
	}
	ns := &segment{base: base, dir: l.dir}
	for _, suf := range []string{indexSuffix, timeIndexSuffix} {
		_ = os.Remove(ns.path(suf))
		_ = os.Remove(ns.path(suf + swapSuffix))
	}
	if err := os.Rename(ns.path(logSuffix+swapSuffix), ns.path(logSuffix)); err != nil {
		return fmt.Errorf("completing an interrupted segment swap: %w", errors.Join(ErrStorage, err))
	}
	// The swap's .txnindex, if the cleaned segment kept aborted
	// transactions: still .cleaned, or already .swap.
	for _, from := range []string{cleanedSuffix, swapSuffix} {
		if err := os.Rename(ns.path(txnIndexSuffix+from), ns.path(txnIndexSuffix)); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("completing an interrupted segment swap: %w", errors.Join(ErrStorage, err))
		}
	}
	if err := syncDir(l.dir); err != nil {
		return err
	}
	_ = os.Remove(endPath)
	logs[base] = true
	verify[base] = true
	l.logger.Warn("completed a segment swap interrupted by a crash", "dir", l.dir, "segment", segmentFileName(base, logSuffix), "replaced_up_to", end)
	return nil
}
