package msgfilter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCompileErrorPosition(t *testing.T) {
	for _, c := range []struct {
		src          string
		line, column int
	}{
		{`value.contains("a") &&`, 1, 23},
		{"partition == 1 &&\n  nosuch > 3", 2, 3},
		{`key + 1`, 1, 5},
		{`offset + 1`, 1, 1}, // not a bool
		{`   `, 1, 1},
	} {
		_, err := Compile(c.src)
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("Compile(%q) = %v, want a CompileError", c.src, err)
			continue
		}
		if ce.Line != c.line || ce.Column != c.column || ce.Message == "" {
			t.Errorf("Compile(%q) = line %d column %d %q, want line %d column %d", c.src, ce.Line, ce.Column, ce.Message, c.line, c.column)
		}
	}
}

func TestMatch(t *testing.T) {
	rec := Record{Key: []byte("k1"), Value: []byte(`{"amount": 120, "user": {"country": "FR"}}`),
		Headers: map[string]string{"source": "web"}, Timestamp: time.UnixMilli(1_700_000_000_000), Partition: 2, Offset: 41}
	for src, want := range map[string]bool{
		`json.amount > 100 && json.user.country == "FR"`:        true,
		`json.amount == 120`:                                    true,
		`json.missing == 1`:                                     false, // a run-time error is no match
		`headers["source"] == "web" && key.startsWith("k")`:     true,
		`partition == 2 && offset == 41`:                        true,
		`timestamp > timestamp("2023-01-01T00:00:00Z")`:         true,
		`value.matches("amount\": [0-9]+") && !has(json.other)`: true,
		`"source" in headers && !("trace" in headers)`:          true,
		`json.amount < 100`:                                     false,
	} {
		f, err := Compile(src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		if got, _ := f.Match(rec); got != want {
			t.Errorf("%s = %v, want %v", src, got, want)
		}
	}
	f, _ := Compile(`json.a == 1`)
	if got, _ := f.Match(Record{Value: []byte("not json")}); got {
		t.Error("a filter on a JSON field matched a value that is not JSON")
	}
}

// BenchmarkMatch measures one evaluation on a 1 KiB JSON value (the shape of the search benchmark's
// records): a filter on a JSON field, and one on the key that must not pay for the JSON.
func BenchmarkMatch(b *testing.B) {
	value := []byte(fmt.Sprintf(`{"user":"u-00042","n":17,"pad":%q}`, strings.Repeat("x", 960)))
	rec := Record{Key: []byte("k-17"), Value: value, Timestamp: time.Unix(1, 0), Headers: map[string]string{}}
	for _, src := range []string{`json.user == "u-00042"`, `key == "k-17"`} {
		f, err := Compile(src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(src, func(b *testing.B) {
			b.SetBytes(int64(len(value)))
			for b.Loop() {
				if ok, err := f.Match(rec); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
