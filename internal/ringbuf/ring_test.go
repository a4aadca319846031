package ringbuf

import (
	"slices"
	"testing"
)

func TestRingKeepsNewestOldestFirst(t *testing.T) {
	r := New[int](3)
	if r.Len() != 0 || r.Cap() != 3 || len(r.Last(5)) != 0 {
		t.Fatalf("new ring: len %d cap %d last %v", r.Len(), r.Cap(), r.Last(5))
	}
	for i := 1; i <= 7; i++ {
		r.Add(i)
		want := []int{}
		for v := max(1, i-2); v <= i; v++ {
			want = append(want, v)
		}
		if got := r.Last(r.Cap()); !slices.Equal(got, want) {
			t.Fatalf("after adding 1..%d: %v, want %v", i, got, want)
		}
		for j, w := range want {
			if got := r.At(j); got != w {
				t.Fatalf("after adding 1..%d: At(%d) = %d, want %d", i, j, got, w)
			}
		}
	}
	if got := r.Last(2); !slices.Equal(got, []int{6, 7}) {
		t.Fatalf("Last(2) = %v", got)
	}
	if got := r.Last(-1); len(got) != 0 {
		t.Fatalf("Last(-1) = %v", got)
	}
	got := r.Last(3)
	got[0] = 100
	if r.At(0) != 5 {
		t.Fatal("Last returned the ring's own storage")
	}
}

func TestRingResize(t *testing.T) {
	tests := []struct {
		name   string
		add    []int
		resize int
		want   []int
		then   int // added after the resize
		after  []int
	}{
		{"shrink keeps newest", []int{1, 2, 3, 4, 5}, 2, []int{4, 5}, 6, []int{5, 6}},
		{"grow keeps all", []int{1, 2, 3, 4, 5}, 6, []int{3, 4, 5}, 8, []int{3, 4, 5, 8}},
		{"same capacity", []int{1, 2, 3, 4}, 3, []int{2, 3, 4}, 5, []int{3, 4, 5}},
		{"at least one", []int{1, 2}, 0, []int{2}, 3, []int{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New[int](3)
			for _, v := range tc.add {
				r.Add(v)
			}
			r.Resize(tc.resize)
			if got := r.Last(r.Cap()); !slices.Equal(got, tc.want) {
				t.Fatalf("after resize: %v, want %v", got, tc.want)
			}
			r.Add(tc.then)
			if got := r.Last(r.Cap()); !slices.Equal(got, tc.after) {
				t.Fatalf("after adding %d: %v, want %v", tc.then, got, tc.after)
			}
		})
	}
}

func TestZeroRing(t *testing.T) {
	var r Ring[string]
	r.Add("dropped")
	if r.Len() != 0 {
		t.Fatalf("zero ring held %d values", r.Len())
	}
	r.Resize(2)
	r.Add("a")
	r.Add("b")
	r.Add("c")
	if got := r.Last(2); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("Last = %v", got)
	}
}

func TestAtOutOfRangePanics(t *testing.T) {
	r := New[int](2)
	r.Add(1)
	defer func() {
		if recover() == nil {
			t.Fatal("At(1) on a ring of one value did not panic")
		}
	}()
	r.At(1)
}
