package quorum

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/osprey-kafka/osprey/internal/atomicfile"
)

// StateStore persists a node's ElectionState. Write must be durable when it returns: a node sends
// a vote or acts as leader only after the state that allows it is written.
type StateStore interface {
	// Read returns the stored state; ok is false when nothing was ever written.
	Read() (st ElectionState, ok bool, err error)
	Write(ElectionState) error
}

// MemStore is an in-memory StateStore; the simulator keeps it across a node's crash and restart.
type MemStore struct {
	st ElectionState
	ok bool
}

func (m *MemStore) Read() (ElectionState, bool, error) { return m.st, m.ok, nil }
func (m *MemStore) Write(st ElectionState) error       { m.st, m.ok = st, true; return nil }

// QuorumStateFile is the name of the election state file in the metadata log directory
// (Apache Kafka's FileQuorumStateStore.DEFAULT_FILE_NAME).
const QuorumStateFile = "quorum-state"

// FileStore reads and writes Apache Kafka's quorum-state file: one line of JSON holding the fields
// of QuorumStateData plus "data_version". Version 0 (kraft.version 0, a static voter set) has
// clusterId, leaderId, leaderEpoch, votedId, appliedOffset and currentVoters; version 1 (kraft.version
// 1, KIP-853) has leaderId, leaderEpoch, votedId and votedDirectoryId. A write goes to
// "quorum-state.tmp", is fsynced, and is renamed over the file, so a crash leaves the old state or the
// new one, never a mix.
type FileStore struct {
	// Path is the quorum-state file.
	Path string
	// Version is the data_version written: 0 or 1.
	Version int16
	// Voters is written as currentVoters in version 0.
	Voters []int32
}

type quorumStateV0 struct {
	ClusterID     string           `json:"clusterId"`
	LeaderID      int32            `json:"leaderId"`
	LeaderEpoch   int32            `json:"leaderEpoch"`
	VotedID       int32            `json:"votedId"`
	AppliedOffset int64            `json:"appliedOffset"`
	CurrentVoters []quorumStateV0V `json:"currentVoters"`
	DataVersion   int16            `json:"data_version"`
}

type quorumStateV0V struct {
	VoterID int32 `json:"voterId"`
}

type quorumStateV1 struct {
	LeaderID         int32  `json:"leaderId"`
	LeaderEpoch      int32  `json:"leaderEpoch"`
	VotedID          int32  `json:"votedId"`
	VotedDirectoryID string `json:"votedDirectoryId"`
	DataVersion      int16  `json:"data_version"`
}

// encodeUUID writes a Kafka Uuid as Kafka's Uuid.toString does: URL-safe base64 without padding.
func encodeUUID(u [16]byte) string { return base64.RawURLEncoding.EncodeToString(u[:]) }

func (f *FileStore) Write(st ElectionState) error {
	var v any
	switch f.Version {
	case 0:
		voters := make([]quorumStateV0V, 0, len(f.Voters))
		for _, id := range f.Voters {
			voters = append(voters, quorumStateV0V{VoterID: id})
		}
		v = quorumStateV0{LeaderID: st.LeaderID, LeaderEpoch: st.Epoch, VotedID: st.VotedID, CurrentVoters: voters}
	case 1:
		v = quorumStateV1{LeaderID: st.LeaderID, LeaderEpoch: st.Epoch, VotedID: st.VotedID, VotedDirectoryID: encodeUUID(st.VotedDirectoryID), DataVersion: 1}
	default:
		return fmt.Errorf("quorum-state %s: data_version %d is not 0 or 1", f.Path, f.Version)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("quorum-state %s: encode: %w", f.Path, err)
	}
	return writeFileAtomic(f.Path, b)
}

// writeFileAtomic replaces path so that a crash leaves either the old or the new quorum-state.
func writeFileAtomic(path string, b []byte) error {
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return fmt.Errorf("quorum-state: %w", err)
	}
	return nil
}

func (f *FileStore) Read() (ElectionState, bool, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return ElectionState{}, false, nil
	}
	if err != nil {
		return ElectionState{}, false, fmt.Errorf("quorum-state: %w", err)
	}
	st, err := parseQuorumState(b)
	if err != nil {
		return ElectionState{}, false, fmt.Errorf("quorum-state %s: %w (move the file away to start the node with no election state)", f.Path, err)
	}
	return st, true, nil
}

// parseQuorumState decodes the first line of a quorum-state file. Every field of the file's version
// is mandatory, as in Kafka's generated JSON converter.
func parseQuorumState(b []byte) (ElectionState, error) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return ElectionState{}, fmt.Errorf("not a JSON object: %w", err)
	}
	var version int16
	if err := field(raw, "data_version", &version); err != nil {
		return ElectionState{}, err
	}
	var st ElectionState
	var mandatory []string
	switch version {
	case 0:
		mandatory = []string{"clusterId", "appliedOffset", "currentVoters"}
	case 1:
		mandatory = []string{"votedDirectoryId"}
	default:
		return ElectionState{}, fmt.Errorf("data_version %d is not within the supported 0 to 1", version)
	}
	for _, name := range mandatory {
		if _, ok := raw[name]; !ok {
			return ElectionState{}, fmt.Errorf("field %q, mandatory in data_version %d, is missing", name, version)
		}
	}
	if err := field(raw, "leaderId", &st.LeaderID); err != nil {
		return ElectionState{}, err
	}
	if err := field(raw, "leaderEpoch", &st.Epoch); err != nil {
		return ElectionState{}, err
	}
	if err := field(raw, "votedId", &st.VotedID); err != nil {
		return ElectionState{}, err
	}
	if st.Epoch < 0 && (st.LeaderID >= 0 || st.VotedID >= 0) {
		return ElectionState{}, fmt.Errorf("leaderEpoch %d is negative but leaderId %d / votedId %d name a node", st.Epoch, st.LeaderID, st.VotedID)
	}
	if st.LeaderID < -1 || st.VotedID < -1 {
		return ElectionState{}, fmt.Errorf("leaderId %d / votedId %d is not a node id or -1", st.LeaderID, st.VotedID)
	}
	if st.Epoch < 0 {
		st.Epoch = 0
	}
	if version == 1 {
		var dir string
		if err := field(raw, "votedDirectoryId", &dir); err != nil {
			return ElectionState{}, err
		}
		u, err := base64.RawURLEncoding.DecodeString(dir)
		if err != nil || len(u) != 16 {
			return ElectionState{}, fmt.Errorf("field \"votedDirectoryId\": %q is not a Kafka Uuid", dir)
		}
		st.VotedDirectoryID = [16]byte(u)
	}
	return st, nil
}

func field(raw map[string]json.RawMessage, name string, dst any) error {
	v, ok := raw[name]
	if !ok {
		return fmt.Errorf("field %q is missing", name)
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("field %q: %w", name, err)
	}
	return nil
}
