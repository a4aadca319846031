package quorum_test

import (
	"testing"

	"github.com/osprey-kafka/osprey/broker/quorum"
	"github.com/osprey-kafka/osprey/broker/quorum/quorumtest"
	"github.com/osprey-kafka/osprey/broker/storage"
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

// TestSharedStorageLogConformance runs the suite on a metadata log inside a log dir whose manager
// the broker owns; the manager outlives each Close, and a reopen goes through a fresh manager, as a
// restarted node's would. The manager's own default (7 days of retention) must not apply to it.
func TestSharedStorageLogConformance(t *testing.T) {
	quorumtest.RunLog(t, func(t *testing.T) quorumtest.LogEnv {
		dir := t.TempDir()
		var mgr *storage.Manager
		return quorumtest.LogEnv{
			Open: func(t *testing.T) quorum.Log {
				var err error
				mgr, err = storage.OpenManager(dir, nil)
				if err != nil {
					t.Fatal(err)
				}
				l, err := quorum.OpenStorageLogOn(mgr, quorum.StorageLogOptions{SegmentBytes: 4096})
				if err != nil {
					t.Fatal(err)
				}
				if got := l.Storage().Config().RetentionMs; got != -1 {
					t.Fatalf("metadata log retention.ms = %d on a shared manager, want -1", got)
				}
				return l
			},
			Close: func(t *testing.T, l quorum.Log) {
				if err := l.(*quorum.StorageLog).Close(); err != nil {
					t.Fatal(err)
				}
				if err := mgr.Close(); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}
