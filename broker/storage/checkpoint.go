package storage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/osprey-kafka/osprey/internal/atomicfile"
)

// Checkpoint files use Kafka's text format: a version line (0), a count
// line, then "topic partition offset" lines.

func readCheckpoint(path string) (map[TopicPartition]int64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[TopicPartition]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, errors.Join(ErrStorage, err))
	}
	return parseCheckpoint(b)
}

func parseCheckpoint(b []byte) (map[TopicPartition]int64, error) {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("%w: checkpoint has %d lines, want at least 2", ErrCorruptMessage, len(lines))
	}
	if strings.TrimSpace(lines[0]) != "0" {
		return nil, fmt.Errorf("%w: checkpoint version %q, want 0", ErrCorruptMessage, lines[0])
	}
	n, err := strconv.Atoi(strings.TrimSpace(lines[1]))
	if err != nil || n < 0 || n != len(lines)-2 {
		return nil, fmt.Errorf("%w: checkpoint count %q with %d entries", ErrCorruptMessage, lines[1], len(lines)-2)
	}
	out := make(map[TopicPartition]int64, n)
	for _, ln := range lines[2:] {
		f := strings.Fields(ln)
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: checkpoint line %q", ErrCorruptMessage, ln)
		}
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		off, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: checkpoint line %q", ErrCorruptMessage, ln)
		}
		out[TopicPartition{f[0], int32(p)}] = off
	}
	return out, nil
}

func formatCheckpoint(vals map[TopicPartition]int64) []byte {
	tps := make([]TopicPartition, 0, len(vals))
	for tp := range vals {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "0\n%d\n", len(tps))
	for _, tp := range tps {
		fmt.Fprintf(&buf, "%s %d %d\n", tp.Topic, tp.Partition, vals[tp])
	}
	return buf.Bytes()
}

func writeCheckpoint(path string, vals map[TopicPartition]int64) error {
	return writeFileAtomic(path, formatCheckpoint(vals))
}

// writeFileAtomic replaces path so that a crash leaves either the old or the new file.
func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return errors.Join(ErrStorage, err)
	}
	return nil
}

func syncDir(dir string) error {
	if err := atomicfile.SyncDir(dir); err != nil {
		return errors.Join(ErrStorage, err)
	}
	return nil
}

// ReadProperties reads a Java-style properties file (key=value lines, '#'
// and '!' comments), e.g. meta.properties.
func ReadProperties(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ln := strings.TrimSpace(sc.Text())
		if ln == "" || ln[0] == '#' || ln[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(ln, "=")
		if !ok {
			k, v, _ = strings.Cut(ln, ":")
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}
