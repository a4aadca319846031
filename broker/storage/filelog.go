package storage

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osprey-kafka/osprey/broker/txn"
)

// LeaderEpochCheckpointFile is Kafka's per-partition epoch history file.
const LeaderEpochCheckpointFile = "leader-epoch-checkpoint"

// fileLog is the segment-file Log.
//
// Locking: mu guards every field below it and all segment state. Appends,
// rolls, truncation and deletion hold it for writing (the write(2) of an
// append happens under it, so a reader that sees a segment size sees
// whole batches below it); reads hold it for reading while they find
// positions and open their own descriptor, then release it before any
// bytes are copied. fsync in Flush happens outside the lock.
type fileLog struct {
	dir    string
	name   string // <topic>-<partition>, for log lines
	logger *slog.Logger
	now    func() time.Time

	mu            sync.RWMutex
	cfg           Config
	segs          []*segment // ascending base offsets; the last is active; never empty while open
	start         int64      // log start offset
	hw            int64
	recoveryPoint int64 // offsets below are known to be on stable storage
	unflushed     int64 // records appended since the last flush
	lastFlushMs   int64
	epochs        epochCache
	dirDirty      bool // a segment file was created since the last flush: fsync the directory too
	closed        bool
	// stableFn gives the log's last stable offset (its owner's transaction
	// state); the cleaner stops below it. Called without mu held.
	stableFn func() int64
	// health is the log dir's; set by the Manager right after the log is
	// opened (nil for a log opened without one: it never goes offline).
	health *dirHealth
	// txnsFn is told of the aborted transactions a clean kept (see
	// TxnOwnerHooks). Called without mu held.
	txnsFn func(from, to int64, kept []txn.AbortedTxn)

	// Background flushes after rolls: at most one flusher goroutine runs;
	// flushWG.Add happens with mu held and before closed is set, so Close
	// can wait for it.
	flushReq atomic.Bool
	flushing atomic.Bool
	flushWG  sync.WaitGroup
}

// requestFlush makes sure a background Flush runs after this call. Lock
// held (so Close's wait covers the goroutine).
func (l *fileLog) requestFlush() {
	l.flushReq.Store(true)
	if !l.flushing.CompareAndSwap(false, true) {
		return // the running flusher will see flushReq
	}
	l.flushWG.Add(1)
	go func() {
		defer l.flushWG.Done()
		for {
			for l.flushReq.Swap(false) {
				if err := l.Flush(); err != nil && !errors.Is(err, ErrLogClosed) && !errors.Is(err, ErrLogDirOffline) {
					l.logger.Warn("background flush after a segment roll failed", "dir", l.dir, "err", err)
				}
			}
			l.flushing.Store(false)
			// A request made between the Swap and the Store found flushing
			// set and left; take it over unless someone else has.
			if !l.flushReq.Load() || !l.flushing.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

func (l *fileLog) active() *segment { return l.segs[len(l.segs)-1] }

// end is the log end offset. Lock held.
func (l *fileLog) end() int64 { return l.active().next }

// openFileLog opens or creates the partition directory dir and recovers
// it as described on OpenManager.
func openFileLog(dir string, cfg Config, st logState, logger *slog.Logger, now func() time.Time) (*fileLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating partition dir: %w", errors.Join(ErrStorage, err))
	}
	l := &fileLog{dir: dir, name: filepath.Base(dir), logger: logger, now: now, cfg: cfg, lastFlushMs: now().UnixMilli()}
	bases, verify, err := l.listSegments()
	if err != nil {
		return nil, err
	}
	epochPath := filepath.Join(dir, LeaderEpochCheckpointFile)
	fileEpochs, err := readEpochCheckpoint(epochPath)
	if err != nil {
		logger.Warn("unreadable leader epoch checkpoint; rebuilding it from the batches", "dir", dir, "err", err)
		st.recoveryPoint = -1 // scan everything so the epochs come back
	} else if _, serr := os.Stat(epochPath); serr != nil && len(bases) > 0 {
		logger.Warn("missing leader epoch checkpoint; rebuilding it from the batches", "dir", dir)
		st.recoveryPoint = -1
	}
	var scanned epochCache
	nowMs := now().UnixMilli()
	recovered, err := l.openSegments(bases, verify, st.recoveryPoint, nowMs, &scanned)
	if err != nil {
		l.closeSegments()
		return nil, err
	}
	if len(l.segs) == 0 {
		base := max(st.logStart, 0)
		seg, err := openSegmentFiles(dir, base, true, nowMs)
		if err != nil {
			return nil, err
		}
		l.segs = []*segment{seg}
	}
	leo := l.end()
	l.start = min(max(st.logStart, l.segs[0].base), leo)
	l.hw = min(max(st.hw, l.start), leo)
	l.epochs = epochCache{entries: fileEpochs}
	l.epochs.truncateFromEnd(leo)
	for _, e := range scanned.entries {
		l.epochs.assign(e.Epoch, e.StartOffset)
	}
	l.epochs.truncateFromStart(l.start)
	if _, err := os.Stat(epochPath); err != nil {
		recovered = true // a new log: write the (empty) epoch file
	}
	if recovered {
		// Everything is verified now; make it durable before trusting it.
		if err := l.syncAll(); err != nil {
			l.closeSegments()
			return nil, err
		}
	}
	l.recoveryPoint = leo
	return l, nil
}

// openSegments opens the segments at bases in order, trusting those wholly
// below recoveryPoint (except those in verify) and verifying the rest; the epochs of the verified
// batches go into scanned. A torn or corrupt batch truncates its segment and
// deletes every later one. It reports whether any segment was verified. On
// error the caller closes what was opened.
func (l *fileLog) openSegments(bases []int64, verify map[int64]bool, recoveryPoint, nowMs int64, scanned *epochCache) (recovered bool, err error) {
	for i, base := range bases {
		seg, err := openSegmentFiles(l.dir, base, false, nowMs)
		if err != nil {
			return recovered, err
		}
		l.segs = append(l.segs, seg)
		fi, err := seg.log.Stat()
		if err != nil {
			return recovered, fmt.Errorf("stat segment: %w", errors.Join(ErrStorage, err))
		}
		size := fi.Size()
		last := i == len(bases)-1
		// Segments wholly below the recovery point are trusted (indexes
		// loaded, only the tail's headers read); the rest are verified.
		if recoveryPoint >= 0 && !verify[base] && (last || bases[i+1] <= recoveryPoint) &&
			l.loadTrusted(seg, size) && (!last || seg.next <= recoveryPoint) {
			if err := seg.loadTxnIndex(); err != nil {
				return recovered, err
			}
			continue
		}
		recovered = true
		valid, cause, err := l.recoverSegment(seg, size, scanned)
		if err != nil {
			return recovered, err
		}
		if valid == size {
			if err := seg.loadTxnIndex(); err != nil {
				return recovered, err
			}
			continue
		}
		// A torn or corrupt batch: everything from it on is gone, including
		// later segments (Kafka does the same).
		l.logger.Warn("truncating log after an unclean shutdown",
			"dir", l.dir, "segment", segmentFileName(base, logSuffix), "offset", seg.next,
			"position", valid, "bytes_truncated", size-valid, "later_segments_deleted", len(bases)-1-i, "cause", cause)
		if err := seg.log.Truncate(valid); err != nil {
			return recovered, fmt.Errorf("truncating torn segment: %w", errors.Join(ErrStorage, err))
		}
		if err := seg.loadTxnIndex(); err != nil {
			return recovered, err
		}
		for _, b := range bases[i+1:] {
			gone := &segment{base: b, dir: l.dir}
			if err := gone.remove(); err != nil {
				return recovered, err
			}
		}
		break
	}
	return recovered, nil
}

// syncAll makes every segment and the epoch checkpoint durable.
func (l *fileLog) syncAll() error {
	for _, s := range l.segs {
		if err := s.sync(); err != nil {
			return err
		}
	}
	return l.writeEpochs()
}

// listSegments finds NNNNNNNNNNNNNNNNNNNN.log files and removes leftovers
// Kafka would remove (*.deleted, *.tmp, orphan index files), completing or
// discarding an interrupted segment swap first (recoverSwaps); verify holds
// the segments a completed swap put in place, whose indexes are rebuilt.
func (l *fileLog) listSegments() (bases []int64, verify map[int64]bool, err error) {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("listing partition dir: %w", errors.Join(ErrStorage, err))
	}
	logs := map[int64]bool{}
	verify = map[int64]bool{}
	var others, names []string
	for _, e := range ents {
		n := e.Name()
		names = append(names, n)
		switch {
		case strings.HasSuffix(n, ".deleted"), strings.HasSuffix(n, ".tmp"):
			_ = os.Remove(filepath.Join(l.dir, n))
		case strings.HasSuffix(n, logSuffix) && len(n) == 20+len(logSuffix):
			if b, err := strconv.ParseInt(n[:20], 10, 64); err == nil {
				logs[b] = true
			}
		case strings.HasSuffix(n, indexSuffix), strings.HasSuffix(n, timeIndexSuffix):
			others = append(others, n)
		}
	}
	if err := l.recoverSwaps(names, logs, verify); err != nil {
		return nil, nil, err
	}
	for _, n := range others {
		if b, err := strconv.ParseInt(n[:min(20, len(n))], 10, 64); err != nil || !logs[b] {
			_ = os.Remove(filepath.Join(l.dir, n))
		}
	}
	bases = make([]int64, 0, len(logs))
	for b := range logs {
		bases = append(bases, b)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, verify, nil
}

// loadTrusted loads a segment below the recovery point: its index files
// and, from the last indexed batch on, its headers (no CRC check). It
// returns false if anything looks wrong, and the caller recovers instead.
func (l *fileLog) loadTrusted(seg *segment, size int64) bool {
	if !seg.loadIndexes(size) {
		return false
	}
	seg.size = size
	pos := int64(0)
	seg.maxTs, seg.maxTsOff = -1, -1
	if n := len(seg.idx); n > 0 {
		pos = seg.idx[n-1].pos
	}
	if n := len(seg.tidx); n > 0 {
		seg.maxTs, seg.maxTsOff = seg.tidx[n-1].ts, seg.tidx[n-1].off
	}
	seg.next = seg.base
	for pos < size {
		h, err := seg.readHeaderAt(pos, size)
		if err != nil || h.Magic != 2 || h.BaseOffset < seg.next {
			return false
		}
		if pos == 0 {
			seg.rollTs = h.MaxTimestamp
		}
		if h.MaxTimestamp > seg.maxTs {
			seg.maxTs, seg.maxTsOff = h.MaxTimestamp, h.LastOffset()
		}
		seg.next = h.LastOffset() + 1
		seg.sinceIdx += int64(h.Size())
		pos += int64(h.Size())
	}
	if len(seg.idx) > 0 && seg.next <= seg.idx[len(seg.idx)-1].off {
		return false
	}
	if seg.rollTs < 0 && size > 0 {
		if h, err := seg.readHeaderAt(0, size); err == nil {
			seg.rollTs = h.MaxTimestamp
		}
	}
	return true
}

// recoverSegment reads every batch of seg, checking framing, magic, CRC
// and offsets, and rebuilds both indexes. It returns the length of the
// valid prefix and, if shorter than size, why the rest is invalid.
func (l *fileLog) recoverSegment(seg *segment, size int64, epochs *epochCache) (int64, string, error) {
	seg.idx, seg.tidx = nil, nil
	seg.size, seg.next, seg.sinceIdx = 0, seg.base, 0
	seg.maxTs, seg.maxTsOff, seg.rollTs = -1, -1, -1
	r := bufio.NewReaderSize(io.NewSectionReader(seg.log, 0, size), 256<<10)
	var buf []byte
	cause := ""
	for seg.size < size {
		var hdr [logOverhead]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			cause = fmt.Sprintf("torn batch header (%d bytes)", size-seg.size)
			break
		}
		length := int64(int32(uint32(hdr[8])<<24 | uint32(hdr[9])<<16 | uint32(hdr[10])<<8 | uint32(hdr[11])))
		if length < BatchHeaderSize-logOverhead || seg.size+logOverhead+length > size {
			cause = fmt.Sprintf("batch length %d with %d bytes left", length, size-seg.size-logOverhead)
			break
		}
		if int64(cap(buf)) < logOverhead+length {
			buf = make([]byte, logOverhead+length)
		}
		buf = buf[:logOverhead+length]
		copy(buf, hdr[:])
		if _, err := io.ReadFull(r, buf[logOverhead:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				cause = "torn batch"
				break
			}
			return 0, "", fmt.Errorf("reading segment %d: %w", seg.base, errors.Join(ErrStorage, err))
		}
		h := parseHeader(buf)
		if h.Magic != 2 {
			cause = fmt.Sprintf("magic %d", h.Magic)
			break
		}
		if crc := crc32.Checksum(buf[offAttributes:], crc32c); crc != h.CRC {
			cause = fmt.Sprintf("CRC-32C %08x, batch says %08x", crc, h.CRC)
			break
		}
		// Offsets must ascend and fit the index's relative offsets (as in
		// Kafka, at most MaxInt32 above the segment's base).
		if rel := h.BaseOffset - seg.base; h.BaseOffset < seg.next || h.LastOffsetDelta < 0 || rel > math.MaxInt32 || rel+int64(h.LastOffsetDelta) > math.MaxInt32 {
			cause = fmt.Sprintf("batch offsets %d..%d out of order (expected from %d)", h.BaseOffset, h.LastOffset(), seg.next)
			break
		}
		seg.indexBatch(h, seg.size, l.cfg.IndexIntervalBytes, nil, nil)
		epochs.assign(h.PartitionLeaderEpoch, h.BaseOffset)
		seg.size += int64(len(buf))
	}
	if err := seg.rewriteIndexes(); err != nil {
		return 0, "", err
	}
	return seg.size, cause, nil
}

func (l *fileLog) closeSegments() {
	for _, s := range l.segs {
		_ = s.close()
	}
}

// Append implements Log.
func (l *fileLog) Append(b []byte, leaderEpoch int32) (AppendInfo, error) {
	l.mu.Lock()
	if err := l.usable(); err != nil {
		l.mu.Unlock()
		return AppendInfo{}, err
	}
	nowMs := l.now().UnixMilli()
	p, err := prepareAppend(b, l.end(), leaderEpoch, l.cfg, nowMs)
	if err != nil {
		l.mu.Unlock()
		return AppendInfo{}, fmt.Errorf("append to %s: %w", l.name, err)
	}
	if int64(len(b)) > l.cfg.SegmentBytes {
		l.mu.Unlock()
		return AppendInfo{}, fmt.Errorf("append to %s: %d bytes > segment.bytes %d: %w", l.name, len(b), l.cfg.SegmentBytes, ErrRecordListTooLarge)
	}
	info, flush, err := l.write(b, p, nowMs)
	l.mu.Unlock()
	return l.afterWrite(info, flush, err)
}

// AppendAsFollower implements Log. Unlike a producer's append, a
// follower's may be larger than a segment: it is split at batch
// boundaries and may roll several times. If an I/O error stops it part
// way, the batches before the failure stay appended.
func (l *fileLog) AppendAsFollower(b []byte) (AppendInfo, error) {
	l.mu.Lock()
	if err := l.usable(); err != nil {
		l.mu.Unlock()
		return AppendInfo{}, err
	}
	p, err := prepareFollowerAppend(b, l.end())
	if err != nil {
		l.mu.Unlock()
		return AppendInfo{}, fmt.Errorf("follower append to %s: %w", l.name, err)
	}
	info, flush, err := l.write(b, p, l.now().UnixMilli())
	l.mu.Unlock()
	return l.afterWrite(info, flush, err)
}

// afterWrite runs the flush flush.messages asked for, outside the lock,
// so the fsync does not stall other readers and writers of the partition.
// An I/O error of either takes the log dir offline.
func (l *fileLog) afterWrite(info AppendInfo, flush bool, err error) (AppendInfo, error) {
	if err != nil {
		return AppendInfo{}, l.health.check(err)
	}
	if flush {
		if err := l.Flush(); err != nil && !errors.Is(err, ErrLogClosed) {
			return AppendInfo{}, err
		}
	}
	return info, nil
}

// write appends validated batches, in chunks that each fit a segment,
// rolling before a chunk when needed (a roll starts a background flush).
// It reports whether flush.messages asks for a flush before the append is
// acknowledged. Lock held.
func (l *fileLog) write(b []byte, p prepared, nowMs int64) (AppendInfo, bool, error) {
	flush := false
	pos, i := 0, 0
	for i < len(p.headers) {
		// The largest run of batches from i that fits in a segment (at
		// least one batch).
		j, n := i, 0
		for j < len(p.headers) && (j == i || int64(n+p.headers[j].Size()) <= l.cfg.SegmentBytes) {
			n += p.headers[j].Size()
			j++
		}
		rolled, err := l.writeChunk(b[pos:pos+n], p.headers[i:j], nowMs)
		if err != nil {
			return AppendInfo{}, false, err
		}
		if rolled {
			// Kafka flushes the rolled segment in the background; so do we,
			// so a roll costs the producer no fsync.
			l.requestFlush()
			p.info.Rolled = true
		}
		pos, i = pos+n, j
	}
	epochChanged := false
	for _, h := range p.headers {
		if l.epochs.assign(h.PartitionLeaderEpoch, h.BaseOffset) {
			epochChanged = true
		}
	}
	if epochChanged {
		// The batches are in the log; the epoch history is rebuilt from
		// them at the next open, but this broker can no longer keep it.
		if err := l.writeEpochs(); err != nil {
			l.health.check(fmt.Errorf("writing leader epoch checkpoint of %s: %w", l.name, err))
		}
	}
	l.unflushed += p.info.RecordCount
	if l.unflushed >= l.cfg.FlushMessages {
		flush = true
	}
	info := p.info
	info.LogStartOffset = l.start
	return info, flush, nil
}

// writeChunk appends batches to the active segment, rolling first if
// Kafka would. All or nothing. Lock held.
func (l *fileLog) writeChunk(b []byte, hs []BatchHeader, nowMs int64) (rolled bool, err error) {
	if l.shouldRoll(len(b), hs, nowMs) {
		if err := l.roll(hs[0].BaseOffset, nowMs); err != nil {
			return false, err
		}
		rolled = true
	}
	seg := l.active()
	saved := seg.state()
	if _, err := seg.log.WriteAt(b, seg.size); err != nil {
		_ = seg.log.Truncate(saved.size)
		return rolled, fmt.Errorf("append to %s: %w", l.name, errors.Join(ErrStorage, err))
	}
	var ib, tb []byte
	pos := seg.size
	for _, h := range hs {
		ib, tb = seg.indexBatch(h, pos, l.cfg.IndexIntervalBytes, ib, tb)
		pos += int64(h.Size())
	}
	if err := seg.writeIndexes(ib, tb); err != nil {
		seg.restore(saved)
		_ = seg.log.Truncate(saved.size)
		_ = seg.rewriteIndexes()
		return rolled, fmt.Errorf("append to %s: %w", l.name, err)
	}
	seg.size = pos
	seg.dirty = true
	return rolled, nil
}

// shouldRoll follows Kafka's LogSegment.shouldRoll. Lock held.
func (l *fileLog) shouldRoll(n int, hs []BatchHeader, nowMs int64) bool {
	seg := l.active()
	if seg.size == 0 {
		return false
	}
	maxTs := int64(-1)
	for _, h := range hs {
		maxTs = max(maxTs, h.MaxTimestamp)
	}
	waited := nowMs - seg.created
	if seg.rollTs >= 0 && maxTs >= 0 {
		waited = maxTs - seg.rollTs
	}
	last := hs[len(hs)-1].LastOffset()
	return seg.size+int64(n) > l.cfg.SegmentBytes ||
		waited > l.cfg.SegmentMs ||
		int64(len(seg.idx)+len(hs))*idxEntrySize > int64(l.cfg.SegmentIndexBytes) ||
		last-seg.base > math.MaxInt32
}

// roll starts a new active segment at base, after writing the old one's
// final time index entry. The old segment stays dirty; the caller flushes
// it outside the lock, which moves the recovery point to base. Lock held.
func (l *fileLog) roll(base int64, nowMs int64) error {
	old := l.active()
	if tb := old.maybeTimeEntry(nil); len(tb) > 0 {
		if err := old.writeIndexes(nil, tb); err != nil {
			return err
		}
		old.dirty = true
	}
	seg, err := openSegmentFiles(l.dir, base, true, nowMs)
	if err != nil {
		return fmt.Errorf("rolling %s: %w", l.name, err)
	}
	l.segs = append(l.segs, seg)
	l.dirDirty = true
	l.logger.Debug("rolled segment", "dir", l.dir, "base_offset", base)
	return nil
}

// Read implements Log.
func (l *fileLog) Read(offset int64, maxBytes int32, maxOffset int64, minOneMessage bool) (ReadResult, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.usable(); err != nil {
		return nil, err
	}
	if offset < l.start || offset > l.end() {
		return nil, fmt.Errorf("read %s at %d, log is [%d, %d): %w", l.name, offset, l.start, l.end(), ErrOffsetOutOfRange)
	}
	empty := &bytesResult{first: -1}
	if offset >= maxOffset || offset == l.end() {
		return empty, nil // the common long-poll case: nothing new yet
	}
	for i := l.segIndex(offset); i < len(l.segs); i++ {
		seg := l.segs[i]
		pos, h, found, err := seg.translate(offset)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", l.name, err)
		}
		if !found {
			continue
		}
		if h.LastOffset() >= maxOffset {
			return empty, nil
		}
		var end int64
		if int64(h.Size()) > int64(maxBytes) {
			if !minOneMessage {
				return empty, nil
			}
			end = pos + int64(h.Size())
		} else if end, err = seg.readEnd(pos, pos+int64(maxBytes), maxOffset); err != nil {
			return nil, fmt.Errorf("read %s: %w", l.name, err)
		}
		// A descriptor of our own: its file offset is ours to Seek (for
		// sendfile), and it outlives retention deleting the segment.
		f, err := os.Open(seg.path(logSuffix))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", l.name, errors.Join(ErrStorage, err))
		}
		return &fileResult{f: f, pos: pos, n: end - pos, first: h.BaseOffset}, nil
	}
	return empty, nil
}

// segIndex is the index of the segment that would hold offset. Lock held.
func (l *fileLog) segIndex(offset int64) int {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset })
	return max(i-1, 0)
}

func (l *fileLog) LogStartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.start
}

func (l *fileLog) LogEndOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.end()
}

func (l *fileLog) HighWatermark() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return min(max(l.hw, l.start), l.end())
}

func (l *fileLog) SetHighWatermark(hw int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.hw = min(max(hw, l.start), l.end())
	}
}

// SetTxnIndexChangedFunc implements TxnOwnerHooks.
func (l *fileLog) SetTxnIndexChangedFunc(fn func(from, to int64, kept []txn.AbortedTxn)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.txnsFn = fn
}

// SetLastStableOffsetFunc implements TxnOwnerHooks.
func (l *fileLog) SetLastStableOffsetFunc(fn func() int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stableFn = fn
}

// OffsetForTimestamp implements Log.
func (l *fileLog) OffsetForTimestamp(ts int64) (int64, int64, bool, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.usable(); err != nil {
		return 0, 0, false, err
	}
	var buf []byte
	for _, seg := range l.segs {
		if seg.maxTs < ts || seg.next <= l.start {
			continue
		}
		// The last time index entry with a timestamp below ts: every batch
		// up to its offset is older than ts, so the scan can start there.
		pos := int64(0)
		i := sort.Search(len(seg.tidx), func(i int) bool { return seg.tidx[i].ts >= ts })
		if i > 0 {
			pos = seg.lookup(seg.tidx[i-1].off)
		}
		for pos < seg.size {
			h, err := seg.readHeaderAt(pos, seg.size)
			if err != nil {
				return 0, 0, false, fmt.Errorf("offset for timestamp in %s: %w", l.name, err)
			}
			if h.MaxTimestamp >= ts && h.LastOffset() >= l.start {
				buf = append(buf[:0], make([]byte, h.Size())...)
				if _, err := seg.log.ReadAt(buf, pos); err != nil {
					return 0, 0, false, fmt.Errorf("offset for timestamp in %s: %w", l.name, errors.Join(ErrStorage, err))
				}
				off, t, ok, err := findRecordByTimestamp(buf, h, ts)
				if err != nil || ok {
					return max(off, l.start), t, ok, err
				}
			}
			pos += int64(h.Size())
		}
	}
	return 0, 0, false, nil
}

// MaxTimestamp implements Log.
func (l *fileLog) MaxTimestamp() (int64, int64, bool, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.usable(); err != nil {
		return 0, 0, false, err
	}
	var best *segment
	bestTs, bestOff := int64(-1), int64(-1)
	for _, s := range l.segs {
		ts, off := s.maxTs, s.maxTsOff
		if off >= 0 && off < l.start {
			// The segment's maximum is below the log start: look only at
			// its batches from the start on.
			var err error
			if ts, off, err = s.maxTimestampFrom(l.start); err != nil {
				return 0, 0, false, fmt.Errorf("max timestamp of %s: %w", l.name, err)
			}
		}
		if ts >= 0 && ts > bestTs {
			best, bestTs, bestOff = s, ts, off
		}
	}
	if best == nil {
		return 0, 0, false, nil
	}
	pos, h, found, err := best.translate(bestOff)
	if err != nil || !found {
		return 0, 0, false, fmt.Errorf("max timestamp of %s: batch with offset %d: %w", l.name, bestOff, errors.Join(ErrCorruptMessage, err))
	}
	buf := make([]byte, h.Size())
	if _, err := best.log.ReadAt(buf, pos); err != nil {
		return 0, 0, false, fmt.Errorf("max timestamp of %s: %w", l.name, errors.Join(ErrStorage, err))
	}
	off, ts, ok, err := findRecordByTimestamp(buf, h, bestTs)
	return ts, max(off, l.start), ok, err
}

// DeleteRecordsBefore implements Log.
func (l *fileLog) DeleteRecordsBefore(offset int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(); err != nil {
		return 0, err
	}
	start, err := l.deleteRecordsLocked(offset)
	return start, l.health.check(err)
}

// deleteRecordsLocked does the work of DeleteRecordsBefore. Lock held.
func (l *fileLog) deleteRecordsLocked(offset int64) (int64, error) {
	hw := min(max(l.hw, l.start), l.end())
	if offset > hw {
		return l.start, fmt.Errorf("delete records of %s before %d, high watermark %d: %w", l.name, offset, hw, ErrOffsetOutOfRange)
	}
	if offset <= l.start {
		return l.start, nil
	}
	l.start = offset
	if l.epochs.truncateFromStart(l.start) {
		if err := l.writeEpochs(); err != nil {
			return l.start, err
		}
	}
	// Whole segments below the new start go; the active one never does.
	n := 0
	for n < len(l.segs)-1 && l.segs[n+1].base <= l.start {
		n++
	}
	return l.start, l.deleteOldest(n)
}

// deleteOldest removes the first n segments. Lock held.
func (l *fileLog) deleteOldest(n int) error {
	var errs []error
	for _, s := range l.segs[:n] {
		if err := s.remove(); err != nil {
			errs = append(errs, err)
		}
	}
	l.segs = append([]*segment(nil), l.segs[n:]...)
	l.start = max(l.start, l.segs[0].base)
	if n > 0 {
		errs = append(errs, l.removeSnapshots(func(off int64) bool { return off < l.segs[0].base }))
	}
	return errors.Join(errs...)
}

// TruncateTo implements Log.
func (l *fileLog) TruncateTo(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if offset < 0 {
		return fmt.Errorf("truncate to %d: %w", offset, ErrOffsetOutOfRange)
	}
	if err := l.usable(); err != nil {
		return err
	}
	return l.health.check(l.truncateToLocked(offset))
}

// truncateToLocked does the work of TruncateTo. Lock held.
func (l *fileLog) truncateToLocked(offset int64) error {
	if offset >= l.end() {
		return nil
	}
	if offset < l.start {
		return l.truncateFullyLocked(offset)
	}
	if err := l.removeSnapshots(func(off int64) bool { return off > offset }); err != nil {
		return fmt.Errorf("truncate %s: %w", l.name, err)
	}
	i := l.segIndex(offset)
	// Remove later segments entirely.
	for _, s := range l.segs[i+1:] {
		if err := s.remove(); err != nil {
			return err
		}
	}
	l.segs = l.segs[:i+1]
	seg := l.segs[i]
	// Cut at the batch that holds offset (or the first one after it).
	pos, _, found, err := seg.translate(offset)
	if err != nil {
		return fmt.Errorf("truncate %s: %w", l.name, err)
	}
	if !found {
		pos = seg.size
	}
	if err := seg.log.Truncate(pos); err != nil {
		return fmt.Errorf("truncate %s: %w", l.name, errors.Join(ErrStorage, err))
	}
	if err := seg.truncatedAt(pos); err != nil {
		return fmt.Errorf("truncate %s: %w", l.name, err)
	}
	if seg.dropTxnsFrom(seg.next) {
		if err := seg.rewriteTxnIndex(); err != nil {
			return fmt.Errorf("truncate %s: %w", l.name, err)
		}
	}
	seg.dirty = true
	if seg.size == 0 {
		seg.created = l.now().UnixMilli()
	}
	if l.end() < l.start {
		// The cut batch straddled the log start: nothing readable is left.
		return l.truncateFullyLocked(l.start)
	}
	l.hw = min(l.hw, l.end())
	l.recoveryPoint = min(l.recoveryPoint, l.end())
	if l.epochs.truncateFromEnd(l.end()) {
		if err := l.writeEpochs(); err != nil {
			return err
		}
	}
	return nil
}

// TruncateFullyAndStartAt implements Log.
func (l *fileLog) TruncateFullyAndStartAt(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if offset < 0 {
		return fmt.Errorf("truncate fully and start at %d: %w", offset, ErrOffsetOutOfRange)
	}
	if err := l.usable(); err != nil {
		return err
	}
	return l.health.check(l.truncateFullyLocked(offset))
}

func (l *fileLog) truncateFullyLocked(offset int64) error {
	for _, s := range l.segs {
		if err := s.remove(); err != nil {
			return err
		}
	}
	if err := l.removeSnapshots(func(int64) bool { return true }); err != nil {
		return err
	}
	seg, err := openSegmentFiles(l.dir, offset, true, l.now().UnixMilli())
	if err != nil {
		l.segs = nil
		l.closed = true // nothing is left to serve from
		return err
	}
	l.segs = []*segment{seg}
	l.start, l.hw, l.recoveryPoint = offset, offset, offset
	l.epochs = epochCache{}
	return l.writeEpochs()
}

func (l *fileLog) LatestEpoch() int32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.latest()
}

func (l *fileLog) EndOffsetForEpoch(epoch int32) (int32, int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return -1, -1
	}
	return l.epochs.endOffsetFor(epoch, l.end())
}

func (l *fileLog) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

func (l *fileLog) Config() Config {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cfg
}

func (l *fileLog) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg
	return nil
}

// DeleteExpired implements Log, following Kafka's deleteOldSegments:
// segments are considered oldest first and only while every offset in them
// is below the high watermark; an empty active segment is never deleted;
// if every segment is deletable a new active segment is rolled first.
func (l *fileLog) DeleteExpired(nowMs int64) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(); err != nil {
		return 0, err
	}
	n, err := l.deleteExpiredLocked(nowMs)
	return n, l.health.check(err)
}

// deleteExpiredLocked does the work of DeleteExpired. Lock held.
func (l *fileLog) deleteExpiredLocked(nowMs int64) (int, error) {
	if !l.cfg.deletesByRetention() {
		return 0, nil
	}
	hw := min(max(l.hw, l.start), l.end())
	var total int64
	for _, s := range l.segs {
		total += s.size
	}
	diff := total - l.cfg.RetentionBytes
	n := 0
	for n < len(l.segs) {
		s := l.segs[n]
		upper := s.next
		if n+1 < len(l.segs) {
			upper = l.segs[n+1].base
		}
		isLastEmpty := n == len(l.segs)-1 && s.size == 0
		if hw < upper || isLastEmpty {
			break
		}
		expired := l.cfg.RetentionMs >= 0 && nowMs-s.largestTimestamp() > l.cfg.RetentionMs
		oversize := l.cfg.RetentionBytes >= 0 && diff-s.size >= 0
		if !expired && !oversize {
			break
		}
		if oversize {
			diff -= s.size
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if n == len(l.segs) {
		if err := l.roll(l.end(), nowMs); err != nil {
			return 0, err
		}
	}
	err := l.deleteOldest(n)
	if l.epochs.truncateFromStart(l.start) {
		err = errors.Join(err, l.writeEpochs())
	}
	return n, err
}

// largestTimestamp is the segment's largest batch timestamp, or its file's
// modification time when it has none (as Kafka does).
func (s *segment) largestTimestamp() int64 {
	if s.maxTs >= 0 {
		return s.maxTs
	}
	if fi, err := s.log.Stat(); err == nil {
		return fi.ModTime().UnixMilli()
	}
	return math.MaxInt64 // unknown: never expire
}

// Flush implements Log. The fsyncs run outside the lock: appends and
// reads carry on meanwhile, and the recovery point moves to the log end
// offset as it was when the flush began.
func (l *fileLog) Flush() error {
	l.mu.Lock()
	if err := l.usable(); err != nil {
		l.mu.Unlock()
		return err
	}
	return l.health.check(l.flushUnlocking())
}

// flushUnlocking does the work of Flush; it is called with the lock held
// and releases it.
func (l *fileLog) flushUnlocking() error {
	var dirty []*segment
	for _, s := range l.segs {
		if s.dirty {
			dirty = append(dirty, s)
			s.dirty = false
		}
	}
	end := l.end()
	l.unflushed = 0
	l.lastFlushMs = l.now().UnixMilli()
	dirDirty := l.dirDirty
	l.dirDirty = false
	l.mu.Unlock()
	if dirDirty {
		// New segment files must survive a crash as directory entries too.
		if err := syncDir(l.dir); err != nil {
			l.mu.Lock()
			l.dirDirty = true
			l.mu.Unlock()
			return fmt.Errorf("flush %s: %w", l.name, err)
		}
	}
	for i, s := range dirty {
		// A segment closed meanwhile (deleted) reports os.ErrClosed, which
		// sync ignores.
		if err := s.sync(); err != nil {
			l.mu.Lock()
			for _, d := range dirty[i:] {
				d.dirty = true
			}
			l.mu.Unlock()
			return fmt.Errorf("flush %s: %w", l.name, err)
		}
	}
	l.mu.Lock()
	l.recoveryPoint = max(l.recoveryPoint, min(end, l.end()))
	l.mu.Unlock()
	return nil
}

// flushLocked fsyncs dirty segments with the lock held (Close). Lock held.
func (l *fileLog) flushLocked() error {
	if l.dirDirty {
		if err := syncDir(l.dir); err != nil {
			return fmt.Errorf("flush %s: %w", l.name, err)
		}
		l.dirDirty = false
	}
	for _, s := range l.segs {
		if !s.dirty {
			continue
		}
		if err := s.sync(); err != nil {
			return fmt.Errorf("flush %s: %w", l.name, err)
		}
		s.dirty = false
	}
	l.recoveryPoint = l.end()
	l.unflushed = 0
	l.lastFlushMs = l.now().UnixMilli()
	return nil
}

// flushIfDue flushes when flush.ms has passed since the last flush.
func (l *fileLog) flushIfDue(nowMs int64) error {
	l.mu.RLock()
	due := l.usable() == nil && l.cfg.FlushMs != math.MaxInt64 && nowMs-l.lastFlushMs >= l.cfg.FlushMs
	l.mu.RUnlock()
	if !due {
		return nil
	}
	return l.Flush()
}

// Close implements Log.
func (l *fileLog) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrLogClosed
	}
	if l.health.err() != nil {
		// Nothing is written to a failed dir (Kafka's closeHandlers).
		l.mu.Unlock()
		l.closeForDelete()
		return nil
	}
	err := l.flushLocked()
	if tb := l.active().maybeTimeEntry(nil); len(tb) > 0 {
		err = errors.Join(err, l.active().writeIndexes(nil, tb), l.active().sync())
	}
	for _, s := range l.segs {
		err = errors.Join(err, s.close())
	}
	l.closed = true
	l.mu.Unlock()
	l.flushWG.Wait() // a background flush ends at once with ErrLogClosed
	return err
}

// closeForDelete closes the files without flushing: the data is about to
// be removed.
func (l *fileLog) closeForDelete() {
	l.mu.Lock()
	if !l.closed {
		l.closeSegments()
		l.closed = true
	}
	l.mu.Unlock()
	l.flushWG.Wait()
}

// checkpointState is what the Manager writes to its checkpoint files.
func (l *fileLog) checkpointState() (recoveryPoint, logStart, hw int64, ok bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return 0, 0, 0, false
	}
	return l.recoveryPoint, l.start, min(max(l.hw, l.start), l.end()), true
}

// writeEpochs writes leader-epoch-checkpoint atomically. Lock held.
func (l *fileLog) writeEpochs() error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "0\n%d\n", len(l.epochs.entries))
	for _, e := range l.epochs.entries {
		fmt.Fprintf(&sb, "%d %d\n", e.Epoch, e.StartOffset)
	}
	return writeFileAtomic(filepath.Join(l.dir, LeaderEpochCheckpointFile), []byte(sb.String()))
}

func readEpochCheckpoint(path string) ([]epochEntry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, errors.Join(ErrStorage, err))
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) < 2 || strings.TrimSpace(lines[0]) != "0" {
		return nil, fmt.Errorf("%w: %s: bad header", ErrCorruptMessage, path)
	}
	n, err := strconv.Atoi(strings.TrimSpace(lines[1]))
	if err != nil || n != len(lines)-2 {
		return nil, fmt.Errorf("%w: %s: bad count", ErrCorruptMessage, path)
	}
	var c epochCache
	for _, ln := range lines[2:] {
		f := strings.Fields(ln)
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: %s: line %q", ErrCorruptMessage, path, ln)
		}
		e, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || !c.assign(int32(e), o) {
			return nil, fmt.Errorf("%w: %s: line %q", ErrCorruptMessage, path, ln)
		}
	}
	return c.entries, nil
}

// fileResult is a section of a segment file with a descriptor of its own.
type fileResult struct {
	f      *os.File
	pos, n int64
	first  int64
}

func (r *fileResult) Len() int           { return int(r.n) }
func (r *fileResult) FirstOffset() int64 { return r.first }

// WriteTo sends the section to w. io.Copy offers w.ReadFrom an
// *io.LimitedReader around an *os.File (the LimitedReader has no WriteTo,
// so io.Copy cannot take the src side); *net.TCPConn.ReadFrom recognises
// exactly that shape and calls sendfile(2) from the file's current
// offset, which is why the file is Seek'ed first and why each result has
// its own descriptor (a shared one's offset would race). Other writers get
// an ordinary read/write copy.
func (r *fileResult) WriteTo(w io.Writer) (int64, error) {
	if _, err := r.f.Seek(r.pos, io.SeekStart); err != nil {
		return 0, fmt.Errorf("seeking segment: %w", errors.Join(ErrStorage, err))
	}
	n, err := io.Copy(w, &io.LimitedReader{R: r.f, N: r.n})
	if err == nil && n < r.n {
		// The segment was truncated under us (follower truncation).
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return n, fmt.Errorf("sending records: %w", err)
	}
	return n, nil
}

func (r *fileResult) AppendTo(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, r.n)...)
	if _, err := r.f.ReadAt(dst[start:], r.pos); err != nil {
		return dst[:start], fmt.Errorf("reading records: %w", errors.Join(ErrStorage, err))
	}
	return dst, nil
}

func (r *fileResult) Close() error {
	if err := r.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("closing segment reader: %w", err)
	}
	return nil
}
