package quorum_test

import (
	"testing"

	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/broker/quorum/quorumtest"
)

func TestMemLogConformance(t *testing.T) {
	quorumtest.RunLog(t, func(t *testing.T) quorumtest.LogEnv {
		l := quorum.NewMemLog()
		return quorumtest.LogEnv{
			Open:  func(*testing.T) quorum.Log { return l },
			Close: func(*testing.T, quorum.Log) {},
		}
	})
}

func TestStorageLogConformance(t *testing.T) {
	quorumtest.RunLog(t, func(t *testing.T) quorumtest.LogEnv {
		dir := t.TempDir()
		return quorumtest.LogEnv{
			Open: func(t *testing.T) quorum.Log {
				// Small segments, so that reads, truncation and recovery cross segment files.
				l, err := quorum.OpenStorageLog(dir, quorum.StorageLogOptions{SegmentBytes: 4096})
				if err != nil {
					t.Fatal(err)
				}
				return l
			},
			Close: func(t *testing.T, l quorum.Log) {
				if err := l.(*quorum.StorageLog).Close(); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}
