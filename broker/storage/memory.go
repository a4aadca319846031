package storage

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/broker/txn"
)

// memBatch is one stored batch of a memory log.
type memBatch struct {
	h    BatchHeader
	data []byte
}

// memoryLog keeps batches in a slice. It mirrors the file log's contract;
// retention treats each batch as a segment (there are no files to roll).
type memoryLog struct {
	now func() time.Time

	mu      sync.RWMutex // guards everything below
	cfg     Config
	batches []memBatch // contiguous offsets, ascending
	start   int64      // log start offset
	end     int64      // log end offset
	hw      int64
	size    int64
	epochs  epochCache
	closed  bool
	aborted []txn.AbortedTxn // transaction index (txnindex.go)
}

// NewMemoryLog returns an empty in-memory Log starting at offset 0, for
// tests of code above storage. Nothing survives the process. It panics if
// cfg is invalid (a programming error in a test).
func NewMemoryLog(cfg Config) Log {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("storage.NewMemoryLog: %v", err))
	}
	return &memoryLog{cfg: cfg, now: time.Now}
}

func (l *memoryLog) Append(b []byte, leaderEpoch int32) (AppendInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return AppendInfo{}, ErrLogClosed
	}
	p, err := prepareAppend(b, l.end, leaderEpoch, l.cfg, l.now().UnixMilli())
	if err != nil {
		return AppendInfo{}, fmt.Errorf("append: %w", err)
	}
	if int64(len(b)) > l.cfg.SegmentBytes {
		return AppendInfo{}, fmt.Errorf("append: %d bytes > segment.bytes %d: %w", len(b), l.cfg.SegmentBytes, ErrRecordListTooLarge)
	}
	return l.store(b, p), nil
}

func (l *memoryLog) AppendAsFollower(b []byte) (AppendInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return AppendInfo{}, ErrLogClosed
	}
	p, err := prepareFollowerAppend(b, l.end)
	if err != nil {
		return AppendInfo{}, fmt.Errorf("follower append: %w", err)
	}
	return l.store(b, p), nil
}

// store appends prepared batches. Lock held.
func (l *memoryLog) store(b []byte, p prepared) AppendInfo {
	pos := 0
	for _, h := range p.headers {
		l.batches = append(l.batches, memBatch{h: h, data: b[pos : pos+h.Size()]})
		pos += h.Size()
		l.epochs.assign(h.PartitionLeaderEpoch, h.BaseOffset)
	}
	l.end = p.info.LastOffset + 1
	l.size += int64(len(b))
	p.info.LogStartOffset = l.start
	return p.info
}

// firstBatchAtOrAfter is the index of the first batch whose last offset
// is >= off. Lock held.
func (l *memoryLog) firstBatchAtOrAfter(off int64) int {
	return sort.Search(len(l.batches), func(i int) bool { return l.batches[i].h.LastOffset() >= off })
}

func (l *memoryLog) Read(offset int64, maxBytes int32, maxOffset int64, minOneMessage bool) (ReadResult, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, ErrLogClosed
	}
	if offset < l.start || offset > l.end {
		return nil, fmt.Errorf("read at %d, log is [%d, %d): %w", offset, l.start, l.end, ErrOffsetOutOfRange)
	}
	var out []byte
	first := int64(-1)
	for i := l.firstBatchAtOrAfter(offset); i < len(l.batches); i++ {
		mb := l.batches[i]
		if mb.h.LastOffset() >= maxOffset {
			break
		}
		if len(out)+len(mb.data) > int(maxBytes) && !(len(out) == 0 && minOneMessage) {
			break
		}
		if first < 0 {
			first = mb.h.BaseOffset
		}
		out = append(out, mb.data...)
	}
	return &bytesResult{b: out, first: first}, nil
}

func (l *memoryLog) LogStartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.start
}

func (l *memoryLog) LogEndOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.end
}

func (l *memoryLog) HighWatermark() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return min(max(l.hw, l.start), l.end)
}

func (l *memoryLog) SetHighWatermark(hw int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hw = min(max(hw, l.start), l.end)
}

func (l *memoryLog) OffsetForTimestamp(ts int64) (int64, int64, bool, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return 0, 0, false, ErrLogClosed
	}
	for _, mb := range l.batches {
		if mb.h.MaxTimestamp < ts {
			continue
		}
		off, t, ok, err := findRecordByTimestamp(mb.data, mb.h, ts)
		if err != nil || ok {
			if ok && off < l.start {
				off = l.start
			}
			return off, t, ok, err
		}
	}
	return 0, 0, false, nil
}

func (l *memoryLog) MaxTimestamp() (int64, int64, bool, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return 0, 0, false, ErrLogClosed
	}
	best := -1
	for i, mb := range l.batches {
		if mb.h.MaxTimestamp >= 0 && (best < 0 || mb.h.MaxTimestamp > l.batches[best].h.MaxTimestamp) {
			best = i
		}
	}
	if best < 0 {
		return 0, 0, false, nil
	}
	mb := l.batches[best]
	off, ts, ok, err := findRecordByTimestamp(mb.data, mb.h, mb.h.MaxTimestamp)
	return ts, max(off, l.start), ok, err
}

func (l *memoryLog) DeleteRecordsBefore(offset int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrLogClosed
	}
	hw := min(max(l.hw, l.start), l.end)
	if offset > hw {
		return l.start, fmt.Errorf("delete records before %d, high watermark %d: %w", offset, hw, ErrOffsetOutOfRange)
	}
	if offset > l.start {
		l.start = offset
		l.dropBelowStart()
	}
	return l.start, nil
}

// dropBelowStart forgets batches wholly below the start offset. Lock held.
func (l *memoryLog) dropBelowStart() {
	i := l.firstBatchAtOrAfter(l.start)
	for _, mb := range l.batches[:i] {
		l.size -= int64(len(mb.data))
	}
	l.batches = append([]memBatch(nil), l.batches[i:]...)
	l.epochs.truncateFromStart(l.start)
}

func (l *memoryLog) TruncateTo(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if offset < 0 {
		return fmt.Errorf("truncate to %d: %w", offset, ErrOffsetOutOfRange)
	}
	if l.closed {
		return ErrLogClosed
	}
	if offset >= l.end {
		return nil
	}
	if offset < l.start {
		l.batches, l.size = nil, 0
		l.start, l.end, l.hw = offset, offset, offset
		l.epochs = epochCache{}
		return nil
	}
	i := l.firstBatchAtOrAfter(offset)
	for _, mb := range l.batches[i:] {
		l.size -= int64(len(mb.data))
	}
	l.batches = l.batches[:i]
	if i > 0 {
		l.end = l.batches[i-1].h.LastOffset() + 1
	} else {
		// The cut batch straddled the log start: nothing readable is left.
		l.end = l.start
	}
	l.epochs.truncateFromEnd(l.end)
	l.hw = min(l.hw, l.end)
	return nil
}

func (l *memoryLog) TruncateFullyAndStartAt(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if offset < 0 {
		return fmt.Errorf("truncate fully and start at %d: %w", offset, ErrOffsetOutOfRange)
	}
	if l.closed {
		return ErrLogClosed
	}
	l.batches, l.size = nil, 0
	l.start, l.end, l.hw = offset, offset, offset
	l.epochs = epochCache{}
	return nil
}

func (l *memoryLog) LatestEpoch() int32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.latest()
}

func (l *memoryLog) EndOffsetForEpoch(epoch int32) (int32, int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.endOffsetFor(epoch, l.end)
}

func (l *memoryLog) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.size
}

func (l *memoryLog) Config() Config {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cfg
}

func (l *memoryLog) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg
	return nil
}

// DeleteExpired treats every batch but the last as a closed segment.
func (l *memoryLog) DeleteExpired(nowMs int64) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrLogClosed
	}
	if !l.cfg.deletesByRetention() {
		return 0, nil
	}
	n := 0
	size := l.size
	for n < len(l.batches)-1 {
		mb := l.batches[n]
		expired := l.cfg.RetentionMs >= 0 && nowMs-mb.h.MaxTimestamp > l.cfg.RetentionMs
		oversize := l.cfg.RetentionBytes >= 0 && size-int64(len(mb.data)) >= l.cfg.RetentionBytes
		if !expired && !oversize {
			break
		}
		size -= int64(len(mb.data))
		n++
	}
	if n > 0 {
		l.start = l.batches[n].h.BaseOffset
		l.dropBelowStart()
	}
	return n, nil
}

func (l *memoryLog) Flush() error { return nil }

func (l *memoryLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return nil
}

// bytesResult is an in-memory ReadResult.
type bytesResult struct {
	b     []byte
	first int64
}

func (r *bytesResult) Len() int           { return len(r.b) }
func (r *bytesResult) FirstOffset() int64 { return r.first }
func (r *bytesResult) Close() error       { return nil }

func (r *bytesResult) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r.b)
	if err != nil {
		return int64(n), fmt.Errorf("writing records: %w", err)
	}
	return int64(n), nil
}

func (r *bytesResult) AppendTo(dst []byte) ([]byte, error) { return append(dst, r.b...), nil }
