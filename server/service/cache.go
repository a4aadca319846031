package service

import (
	"sync"
	"time"
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
