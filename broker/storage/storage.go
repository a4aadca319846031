// Package storage is the broker's durable partition log: one Log per
// partition replica, laid out on disk exactly as Apache Kafka lays it out
// (a directory <topic>-<partition>/ holding segments 00000000000000000000.log
// with their sparse .index and .timeindex files), plus a Manager for one
// log.dir that owns the partition directories, the checkpoint files
// (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
// replication-offset-checkpoint), meta.properties and the retention loop.
//
// Record batches are stored as the producer sent them: the broker assigns
// the base offset and the partition leader epoch (both outside the CRC),
// verifies the CRC-32C, and never decodes or recompresses records on the
// append or fetch path. Fetches are served from segment files; a
// ReadResult written to a *net.TCPConn goes out with sendfile(2).
//
// Two implementations share the Log interface: the file log (OpenManager)
// and an in-memory log (NewMemoryLog, NewMemoryManager) for tests of code
// that sits above storage.
//
// Locking: each Log has its own lock; there is no lock shared by all
// partitions. The Manager's lock guards only its map of logs and is never
// held while a Log does I/O for appends or reads. A file log starts at most
// one goroutine of its own, to fsync rolled segments in the background;
// Close waits for it.
//
// Durability follows Kafka: an acknowledged append is in the page cache
// (it survives the process being killed, not a power cut) unless
// flush.messages asks for an fsync per append. Segments are fsynced when
// they roll, on Flush and on Close; the recovery point (the offset below
// which data is known to be on disk) goes to recovery-point-offset-checkpoint,
// and segments above it are verified batch by batch (length, magic, CRC,
// offsets) when the log is opened again.
//
// With WithLogDirFailureHandler, the first I/O error of a write path takes
// the whole log dir offline, as Kafka's LogDirFailureChannel does: every
// log of the dir then answers ErrLogDirOffline until the dir is opened
// again (dirfailure.go).
package storage

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/osprey-kafka/osprey/broker/txn"
)

// Log is one partition replica's log. All methods are safe for concurrent
// use. Appends are serialised by the log's own lock; reads run concurrently
// with each other and with appends and only ever see fully written batches.
// No method blocks on anything but local disk I/O.
type Log interface {
	// Append validates raw record batches as a producer sent them (magic 2,
	// batch length consistent with the buffer, CRC-32C over attributes..end,
	// lastOffsetDelta+1 == recordCount, a known compression codec, each
	// batch at most MaxMessageBytes), assigns offsets from LogEndOffset by
	// rewriting each batch's baseOffset in place, sets partitionLeaderEpoch
	// to leaderEpoch (both fields are outside the CRC), and, when the
	// topic's message.timestamp.type is LogAppendTime, sets the timestamp
	// type attribute and maxTimestamp to the broker's clock and recomputes
	// the CRC. Compressed batches are otherwise untouched.
	//
	// batches is modified in place and is retained by the memory log; the
	// caller must not reuse it after a successful Append.
	//
	// All batches go into one segment (rolling first if segment.bytes,
	// segment.ms or a full index says so); more than segment.bytes in one
	// call is ErrRecordListTooLarge. Either all batches are appended or
	// none is. Errors wrap one of the Err* values below (ErrCorruptMessage,
	// ErrRecordTooLarge, ErrRecordListTooLarge, ErrInvalidRecord,
	// ErrUnsupportedForMessageFormat, ErrLogClosed, ErrLogDirOffline, or
	// an I/O error wrapping ErrStorage, which also takes the log's dir
	// offline); use KafkaErrorCode to map them.
	//
	// Append blocks on the write(2) to the segment; after a segment roll
	// (or when flush.messages is reached) it also waits for the fsync of
	// the older segments, which runs without the log's lock held.
	Append(batches []byte, leaderEpoch int32) (AppendInfo, error)

	// AppendAsFollower appends batches that already carry their offsets
	// and leader epochs (replication). They are CRC-checked and the first
	// batch's baseOffset must be at least LogEndOffset, each following batch
	// must start after the previous one (else ErrOffsetNotContiguous); gaps
	// are allowed, as a compacted leader log has them.
	// Nothing in the batches is rewritten. batches may hold more than a
	// segment; they are split at batch boundaries over as many segments as
	// needed (an I/O error part way leaves the earlier batches appended).
	AppendAsFollower(batches []byte) (AppendInfo, error)

	// Read returns whole batches starting with the batch that contains
	// offset, from a single segment, up to maxBytes in total. A batch is
	// included only if all of its offsets are below maxOffset (exclusive;
	// pass the high watermark for consumers, LogEndOffset for followers).
	// If the first batch alone is larger than maxBytes it is returned
	// anyway when minOneMessage is true (KIP-74), otherwise the result is
	// empty. offset == LogEndOffset gives an empty result; offset below
	// LogStartOffset or above LogEndOffset gives ErrOffsetOutOfRange.
	//
	// The caller must Close the result (it may hold an open file).
	Read(offset int64, maxBytes int32, maxOffset int64, minOneMessage bool) (ReadResult, error)

	// LogStartOffset is the first offset that may be read.
	LogStartOffset() int64
	// LogEndOffset is the offset the next appended record will get.
	LogEndOffset() int64

	// HighWatermark is the last value given to SetHighWatermark, clamped
	// to [LogStartOffset, LogEndOffset]. The log does not compute it; the
	// replica manager does. The Manager persists it in
	// replication-offset-checkpoint and restores it on open.
	HighWatermark() int64
	// SetHighWatermark records the high watermark (clamped as above).
	SetHighWatermark(hw int64)

	// OffsetForTimestamp returns the first offset whose record timestamp is
	// >= ts and that record's timestamp (ListOffsets by time), using the
	// .timeindex to find the segment and position. For batches with
	// LogAppendTime every record has the batch's maxTimestamp. Records of
	// compressed batches are decompressed to find the exact record.
	// found is false when no record has such a timestamp.
	OffsetForTimestamp(ts int64) (offset int64, timestamp int64, found bool, err error)

	// MaxTimestamp answers ListOffsets with timestamp -3 (KIP-734): the
	// largest record timestamp in the log and the offset of the first
	// record carrying it. found is false for an empty log or when no batch
	// has a timestamp.
	MaxTimestamp() (timestamp int64, offset int64, found bool, err error)

	// DeleteRecordsBefore advances the log start offset to offset
	// (DeleteRecords); offsets above the high watermark are refused with
	// ErrOffsetOutOfRange (as Kafka does). Segments lying entirely below
	// the new start are deleted. Returns the new log start offset, which
	// never moves backwards.
	DeleteRecordsBefore(offset int64) (newStart int64, err error)

	// TruncateTo removes every batch that holds an offset >= offset
	// (follower truncation on leader change). As in Kafka, a batch that
	// contains offset goes entirely, so LogEndOffset afterwards may be
	// below offset. Truncating at or above LogEndOffset does nothing; below
	// LogStartOffset it acts as TruncateFullyAndStartAt(offset). The high
	// watermark and the leader epoch history are truncated too. A negative
	// offset is ErrOffsetOutOfRange.
	TruncateTo(offset int64) error

	// TruncateFullyAndStartAt deletes all data and restarts the log empty
	// at offset (a follower whose leader's log start is above its end).
	TruncateFullyAndStartAt(offset int64) error

	// LatestEpoch returns the leader epoch of the last appended batch, or
	// -1 for an empty log.
	LatestEpoch() int32
	// EndOffsetForEpoch answers OffsetForLeaderEpoch: the largest epoch <=
	// epoch present in the log and the end offset of that epoch (the start
	// offset of the next higher epoch, or LogEndOffset for the latest).
	// Returns (-1, -1) if the log holds no epoch <= epoch.
	EndOffsetForEpoch(epoch int32) (leaderEpoch int32, endOffset int64)

	// Size is the number of bytes of record data the log holds (on disk
	// for the file log: the sum of segment sizes).
	Size() int64

	// Config returns the log's current configuration.
	Config() Config
	// SetConfig replaces the log's configuration (AlterConfigs). It takes
	// effect for the next append, roll and retention check.
	SetConfig(cfg Config) error

	// DeleteExpired applies retention (retention.ms, retention.bytes,
	// cleanup.policy) at the given time in Unix milliseconds and returns
	// how many segments were deleted. The active segment is deleted only
	// when it is past retention.ms and not empty; the log then rolls a new,
	// empty active segment first, as Kafka does.
	DeleteExpired(nowMs int64) (int, error)

	// AppendAbortedTxn records an aborted transaction in the transaction
	// index (.txnindex) of the segment holding its abort marker
	// (e.LastOffset, which must be in the log). The entry is durable when
	// it returns; it goes with its segment (retention, truncation).
	AppendAbortedTxn(e txn.AbortedTxn) error
	// AbortedTxns returns the transaction index entries of the log, by
	// marker offset.
	AbortedTxns() []txn.AbortedTxn

	// WriteProducerSnapshot writes a producer-state snapshot taken at
	// offset (the state of every batch below it, Kafka's
	// <offset>.snapshot; producer_snapshot.go), durable when it returns.
	// offset must be within [log start, log end]. Snapshots go with the
	// segments below them and with truncation past them. A memory log
	// keeps none.
	WriteProducerSnapshot(offset int64, data []byte) error
	// ProducerSnapshot returns the latest snapshot whose offset is within
	// [log start, log end], or offset -1 when there is none.
	ProducerSnapshot() (offset int64, data []byte, err error)

	// Flush writes all appended data and indexes to stable storage and
	// advances the recovery point.
	Flush() error
	// Close flushes and releases the log's files. Later calls fail with
	// ErrLogClosed; outstanding ReadResults stay readable until closed.
	Close() error
}

// ReadResult is the outcome of Log.Read: a run of whole record batches,
// either a section of a segment file or an in-memory slice.
type ReadResult interface {
	// Len is the number of bytes.
	Len() int
	// WriteTo writes all bytes to w. When w is a *net.TCPConn (or a
	// bufio.Writer over one), a file-backed result is sent with sendfile(2):
	// WriteTo hands w.ReadFrom an *io.LimitedReader around an *os.File of
	// its own, which is exactly what the net package's sendfile path accepts.
	WriteTo(w io.Writer) (int64, error)
	// AppendTo appends the bytes to dst (for callers that build the whole
	// response in memory) without disturbing any file position.
	AppendTo(dst []byte) ([]byte, error)
	// FirstOffset is the base offset of the first batch, or -1 if empty.
	FirstOffset() int64
	// Close releases the result's resources. It is safe to call twice.
	Close() error
}

// AppendInfo describes what an append wrote.
type AppendInfo struct {
	FirstOffset int64 // base offset of the first batch
	LastOffset  int64 // last offset of the last batch
	// MaxTimestamp and OffsetOfMaxTimestamp are over all batches appended
	// (for LogAppendTime, the append time and the last offset).
	MaxTimestamp         int64
	OffsetOfMaxTimestamp int64
	// LogAppendTime is the broker time (ms) stamped on the batches when
	// the topic uses LogAppendTime, else -1 (Produce response field).
	LogAppendTime  int64
	LogStartOffset int64 // log start offset after the append
	RecordCount    int64 // sum of recordCount over the batches
	Bytes          int   // bytes appended
	Batches        int   // number of batches appended
	// Rolled is true when the append started a new segment (Kafka takes
	// a producer-state snapshot then).
	Rolled bool
}

// Errors. Every error returned by this package wraps one of these.
var (
	// ErrCorruptMessage: bad CRC, bad length, truncated batch, unknown
	// compression codec. Kafka: CORRUPT_MESSAGE (2).
	ErrCorruptMessage = errors.New("corrupt message")
	// ErrRecordTooLarge: a batch is larger than max.message.bytes.
	// Kafka: MESSAGE_TOO_LARGE (10).
	ErrRecordTooLarge = errors.New("record batch too large")
	// ErrRecordListTooLarge: the batches do not fit in one segment.
	// Kafka: RECORD_LIST_TOO_LARGE (18).
	ErrRecordListTooLarge = errors.New("record list too large for a segment")
	// ErrInvalidRecord: structurally valid but semantically wrong, e.g.
	// recordCount != lastOffsetDelta+1 or a non-zero producer base offset.
	// Kafka: INVALID_RECORD (87).
	ErrInvalidRecord = errors.New("invalid record")
	// ErrUnsupportedForMessageFormat: magic other than 2.
	// Kafka: UNSUPPORTED_FOR_MESSAGE_FORMAT (43).
	ErrUnsupportedForMessageFormat = errors.New("unsupported message format (magic)")
	// ErrOffsetOutOfRange: read or delete outside the log.
	// Kafka: OFFSET_OUT_OF_RANGE (1).
	ErrOffsetOutOfRange = errors.New("offset out of range")
	// ErrOffsetNotContiguous: a follower append does not start at the log
	// end offset. Kafka raises UnexpectedAppendOffsetException; the
	// follower should truncate and refetch. Maps to UNKNOWN_SERVER_ERROR.
	ErrOffsetNotContiguous = errors.New("appended offsets not contiguous with log end")
	// ErrLogClosed: the log was closed or deleted.
	// Kafka: KAFKA_STORAGE_ERROR (56) — the replica is not available here.
	ErrLogClosed = errors.New("log closed")
	// ErrStorage wraps I/O failures. Kafka: KAFKA_STORAGE_ERROR (56).
	ErrStorage = errors.New("storage I/O error")
	// ErrInvalidConfig: a bad topic configuration value.
	// Kafka: INVALID_CONFIG (40).
	ErrInvalidConfig = errors.New("invalid config")
)

// KafkaErrorCode maps an error from this package to the Kafka protocol
// error code a handler should answer with (0 for nil, -1
// UNKNOWN_SERVER_ERROR for anything unrecognised).
func KafkaErrorCode(err error) int16 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrOffsetOutOfRange):
		return 1
	case errors.Is(err, ErrCorruptMessage):
		return 2
	case errors.Is(err, ErrRecordTooLarge):
		return 10
	case errors.Is(err, ErrRecordListTooLarge):
		return 18
	case errors.Is(err, ErrInvalidConfig):
		return 40
	case errors.Is(err, ErrUnsupportedForMessageFormat):
		return 43
	case errors.Is(err, ErrLogClosed), errors.Is(err, ErrStorage), errors.Is(err, ErrLogDirOffline):
		return 56
	case errors.Is(err, ErrInvalidRecord):
		return 87
	default:
		return -1
	}
}

// Timestamp types for Config.MessageTimestampType (Kafka's names).
const (
	CreateTime    = "CreateTime"
	LogAppendTime = "LogAppendTime"
)

// Cleanup policies for Config.CleanupPolicy.
const (
	CleanupDelete        = "delete"
	CleanupCompact       = "compact"
	CleanupCompactDelete = "compact,delete"
)

// Config is a topic's log configuration, mirroring Kafka's topic-level
// config names (the field comments give them). Durations are in
// milliseconds and sizes in bytes; -1 means unlimited where Kafka allows it.
//
// cleanup.policy=compact keeps the latest value of each key (the Cleaner
// removes older ones) and skips time and size retention; compact,delete
// does both; DeleteRecords works under every policy.
type Config struct {
	SegmentBytes         int64  // segment.bytes (default 1 GiB, min 14)
	SegmentMs            int64  // segment.ms (default 7 days)
	SegmentIndexBytes    int32  // segment.index.bytes (default 10 MiB): a full offset index rolls the segment
	IndexIntervalBytes   int32  // index.interval.bytes (default 4096)
	RetentionMs          int64  // retention.ms (default 7 days, -1 = forever)
	RetentionBytes       int64  // retention.bytes (default -1 = unlimited), per partition
	MaxMessageBytes      int32  // max.message.bytes (default 1048588)
	MessageTimestampType string // message.timestamp.type: CreateTime or LogAppendTime
	CleanupPolicy        string // cleanup.policy: delete, compact, compact,delete
	FlushMessages        int64  // flush.messages (default MaxInt64: leave it to the OS); an append reaching it fsyncs before returning
	FlushMs              int64  // flush.ms (default MaxInt64); checked on each Manager.RunRetention tick
	FileDeleteDelayMs    int64  // file.delete.delay.ms (default 60000): accepted for DescribeConfigs; segments are unlinked at once, open readers keep their descriptors

	// Compaction (cleanup.policy compact or compact,delete).
	DeleteRetentionMs      int64   // delete.retention.ms (default 1 day): how long a tombstone outlives the clean that first kept it
	MinCompactionLagMs     int64   // min.compaction.lag.ms (default 0): a segment with a record newer than this is not cleaned
	MaxCompactionLagMs     int64   // max.compaction.lag.ms (default MaxInt64): a dirty segment older than this is cleaned whatever the dirty ratio
	MinCleanableDirtyRatio float64 // min.cleanable.dirty.ratio (default 0.5)
}

// DefaultConfig returns Kafka's defaults for the topic configs above.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:         1 << 30,
		SegmentMs:            7 * 24 * 3600 * 1000,
		SegmentIndexBytes:    10 << 20,
		IndexIntervalBytes:   4096,
		RetentionMs:          7 * 24 * 3600 * 1000,
		RetentionBytes:       -1,
		MaxMessageBytes:      1048588,
		MessageTimestampType: CreateTime,
		CleanupPolicy:        CleanupDelete,
		FlushMessages:        math.MaxInt64,
		FlushMs:              math.MaxInt64,
		FileDeleteDelayMs:    60000,

		DeleteRetentionMs:      24 * 3600 * 1000,
		MinCompactionLagMs:     0,
		MaxCompactionLagMs:     math.MaxInt64,
		MinCleanableDirtyRatio: 0.5,
	}
}

// Validate checks the values against Kafka's bounds.
func (c Config) Validate() error {
	switch {
	case c.SegmentBytes < 14:
		return fmt.Errorf("%w: segment.bytes %d is below 14", ErrInvalidConfig, c.SegmentBytes)
	case c.SegmentBytes > math.MaxInt32:
		// Positions in .index are uint32 and Kafka's segment.bytes is an int.
		return fmt.Errorf("%w: segment.bytes %d is above %d", ErrInvalidConfig, c.SegmentBytes, math.MaxInt32)
	case c.SegmentMs < 1:
		return fmt.Errorf("%w: segment.ms %d is below 1", ErrInvalidConfig, c.SegmentMs)
	case c.SegmentIndexBytes < 8:
		return fmt.Errorf("%w: segment.index.bytes %d is below 8", ErrInvalidConfig, c.SegmentIndexBytes)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("%w: index.interval.bytes %d is negative", ErrInvalidConfig, c.IndexIntervalBytes)
	case c.RetentionMs < -1:
		return fmt.Errorf("%w: retention.ms %d is below -1", ErrInvalidConfig, c.RetentionMs)
	case c.MaxMessageBytes < 0:
		return fmt.Errorf("%w: max.message.bytes %d is negative", ErrInvalidConfig, c.MaxMessageBytes)
	case c.MessageTimestampType != CreateTime && c.MessageTimestampType != LogAppendTime:
		return fmt.Errorf("%w: message.timestamp.type %q is not CreateTime or LogAppendTime", ErrInvalidConfig, c.MessageTimestampType)
	case c.FlushMessages < 1:
		return fmt.Errorf("%w: flush.messages %d is below 1", ErrInvalidConfig, c.FlushMessages)
	case c.FlushMs < 0:
		return fmt.Errorf("%w: flush.ms %d is negative", ErrInvalidConfig, c.FlushMs)
	case c.FileDeleteDelayMs < 0:
		return fmt.Errorf("%w: file.delete.delay.ms %d is negative", ErrInvalidConfig, c.FileDeleteDelayMs)
	case c.DeleteRetentionMs < 0:
		return fmt.Errorf("%w: delete.retention.ms %d is negative", ErrInvalidConfig, c.DeleteRetentionMs)
	case c.MinCompactionLagMs < 0:
		return fmt.Errorf("%w: min.compaction.lag.ms %d is negative", ErrInvalidConfig, c.MinCompactionLagMs)
	case c.MaxCompactionLagMs < 1:
		return fmt.Errorf("%w: max.compaction.lag.ms %d is below 1", ErrInvalidConfig, c.MaxCompactionLagMs)
	case c.MinCompactionLagMs > c.MaxCompactionLagMs:
		// Kafka's LogConfig refuses the same conflict.
		return fmt.Errorf("%w: min.compaction.lag.ms %d is above max.compaction.lag.ms %d", ErrInvalidConfig, c.MinCompactionLagMs, c.MaxCompactionLagMs)
	case !(c.MinCleanableDirtyRatio >= 0 && c.MinCleanableDirtyRatio <= 1):
		return fmt.Errorf("%w: min.cleanable.dirty.ratio %v is not in [0, 1]", ErrInvalidConfig, c.MinCleanableDirtyRatio)
	}
	if _, err := normCleanupPolicy(c.CleanupPolicy); err != nil {
		return err
	}
	return nil
}

func normCleanupPolicy(s string) (string, error) {
	parts := strings.Split(strings.ReplaceAll(s, " ", ""), ",")
	var del, comp bool
	for _, p := range parts {
		switch p {
		case "delete":
			del = true
		case "compact":
			comp = true
		default:
			return "", fmt.Errorf("%w: cleanup.policy %q (want delete, compact or compact,delete)", ErrInvalidConfig, s)
		}
	}
	switch {
	case del && comp:
		return CleanupCompactDelete, nil
	case comp:
		return CleanupCompact, nil
	default:
		return CleanupDelete, nil
	}
}

// compacts reports whether the cleaner keeps only the latest value per key.
func (c Config) compacts() bool {
	p, err := normCleanupPolicy(c.CleanupPolicy)
	return err == nil && p != CleanupDelete
}

// deletesByRetention reports whether time/size retention applies.
func (c Config) deletesByRetention() bool {
	p, err := normCleanupPolicy(c.CleanupPolicy)
	return err != nil || p != CleanupCompact
}

// ConfigKeys lists the Kafka topic config names Config understands, in
// the order Entries returns them.
var ConfigKeys = []string{
	"cleanup.policy", "delete.retention.ms", "file.delete.delay.ms", "flush.messages", "flush.ms",
	"index.interval.bytes", "max.compaction.lag.ms", "max.message.bytes", "message.timestamp.type",
	"min.cleanable.dirty.ratio", "min.compaction.lag.ms",
	"retention.bytes", "retention.ms", "segment.bytes", "segment.index.bytes",
	"segment.ms",
}

// WithOverrides returns c with Kafka topic config overrides applied
// (e.g. from CreateTopics or AlterConfigs). Unknown keys are an error
// wrapping ErrInvalidConfig that names the key; so are bad values. The
// result is validated.
func (c Config) WithOverrides(m map[string]string) (Config, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	for _, k := range keys {
		v := strings.TrimSpace(m[k])
		var err error
		i64 := func(dst *int64) { *dst, err = strconv.ParseInt(v, 10, 64) }
		i32 := func(dst *int32) {
			var n int64
			n, err = strconv.ParseInt(v, 10, 32)
			*dst = int32(n)
		}
		switch k {
		case "segment.bytes":
			i64(&c.SegmentBytes)
		case "segment.ms":
			i64(&c.SegmentMs)
		case "segment.index.bytes":
			i32(&c.SegmentIndexBytes)
		case "index.interval.bytes":
			i32(&c.IndexIntervalBytes)
		case "retention.ms":
			i64(&c.RetentionMs)
		case "retention.bytes":
			i64(&c.RetentionBytes)
		case "max.message.bytes":
			i32(&c.MaxMessageBytes)
		case "message.timestamp.type":
			c.MessageTimestampType = v
		case "cleanup.policy":
			c.CleanupPolicy, err = normCleanupPolicy(v)
		case "flush.messages":
			i64(&c.FlushMessages)
		case "flush.ms":
			i64(&c.FlushMs)
		case "file.delete.delay.ms":
			i64(&c.FileDeleteDelayMs)
		case "delete.retention.ms":
			i64(&c.DeleteRetentionMs)
		case "min.compaction.lag.ms":
			i64(&c.MinCompactionLagMs)
		case "max.compaction.lag.ms":
			i64(&c.MaxCompactionLagMs)
		case "min.cleanable.dirty.ratio":
			c.MinCleanableDirtyRatio, err = strconv.ParseFloat(v, 64)
		default:
			return c, fmt.Errorf("%w: unknown topic config %q", ErrInvalidConfig, k)
		}
		if err != nil {
			if errors.Is(err, ErrInvalidConfig) {
				return c, err
			}
			return c, fmt.Errorf("%w: %s=%q: %v", ErrInvalidConfig, k, v, err)
		}
	}
	return c, c.Validate()
}

// Entries returns the config as Kafka topic config name → value, for
// DescribeConfigs.
func (c Config) Entries() map[string]string {
	f := func(n int64) string { return strconv.FormatInt(n, 10) }
	return map[string]string{
		"cleanup.policy":            c.CleanupPolicy,
		"delete.retention.ms":       f(c.DeleteRetentionMs),
		"min.compaction.lag.ms":     f(c.MinCompactionLagMs),
		"max.compaction.lag.ms":     f(c.MaxCompactionLagMs),
		"min.cleanable.dirty.ratio": strconv.FormatFloat(c.MinCleanableDirtyRatio, 'f', -1, 64),
		"file.delete.delay.ms":      f(c.FileDeleteDelayMs),
		"flush.messages":            f(c.FlushMessages),
		"flush.ms":                  f(c.FlushMs),
		"index.interval.bytes":      f(int64(c.IndexIntervalBytes)),
		"max.message.bytes":         f(int64(c.MaxMessageBytes)),
		"message.timestamp.type":    c.MessageTimestampType,
		"retention.bytes":           f(c.RetentionBytes),
		"retention.ms":              f(c.RetentionMs),
		"segment.bytes":             f(c.SegmentBytes),
		"segment.index.bytes":       f(int64(c.SegmentIndexBytes)),
		"segment.ms":                f(c.SegmentMs),
	}
}
