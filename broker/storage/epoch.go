package storage

// epochEntry says that leader epoch Epoch began at StartOffset.
type epochEntry struct {
	Epoch       int32
	StartOffset int64
}

// epochCache is the leader epoch → start offset history of a log, as in
// Kafka's LeaderEpochFileCache. It is owned by its log and guarded by the
// log's lock.
type epochCache struct {
	entries []epochEntry // strictly increasing in both fields
}

// assign records that epoch starts at offset, if it is newer than the
// latest epoch. Older or equal epochs are ignored (Kafka warns).
func (c *epochCache) assign(epoch int32, offset int64) bool {
	if epoch < 0 {
		return false
	}
	if n := len(c.entries); n > 0 && epoch <= c.entries[n-1].Epoch {
		return false
	}
	c.entries = append(c.entries, epochEntry{Epoch: epoch, StartOffset: offset})
	return true
}

func (c *epochCache) latest() int32 {
	if len(c.entries) == 0 {
		return -1
	}
	return c.entries[len(c.entries)-1].Epoch
}

// endOffsetFor follows Kafka's LeaderEpochFileCache.endOffsetFor.
func (c *epochCache) endOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	if epoch < 0 || len(c.entries) == 0 {
		return -1, -1
	}
	if epoch == c.latest() {
		return epoch, logEnd
	}
	hi := -1 // first entry with Epoch > epoch
	for i, e := range c.entries {
		if e.Epoch > epoch {
			hi = i
			break
		}
	}
	switch {
	case hi < 0: // epoch is newer than anything we have
		return -1, -1
	case hi == 0: // older than everything: the first epoch's start ends it
		return epoch, c.entries[0].StartOffset
	default:
		return c.entries[hi-1].Epoch, c.entries[hi].StartOffset
	}
}

// truncateFromEnd drops epochs starting at or after end (log truncation).
func (c *epochCache) truncateFromEnd(end int64) bool {
	n := len(c.entries)
	for n > 0 && c.entries[n-1].StartOffset >= end {
		n--
	}
	changed := n != len(c.entries)
	c.entries = c.entries[:n]
	return changed
}

// truncateFromStart forgets epochs wholly below start; the epoch covering
// start is kept with its start moved up (Kafka does the same).
func (c *epochCache) truncateFromStart(start int64) bool {
	i := 0
	for i+1 < len(c.entries) && c.entries[i+1].StartOffset <= start {
		i++
	}
	changed := i > 0
	c.entries = c.entries[i:]
	if len(c.entries) > 0 && c.entries[0].StartOffset < start {
		c.entries[0].StartOffset = start
		changed = true
	}
	return changed
}
