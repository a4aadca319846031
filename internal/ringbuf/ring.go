// Package ringbuf is a fixed-capacity buffer that keeps the newest values and
// drops the oldest, used for the collector's per-partition offset history
// and the alert evaluator's sample windows.
package ringbuf

// Ring keeps up to Cap() newest values, oldest first. The zero value has no
// capacity: Resize before Add. A Ring is not safe for concurrent use; its
// owner says which goroutine or lock guards it.
type Ring[T any] struct {
	buf  []T
	head int // index of the oldest value
	n    int // values held
}

// New returns an empty ring holding up to capacity values (at least 1).
func New[T any](capacity int) *Ring[T] {
	return &Ring[T]{buf: make([]T, max(capacity, 1))}
}

// Add appends v as the newest value, dropping the oldest when full. On a
// ring with no capacity it does nothing.
func (r *Ring[T]) Add(v T) {
	if len(r.buf) == 0 {
		return
	}
	if r.n < len(r.buf) {
		r.buf[(r.head+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.head] = v
	r.head = (r.head + 1) % len(r.buf)
}

// Len is the number of values held.
func (r *Ring[T]) Len() int { return r.n }

// Cap is the most values the ring holds.
func (r *Ring[T]) Cap() int { return len(r.buf) }

// At returns the i-th value held, 0 = oldest; it panics unless 0 <= i < Len().
func (r *Ring[T]) At(i int) T {
	if i < 0 || i >= r.n {
		panic("ringbuf: index out of range")
	}
	return r.buf[(r.head+i)%len(r.buf)]
}

// Last returns up to k newest values, oldest first, in a new slice.
func (r *Ring[T]) Last(k int) []T {
	k = min(max(k, 0), r.n)
	out := make([]T, 0, k)
	for i := r.n - k; i < r.n; i++ {
		out = append(out, r.buf[(r.head+i)%len(r.buf)])
	}
	return out
}

// Resize changes the capacity (at least 1), keeping the newest values that
// fit. Resizing to the current capacity does nothing.
func (r *Ring[T]) Resize(capacity int) {
	capacity = max(capacity, 1)
	if capacity == len(r.buf) {
		return
	}
	vals := r.Last(capacity)
	r.buf = make([]T, capacity)
	copy(r.buf, vals)
	r.head, r.n = 0, len(vals)
}
