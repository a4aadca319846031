package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/osprey-kafka/osprey/broker/metastore"
)

// The in-process store lives in memory; its persistent nodes (topics,
// partition states, configs, controller epoch, cluster id) are saved to
// metadata.json every second when they changed and at Close, and restored
// before the brokers start, so an embedded cluster keeps its topics across
// restarts of the console. Ephemeral nodes (broker registrations, the
// controller) are not saved: they belong to sessions.

// MetadataFile is the name of the saved in-process store.
const MetadataFile = "metadata.json"

type savedNode struct {
	Path string `json:"path"`
	Data []byte `json:"data"` // base64 in JSON
}

func (c *Cluster) metadataPath() string { return filepath.Join(c.opts.DataDir, MetadataFile) }

// dumpMetadata walks the store's persistent nodes, parents first.
func (c *Cluster) dumpMetadata(ctx context.Context) ([]savedNode, error) {
	s, err := c.store.NewSession(time.Minute)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []savedNode
	var walk func(path string) error
	walk = func(path string) error {
		children, _, err := s.Children(ctx, path)
		if errors.Is(err, metastore.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, ch := range children {
			p := metastore.Join(path, ch)
			data, st, err := s.Get(ctx, p)
			if errors.Is(err, metastore.ErrNoNode) {
				continue
			}
			if err != nil {
				return err
			}
			if st.EphemeralOwner != 0 {
				continue
			}
			out = append(out, savedNode{Path: p, Data: data})
			if err := walk(p); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk("/")
}

func (c *Cluster) saveMetadata() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodes, err := c.dumpMetadata(ctx)
	if err != nil {
		return fmt.Errorf("supervisor: reading the metadata store: %w", err)
	}
	data, err := json.Marshal(nodes)
	if err != nil {
		return err
	}
	return writeFileAtomic(c.metadataPath(), data)
}

// restoreMetadata recreates the saved nodes in the (empty) store.
func (c *Cluster) restoreMetadata(ctx context.Context) error {
	data, err := os.ReadFile(c.metadataPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	var nodes []savedNode
	if err := json.Unmarshal(data, &nodes); err != nil {
		return fmt.Errorf("supervisor: %s: %w", c.metadataPath(), err)
	}
	s, err := c.store.NewSession(time.Minute)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, n := range nodes {
		if _, err := s.Create(ctx, n.Path, n.Data, metastore.Persistent); err != nil && !errors.Is(err, metastore.ErrNodeExists) {
			return fmt.Errorf("supervisor: restoring %s: %w", n.Path, err)
		}
	}
	c.log.Info("metadata restored", "nodes", len(nodes), "from", c.metadataPath())
	return nil
}

// persistLoop saves the store every second when it changed.
func (c *Cluster) persistLoop() {
	defer close(c.persistDone)
	var last []byte
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-c.stopPersist:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		nodes, err := c.dumpMetadata(ctx)
		cancel()
		if err != nil {
			c.log.Warn("saving metadata", "err", err)
			continue
		}
		data, err := json.Marshal(nodes)
		if err != nil || bytes.Equal(data, last) {
			continue
		}
		if err := writeFileAtomic(c.metadataPath(), data); err != nil {
			c.log.Warn("saving metadata", "err", err)
			continue
		}
		last = data
	}
}
