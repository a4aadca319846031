package service

import (
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/collector"
)

// configCache keeps described topic configs for a short while, so opening a topic page repeatedly
// does not describe its configs every time.
type configCache struct {
	mu      sync.Mutex // guards entries
	entries map[string]configEntry
}

type configEntry struct {
	at      time.Time
	configs []TopicConfig
}

const configTTL = time.Minute

func (c *configCache) get(cluster, topic string, now time.Time) ([]TopicConfig, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[cluster+"\x00"+topic]
	if !ok || now.Sub(e.at) > configTTL {
		return nil, false
	}
	return e.configs, true
}

func (c *configCache) put(cluster, topic string, configs []TopicConfig, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 10000 {
		c.entries = map[string]configEntry{}
	}
	c.entries[cluster+"\x00"+topic] = configEntry{at: now, configs: configs}
}

func (c *configCache) forget(cluster, topic string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, cluster+"\x00"+topic)
}

// orderCache keeps each list's sorted order per snapshot, so a page of 5,000 groups sorted by lag
// costs a filter and a slice, not a sort, on every request. Orders are indexes into the snapshot's
// slice; a new snapshot of the cluster drops that cluster's orders.
type orderCache struct {
	mu     sync.Mutex // guards snaps and orders
	snaps  map[string]*collector.Snapshot
	orders map[orderKey][]int
}

type orderKey struct {
	cluster, list, sort string
	desc                bool
}

func (c *orderCache) get(key orderKey, snap *collector.Snapshot, build func() []int) []int {
	c.mu.Lock()
	if c.snaps[key.cluster] == snap {
		if o, ok := c.orders[key]; ok {
			c.mu.Unlock()
			return o
		}
	}
	c.mu.Unlock()
	o := build() // outside the lock: other lists and clusters keep answering meanwhile
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snaps == nil {
		c.snaps, c.orders = map[string]*collector.Snapshot{}, map[orderKey][]int{}
	}
	if c.snaps[key.cluster] != snap {
		for k := range c.orders {
			if k.cluster == key.cluster {
				delete(c.orders, k)
			}
		}
		c.snaps[key.cluster] = snap
	}
	c.orders[key] = o
	return o
}
