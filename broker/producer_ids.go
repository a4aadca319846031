package broker

import (
	"path/filepath"
	"sync"
	"time"
)

// producerIDs hands out producer ids. Ids start from the start time so a
// restarted broker does not reuse ids still held by producers, and carry
// the broker id in the low bits so brokers of one cluster never collide.
type producerIDs struct {
	mu   sync.Mutex // guards next
	next int64
}

func newProducerIDs(brokerID int32) *producerIDs {
	return &producerIDs{next: time.Now().UnixMilli()<<20 | int64(brokerID&0x3ff)}
}

func (p *producerIDs) allocate() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.next
	p.next += 1 << 10
	return id
}

func dirFile(dir, name string) string { return filepath.Join(dir, name) }
