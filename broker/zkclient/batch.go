package zkclient

import (
	"context"
	"errors"
	"sync"

	"github.com/osprey-kafka/osprey/broker/metastore"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// batchConcurrency bounds the requests a batch read keeps in flight: enough
// to hide ZooKeeper round trips (go-zookeeper pipelines them on one
// connection), few enough not to flood the ensemble.
const batchConcurrency = 32

// VersionedState is a partition state with its znode version (Kafka's
// partition epoch, the expected version of the next update).
type VersionedState struct {
	State   zkdata.PartitionState
	Version int32
}

// VersionedAssignment is a topic assignment with its znode version.
type VersionedAssignment struct {
	Assignment zkdata.TopicAssignment
	Version    int32
}

// PartitionStates reads many partition states concurrently (a controller
// taking over reads them all). Partitions without a state node are left out
// of the result; any other error fails the call.
func (c *Client) PartitionStates(ctx context.Context, tps []zkdata.TopicPartition) (map[zkdata.TopicPartition]VersionedState, error) {
	out := make(map[zkdata.TopicPartition]VersionedState, len(tps))
	var mu sync.Mutex
	err := forEach(ctx, len(tps), func(ctx context.Context, i int) error {
		s, st, err := c.PartitionState(ctx, tps[i])
		if errors.Is(err, metastore.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		mu.Lock()
		out[tps[i]] = VersionedState{State: s, Version: st.Version}
		mu.Unlock()
		return nil
	})
	return out, err
}

// Topics reads many topic assignments concurrently; topics that do not
// exist are left out.
func (c *Client) Topics(ctx context.Context, names []string) (map[string]VersionedAssignment, error) {
	out := make(map[string]VersionedAssignment, len(names))
	var mu sync.Mutex
	err := forEach(ctx, len(names), func(ctx context.Context, i int) error {
		a, st, err := c.Topic(ctx, names[i])
		if errors.Is(err, metastore.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		mu.Lock()
		out[names[i]] = VersionedAssignment{Assignment: a, Version: st.Version}
		mu.Unlock()
		return nil
	})
	return out, err
}

// forEach runs fn(0..n-1) with at most batchConcurrency in flight and
// returns the first error (the others are cancelled through ctx).
func forEach(ctx context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	sem := make(chan struct{}, batchConcurrency)
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { firstErr = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
