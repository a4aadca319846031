package sharestate

import "sort"

// Combine lays the batches of an update over the state so far, as Kafka's
// PersisterStateBatchCombiner: where they overlap the update wins, offsets
// below start are dropped, and adjacent batches with the same state and
// count are joined. The result is sorted and has no overlaps.
func Combine(soFar, update []Batch, start int64) []Batch {
	var out []Batch
	for _, o := range soFar {
		out = append(out, subtract(o, update)...)
	}
	out = append(out, update...)
	kept := out[:0]
	for _, b := range out {
		if b.Last < start || b.First > b.Last {
			continue
		}
		b.First = max(b.First, start)
		kept = append(kept, b)
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].First < kept[j].First })
	var merged []Batch
	for _, b := range kept {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			if last.Last+1 >= b.First && last.State == b.State && last.Count == b.Count {
				last.Last = max(last.Last, b.Last)
				continue
			}
		}
		merged = append(merged, b)
	}
	return merged
}

// subtract returns the parts of b that no batch of over covers.
func subtract(b Batch, over []Batch) []Batch {
	parts := []Batch{b}
	for _, o := range over {
		var next []Batch
		for _, p := range parts {
			if o.Last < p.First || o.First > p.Last {
				next = append(next, p)
				continue
			}
			if p.First < o.First {
				q := p
				q.Last = o.First - 1
				next = append(next, q)
			}
			if p.Last > o.Last {
				q := p
				q.First = o.Last + 1
				next = append(next, q)
			}
		}
		parts = next
	}
	return parts
}
