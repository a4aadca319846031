// Package efak reads Kafka-Eagle's (EFAK's) system-config.properties and translates it into Osprey's
// configuration: one cluster per ZooKeeper alias, the database, the metrics retention and the admin
// token, with a line-by-line account of what was imported, what was kept but is not used yet, and what
// was ignored and why. Nothing here does I/O beyond reading the given input and, in Merge, the YAML
// document handed in; secrets never appear in the account or in errors.
package efak

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Entry is one key=value pair of the file, with the line it starts on.
type Entry struct {
	Key   string
	Value string
	Line  int
}

// File is a parsed properties file. Later entries with the same key win, as in java.util.Properties.
type File struct {
	Entries []Entry
	// Repeated lists keys given more than once (the earlier entries are overridden).
	Repeated []Entry
}

// ParseError is a line the parser refused. It never includes the line's text, which may hold a secret.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// maxFileSize bounds what Parse reads; EFAK's own file is a few kilobytes.
const maxFileSize = 1 << 20

// Parse reads a Java properties file as EFAK writes it: "key=value" or "key: value" lines, "#" and "!"
// comments, a trailing backslash continuing a line, and Java's escapes (\t \n \uXXXX …). It is stricter
// than java.util.Properties where leniency would hide a broken file: a line without "=" or ":", an
// empty key, a bad \u escape, a continuation at the end of the file or bytes that are not UTF-8 are
// refused with their line number.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the EFAK file: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("the file is larger than %d bytes; EFAK's system-config.properties is a few kilobytes", maxFileSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	f := &File{}
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), maxFileSize)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		start := lineNo
		raw := sc.Text()
		if !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
			return nil, &ParseError{Line: lineNo, Msg: "not UTF-8 text (is this a properties file?)"}
		}
		logical := strings.TrimLeft(raw, " \t\f")
		if logical == "" || logical[0] == '#' || logical[0] == '!' {
			continue
		}
		for continued(logical) {
			logical = logical[:len(logical)-1]
			if !sc.Scan() {
				return nil, &ParseError{Line: start, Msg: "the last line ends with a backslash: the continuation line is missing"}
			}
			lineNo++
			next := sc.Text()
			if !utf8.ValidString(next) {
				return nil, &ParseError{Line: lineNo, Msg: "not UTF-8 text (is this a properties file?)"}
			}
			logical += strings.TrimLeft(next, " \t\f")
		}
		e, err := parseLine(logical)
		if err != nil {
			return nil, &ParseError{Line: start, Msg: err.Error()}
		}
		e.Line = start
		if i, ok := seen[e.Key]; ok {
			f.Repeated = append(f.Repeated, f.Entries[i])
			f.Entries[i] = e
			continue
		}
		seen[e.Key] = len(f.Entries)
		f.Entries = append(f.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{Line: lineNo + 1, Msg: fmt.Sprintf("cannot read the line: %v", err)}
	}
	return f, nil
}

// continued reports whether a line ends with an odd number of backslashes (an escaped backslash does
// not continue the line).
func continued(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// parseLine splits one logical line at the first unescaped "=" or ":" and unescapes both halves.
func parseLine(s string) (Entry, error) {
	sep := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '=' || s[i] == ':' {
			sep = i
			break
		}
	}
	if sep < 0 {
		return Entry{}, fmt.Errorf("no \"=\" in the line: expected key=value")
	}
	key, err := unescape(strings.TrimRight(s[:sep], " \t\f"))
	if err != nil {
		return Entry{}, err
	}
	if key == "" {
		return Entry{}, fmt.Errorf("the line has a value but no key")
	}
	if strings.ContainsAny(key, " \t") {
		return Entry{}, fmt.Errorf("the key %q contains a space", key)
	}
	value, err := unescape(strings.TrimLeft(s[sep+1:], " \t\f"))
	if err != nil {
		return Entry{}, fmt.Errorf("in the value of %s: %v", key, err)
	}
	return Entry{Key: key, Value: strings.TrimRight(value, " \t\f")}, nil
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i == len(s)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if len(s)-(i+1) < 4 {
				return "", fmt.Errorf("a \\u escape needs four hex digits")
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", fmt.Errorf("\\u%s is not a \\u escape with four hex digits", s[i+1:i+5])
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
