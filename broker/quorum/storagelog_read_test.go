package quorum

import (
	"bytes"
	"runtime"
	"testing"
)

// storageLogOf appends n entries of size bytes each (epoch 1) to a new StorageLog in a temp dir.
func storageLogOf(tb testing.TB, n, size int) *StorageLog {
	tb.Helper()
	l, err := OpenStorageLog(tb.TempDir(), StorageLogOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = l.Close() })
	es := make([]Entry, n)
	for i := range es {
		es[i] = Entry{Offset: int64(i), Epoch: 1, Data: bytes.Repeat([]byte{byte(i)}, size)}
	}
	if err := l.Append(es); err != nil {
		tb.Fatal(err)
	}
	return l
}

// A read of a few entries decodes those entries, not the chunk of batches around them: the
// leader reads one entry for a snapshot's id and a follower at the tail asks for few.
func TestStorageLogReadOfOneEntryDecodesOnlyIt(t *testing.T) {
	l := storageLogOf(t, 2000, 200)
	for _, from := range []int64{0, 1000, 1999} {
		es, err := l.Read(from, 1)
		if err != nil {
			t.Fatalf("Read(%d, 1): %v", from, err)
		}
		if len(es) != 1 || es[0].Offset != from || !bytes.Equal(es[0].Data, bytes.Repeat([]byte{byte(from)}, 200)) {
			t.Fatalf("Read(%d, 1) = %+v", from, es)
		}
	}
	// Decoding every batch of the chunk around the entry allocated about 360 KB a read here.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const reads = 20
	for i := 0; i < reads; i++ {
		if _, err := l.Read(1000, 1); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / reads; per > 64<<10 {
		t.Fatalf("Read(1000, 1) allocated %d bytes: it reads and decodes more than the entry asked for", per)
	}
}

// Reads of many entries cross storage reads (about 4 KiB an entry is asked for at a time) and
// still return every entry once, in order, whatever the entry size.
func TestStorageLogReadAcrossChunks(t *testing.T) {
	for _, size := range []int{10, 5000, 300_000} {
		n := 40
		l := storageLogOf(t, n, size)
		for _, max := range []int{1, 3, 7, n + 5} {
			var got []Entry
			for from := int64(0); from < int64(n); {
				es, err := l.Read(from, max)
				if err != nil {
					t.Fatalf("size %d: Read(%d, %d): %v", size, from, max, err)
				}
				if len(es) == 0 || len(es) > max {
					t.Fatalf("size %d: Read(%d, %d) = %d entries", size, from, max, len(es))
				}
				got = append(got, es...)
				from = es[len(es)-1].Offset + 1
			}
			for i, e := range got {
				if e.Offset != int64(i) || len(e.Data) != size || e.Data[0] != byte(i) {
					t.Fatalf("size %d, max %d: entry %d is offset %d, %d bytes", size, max, i, e.Offset, len(e.Data))
				}
			}
		}
	}
}

func BenchmarkStorageLogReadOne(b *testing.B) {
	l := storageLogOf(b, 2000, 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Read(1000, 1); err != nil {
			b.Fatal(err)
		}
	}
}
