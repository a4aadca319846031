package quorum

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/osprey-kafka/osprey/internal/atomicfile"
)

// Snapshots (KIP-630). A snapshot holds the state machine's state as of a committed offset: its
// id is the offset just past the last entry it covers and that entry's epoch. The quorum treats
// its content as bytes: the owner writes snapshots of its state (Kafka's metadata image) into the
// SnapshotStore and tells the Node it may delete the log before one (DeletePrefix); the leader
// answers a fetch below its log start with the id of its latest snapshot, which the follower
// then copies chunk by chunk with FetchSnapshot into its own store before it restarts its log
// at the snapshot's end and fetches the entries after it.

// ErrSnapshotNotFound is returned for a snapshot id the store does not hold (complete).
var ErrSnapshotNotFound = errors.New("quorum: snapshot not found")

// SnapshotStore keeps a node's snapshots. Its methods may be called from any goroutine: the
// node's owner writes snapshots of its state while the node serves and fetches them.
type SnapshotStore interface {
	// List returns the ids of the complete snapshots, oldest first.
	List() []OffsetAndEpoch
	// Read returns up to max bytes of snapshot id from pos, and the snapshot's size.
	Read(id OffsetAndEpoch, pos int64, max int) (chunk []byte, size int64, err error)
	// WriteChunk adds chunk to the partial copy of id being fetched, at pos: 0 starts a new
	// copy (dropping any earlier one), any other pos must be the partial copy's size.
	WriteChunk(id OffsetAndEpoch, pos int64, chunk []byte) error
	// Freeze makes the partial copy of id a complete snapshot, durably.
	Freeze(id OffsetAndEpoch) error
	// Delete removes a snapshot (complete or partial); a missing one is not an error.
	Delete(id OffsetAndEpoch) error
}

// latestSnapshot is the newest complete snapshot in s.
func latestSnapshot(s SnapshotStore) (OffsetAndEpoch, bool) {
	l := s.List()
	if len(l) == 0 {
		return OffsetAndEpoch{}, false
	}
	return l[len(l)-1], true
}

func compareIDs(a, b OffsetAndEpoch) int {
	if a.Offset != b.Offset {
		return int(min(max(a.Offset-b.Offset, -1), 1))
	}
	return int(a.Epoch) - int(b.Epoch)
}

// MemSnapshots is an in-memory SnapshotStore: the simulator's.
type MemSnapshots struct {
	mu       sync.Mutex
	complete map[OffsetAndEpoch][]byte
	partial  map[OffsetAndEpoch][]byte
}

// NewMemSnapshots returns an empty store.
func NewMemSnapshots() *MemSnapshots {
	return &MemSnapshots{complete: map[OffsetAndEpoch][]byte{}, partial: map[OffsetAndEpoch][]byte{}}
}

// Put adds a complete snapshot (the owner's own).
func (m *MemSnapshots) Put(id OffsetAndEpoch, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.complete[id] = slices.Clone(data)
}

// Get returns a complete snapshot's bytes.
func (m *MemSnapshots) Get(id OffsetAndEpoch) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.complete[id]
	return b, ok
}

func (m *MemSnapshots) List() []OffsetAndEpoch {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]OffsetAndEpoch, 0, len(m.complete))
	for id := range m.complete {
		out = append(out, id)
	}
	slices.SortFunc(out, compareIDs)
	return out
}

func (m *MemSnapshots) Read(id OffsetAndEpoch, pos int64, max int) ([]byte, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.complete[id]
	if !ok {
		return nil, 0, ErrSnapshotNotFound
	}
	if pos < 0 || pos > int64(len(b)) {
		return nil, int64(len(b)), fmt.Errorf("read snapshot %s at %d: size %d", id, pos, len(b))
	}
	end := min(pos+int64(max), int64(len(b)))
	return slices.Clone(b[pos:end]), int64(len(b)), nil
}

func (m *MemSnapshots) WriteChunk(id OffsetAndEpoch, pos int64, chunk []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pos == 0 {
		m.partial[id] = nil
	}
	b, ok := m.partial[id]
	if !ok || int64(len(b)) != pos {
		return fmt.Errorf("write snapshot %s at %d: partial copy has %d bytes", id, pos, len(b))
	}
	m.partial[id] = append(b, chunk...)
	return nil
}

func (m *MemSnapshots) Freeze(id OffsetAndEpoch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.partial[id]
	if !ok {
		return fmt.Errorf("freeze snapshot %s: no partial copy", id)
	}
	delete(m.partial, id)
	m.complete[id] = b
	return nil
}

func (m *MemSnapshots) Delete(id OffsetAndEpoch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.complete, id)
	delete(m.partial, id)
	return nil
}

// SnapshotSuffix and PartialSnapshotSuffix end a snapshot file's name and its copy in progress.
const (
	SnapshotSuffix        = ".checkpoint"
	PartialSnapshotSuffix = ".checkpoint.part"
)

// SnapshotFileName is Kafka's name for snapshot id: the end offset in 20 digits and the epoch in
// 10 (Snapshots.filenameFromSnapshotId).
func SnapshotFileName(id OffsetAndEpoch) string {
	return fmt.Sprintf("%020d-%010d%s", id.Offset, id.Epoch, SnapshotSuffix)
}

// ParseSnapshotFileName reads an id back from a snapshot file name.
func ParseSnapshotFileName(name string) (OffsetAndEpoch, bool) {
	base, ok := strings.CutSuffix(name, SnapshotSuffix)
	if !ok {
		return OffsetAndEpoch{}, false
	}
	o, e, ok := strings.Cut(base, "-")
	if !ok || len(o) != 20 || len(e) != 10 {
		return OffsetAndEpoch{}, false
	}
	off, err1 := strconv.ParseInt(o, 10, 64)
	ep, err2 := strconv.ParseInt(e, 10, 32)
	if err1 != nil || err2 != nil || off < 0 || ep < 0 {
		return OffsetAndEpoch{}, false
	}
	return OffsetAndEpoch{Offset: off, Epoch: int32(ep)}, true
}

// FileSnapshots keeps snapshots as Kafka does, beside the log's segments in the partition
// directory (__cluster_metadata-0): `<offset>-<epoch>.checkpoint`, written (or fetched) into
// `<offset>-<epoch>.checkpoint.part`, fsynced and renamed. The snapshot at offset 0 (the voter
// set `storage format` writes for a dynamic quorum) is the bootstrap's, not the log's: it is
// neither listed nor deleted here.
type FileSnapshots struct {
	dir string
	mu  sync.Mutex // guards ids and the files
	ids []OffsetAndEpoch
}

// OpenFileSnapshots lists the snapshots in dir (created if missing) and removes partial
// copies left by a crash.
func OpenFileSnapshots(dir string) (*FileSnapshots, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("quorum: snapshot dir: %w", err)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("quorum: snapshot dir: %w", err)
	}
	s := &FileSnapshots{dir: dir}
	for _, de := range des {
		name := de.Name()
		if strings.HasSuffix(name, PartialSnapshotSuffix) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("quorum: removing a partial snapshot: %w", err)
			}
			continue
		}
		if id, ok := ParseSnapshotFileName(name); ok && id.Offset > 0 {
			s.ids = append(s.ids, id)
		}
	}
	slices.SortFunc(s.ids, compareIDs)
	return s, nil
}

// Dir is the directory the snapshots are in.
func (s *FileSnapshots) Dir() string { return s.dir }

// Path is the file of a complete snapshot.
func (s *FileSnapshots) Path(id OffsetAndEpoch) string {
	return filepath.Join(s.dir, SnapshotFileName(id))
}

func (s *FileSnapshots) partialPath(id OffsetAndEpoch) string {
	return filepath.Join(s.dir, strings.TrimSuffix(SnapshotFileName(id), SnapshotSuffix)+PartialSnapshotSuffix)
}

// Write stores a whole snapshot the owner made: to the .part file, fsynced, renamed.
func (s *FileSnapshots) Write(id OffsetAndEpoch, data []byte) error {
	if id.Offset <= 0 {
		return fmt.Errorf("quorum: write snapshot %s: offset must be above 0", id)
	}
	if err := s.WriteChunk(id, 0, data); err != nil {
		return err
	}
	return s.Freeze(id)
}

func (s *FileSnapshots) List() []OffsetAndEpoch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ids)
}

func (s *FileSnapshots) has(id OffsetAndEpoch) bool {
	_, ok := slices.BinarySearchFunc(s.ids, id, compareIDs)
	return ok
}

func (s *FileSnapshots) Read(id OffsetAndEpoch, pos int64, max int) ([]byte, int64, error) {
	s.mu.Lock()
	ok := s.has(id)
	s.mu.Unlock()
	if !ok {
		return nil, 0, ErrSnapshotNotFound
	}
	// Opened outside the lock: a Delete racing with this read unlinks the file, and the read
	// fails with not found (or, opened already, finishes on the unlinked file).
	f, err := os.Open(s.Path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, ErrSnapshotNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("quorum: read snapshot %s: %w", id, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("quorum: read snapshot %s: %w", id, err)
	}
	size := fi.Size()
	if pos < 0 || pos > size {
		return nil, size, fmt.Errorf("quorum: read snapshot %s at %d: size %d", id, pos, size)
	}
	buf := make([]byte, min(int64(max), size-pos))
	if _, err := f.ReadAt(buf, pos); err != nil && !errors.Is(err, io.EOF) {
		return nil, size, fmt.Errorf("quorum: read snapshot %s: %w", id, err)
	}
	return buf, size, nil
}

func (s *FileSnapshots) WriteChunk(id OffsetAndEpoch, pos int64, chunk []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.partialPath(id)
	flags := os.O_WRONLY | os.O_APPEND
	if pos == 0 {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(p, flags, 0o644)
	if err != nil {
		return fmt.Errorf("quorum: write snapshot %s: %w", id, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() != pos {
		err = fmt.Errorf("chunk at %d, partial copy has %d bytes", pos, fi.Size())
	}
	if err == nil {
		_, err = f.Write(chunk)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("quorum: write snapshot %s: %w", id, err)
	}
	return nil
}

func (s *FileSnapshots) Freeze(id OffsetAndEpoch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.partialPath(id)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("quorum: freeze snapshot %s: %w", id, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(p, s.Path(id))
	}
	if err == nil {
		err = atomicfile.SyncDir(s.dir)
	}
	if err != nil {
		return fmt.Errorf("quorum: freeze snapshot %s: %w", id, err)
	}
	if !s.has(id) {
		s.ids = append(s.ids, id)
		slices.SortFunc(s.ids, compareIDs)
	}
	return nil
}

func (s *FileSnapshots) Delete(id OffsetAndEpoch) error {
	if id.Offset <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = slices.DeleteFunc(s.ids, func(x OffsetAndEpoch) bool { return x == id })
	for _, p := range []string{s.Path(id), s.partialPath(id)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("quorum: delete snapshot %s: %w", id, err)
		}
	}
	return nil
}
