package quorum

import (
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/osprey-kafka/osprey/broker/storage"
)

// StorageLog is a Log on broker/storage: the partition __cluster_metadata-0 of a metadata log
// directory (metadata.log.dir), laid out as Apache Kafka lays it out — segment files of record
// batches, one batch per entry (see encodeEntries), whose base offset and partition leader epoch
// are the entry's, with the leader-epoch-checkpoint and the recovery checkpoints beside them. On
// open the storage layer recovers the log (a torn or corrupt tail past the recovery point is cut
// off), so a restarted node finds every entry it acknowledged.
//
// Like every Log it is used by the Node's owner only; the storage log's own lock makes it safe
// anyway. Append and Truncate fsync before returning, because the node acknowledges entries as
// soon as they return.
type StorageLog struct {
	mgr    *storage.Manager
	log    storage.Log
	shared bool // mgr belongs to someone else (OpenStorageLogOn): Close leaves it open
}

// StorageLogOptions tunes OpenStorageLog.
type StorageLogOptions struct {
	// SegmentBytes is metadata.log.segment.bytes; 0 means Kafka's default (1 GiB).
	SegmentBytes int64
	Logger       *slog.Logger
}

// OpenStorageLog opens (creating if needed) the metadata log in dir. The directory is locked
// until Close, so two nodes can never share it.
func OpenStorageLog(dir string, opts StorageLogOptions) (*StorageLog, error) {
	cfg := metadataLogConfig(opts)
	mgr, err := storage.OpenManager(dir, opts.Logger, storage.WithDefaultConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("quorum: opening metadata log dir %s: %w", dir, err)
	}
	l, err := mgr.GetOrCreate(MetadataTopic, 0, cfg)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("quorum: opening %s-0 in %s: %w", MetadataTopic, dir, err), mgr.Close())
	}
	return &StorageLog{mgr: mgr, log: l}, nil
}

// OpenStorageLogOn opens the metadata log in a directory whose Manager is already open, as on a
// KRaft node whose metadata.log.dir is also one of its log.dirs (Kafka's default): the broker's
// log manager holds the directory lock, and the quorum keeps only its own partition. The log's
// configuration is replaced with the quorum's (no retention), whatever the manager recovered it
// with. Close flushes the log and leaves the manager open.
func OpenStorageLogOn(mgr *storage.Manager, opts StorageLogOptions) (*StorageLog, error) {
	l, err := mgr.GetOrCreate(MetadataTopic, 0, metadataLogConfig(opts))
	if err != nil {
		return nil, fmt.Errorf("quorum: opening %s-0: %w", MetadataTopic, err)
	}
	return &StorageLog{mgr: mgr, log: l, shared: true}, nil
}

func metadataLogConfig(opts StorageLogOptions) storage.Config {
	cfg := storage.DefaultConfig()
	// The quorum's log is never deleted by retention: without snapshots every entry is needed
	// to bring a replica up to date. fsyncs are explicit (see Append).
	cfg.RetentionMs = -1
	cfg.RetentionBytes = -1
	cfg.FlushMessages = math.MaxInt64
	if opts.SegmentBytes > 0 {
		cfg.SegmentBytes = opts.SegmentBytes
	}
	return cfg
}

// Storage is the underlying partition log (for readers such as a metadata replay).
func (l *StorageLog) Storage() storage.Log { return l.log }

func (l *StorageLog) EndOffset() int64 { return l.log.LogEndOffset() }

func (l *StorageLog) LastEpoch() int32 {
	// broker/storage says -1 for an empty log; the quorum says 0.
	return max(l.log.LatestEpoch(), 0)
}

func (l *StorageLog) Append(entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	end, last := l.EndOffset(), l.LastEpoch()
	for i, e := range entries {
		if e.Offset != end+int64(i) {
			return fmt.Errorf("append at offset %d: log ends at %d", e.Offset, end+int64(i))
		}
		if e.Epoch < last {
			return fmt.Errorf("append at offset %d: epoch %d is below the last epoch %d", e.Offset, e.Epoch, last)
		}
		last = e.Epoch
	}
	if _, err := l.log.AppendAsFollower(encodeEntries(nil, entries)); err != nil {
		return fmt.Errorf("append at offset %d: %w", entries[0].Offset, err)
	}
	if err := l.log.Flush(); err != nil {
		return fmt.Errorf("flush after append at offset %d: %w", entries[0].Offset, err)
	}
	return nil
}

// readChunk bounds one storage read; a read returns batches of one segment only, so Read loops.
const readChunk = 1 << 20

// readSize is the bytes one storage read asks for when want more entries are to be read: about
// 4 KiB an entry (a metadata entry is usually far smaller; a larger one is still returned whole,
// and Read reads on), so a read of a few entries does not copy a whole chunk.
func readSize(want int) int32 {
	return int32(min(readChunk, max(want, 1)*4096))
}

func (l *StorageLog) Read(from int64, max int) ([]Entry, error) {
	end := l.EndOffset()
	if start := l.StartOffset(); from < start || from > end {
		return nil, fmt.Errorf("read at offset %d: log has [%d, %d)", from, start, end)
	}
	var out []Entry
	for len(out) < max && from < end {
		rr, err := l.log.Read(from, readSize(max-len(out)), end, true)
		if err != nil {
			return nil, fmt.Errorf("read at offset %d: %w", from, err)
		}
		// A new buffer each time: the entries' Data point into it.
		buf, err := rr.AppendTo(nil)
		rr.Close()
		if err != nil {
			return nil, fmt.Errorf("read at offset %d: %w", from, err)
		}
		// Only the entries asked for are decoded: a read of one entry (a snapshot's last
		// entry, a follower at the tail) would otherwise decode a whole chunk of batches.
		n := len(out)
		out, err = decodeEntriesInto(out, buf, from, max-len(out))
		if err != nil {
			return nil, fmt.Errorf("read at offset %d: %w", from, err)
		}
		if len(out) == n {
			return nil, fmt.Errorf("read at offset %d: no entry found below the log end %d", from, end)
		}
		from = out[len(out)-1].Offset + 1
	}
	return out, nil
}

func (l *StorageLog) EndOffsetForEpoch(epoch int32) OffsetAndEpoch {
	// broker/storage answers as OffsetForLeaderEpoch does, which differs from the quorum's
	// contract at both ends: an epoch above the latest is undefined there (here: the latest
	// epoch and the log end), and an epoch below the first is answered with the first epoch's
	// start offset (here: {0, 0}; an epoch that has an entry in the log ends above its start).
	if l.EndOffset() == l.StartOffset() {
		return OffsetAndEpoch{}
	}
	if latest := l.log.LatestEpoch(); epoch >= latest {
		return OffsetAndEpoch{Offset: l.EndOffset(), Epoch: latest}
	}
	e, off := l.log.EndOffsetForEpoch(epoch)
	if e < 0 || off <= l.StartOffset() {
		return OffsetAndEpoch{}
	}
	return OffsetAndEpoch{Offset: off, Epoch: e}
}

func (l *StorageLog) Truncate(offset int64) error {
	if start := l.StartOffset(); offset < start {
		return fmt.Errorf("truncate to %d, below the log start %d", offset, start)
	}
	if offset >= l.EndOffset() {
		return nil
	}
	if err := l.log.TruncateTo(offset); err != nil {
		return fmt.Errorf("truncate to %d: %w", offset, err)
	}
	if err := l.log.Flush(); err != nil {
		return fmt.Errorf("flush after truncate to %d: %w", offset, err)
	}
	return nil
}

// Close flushes the log, writes the checkpoints and releases the directory.
func (l *StorageLog) Close() error {
	if l.shared {
		if err := l.log.Flush(); err != nil {
			return fmt.Errorf("quorum: flushing metadata log: %w", err)
		}
		return nil
	}
	if err := l.mgr.Close(); err != nil {
		return fmt.Errorf("quorum: closing metadata log: %w", err)
	}
	return nil
}
