package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every environment variable Osprey reads.
const EnvPrefix = "OSPREY_"

// Duration is a time.Duration that YAML and the environment write as "15s", "10m", "6h" or "15d".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string {
	td := time.Duration(d)
	if td > 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	return td.String()
}

// ParseDuration accepts Go durations plus a day suffix ("15d").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration: use forms like 30s, 5m, 6h or 15d", s)
		}
		return Duration(days * float64(24*time.Hour)), nil
	}
	td, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: use forms like 30s, 5m, 6h or 15d", s)
	}
	return Duration(td), nil
}

// UnmarshalYAML reads "15s"-style strings.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes the "15s" form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

var durationType = reflect.TypeOf(Duration(0))

// LoadOptions says where configuration comes from.
type LoadOptions struct {
	// File is a YAML file path; empty means defaults only.
	File string
	// Env is the environment as KEY=VALUE strings (os.Environ()); nil means none.
	Env []string
	// Flags are key paths (as in YAML, e.g. "listen", "database.dsn") set on the command line.
	Flags map[string]string
}

// Load builds the configuration from defaults, the file, the environment and flags, then validates it.
func Load(opts LoadOptions) (Config, error) {
	cfg := Default()
	if opts.File != "" {
		data, err := os.ReadFile(opts.File)
		if err != nil {
			return Config{}, fmt.Errorf("reading config file: %w", err)
		}
		if err := decodeYAML(opts.File, data, &cfg); err != nil {
			return Config{}, err
		}
	}
	for _, kv := range opts.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) {
			continue
		}
		path, found := envPaths()[k]
		if !found {
			// OSPREY_* variables of the test harness and scripts are not configuration: ignore them.
			continue
		}
		if err := cfg.Set(path, v); err != nil {
			return Config{}, fmt.Errorf("environment %s: %w", k, err)
		}
	}
	keys := make([]string, 0, len(opts.Flags))
	for k := range opts.Flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := cfg.Set(k, opts.Flags[k]); err != nil {
			return Config{}, fmt.Errorf("flag for %s: %w", k, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// decodeYAML decodes into cfg after checking every key against the struct, so a typo is reported with
// its line and the closest known key instead of being silently ignored.
func decodeYAML(name string, data []byte, cfg *Config) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("config %s: not valid YAML: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(root.Content) == 0 {
		return nil // an empty file means all defaults
	}
	if err := checkKeys(root.Content[0], reflect.TypeOf(*cfg), ""); err != nil {
		return fmt.Errorf("config %s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return fmt.Errorf("config %s: %s", name, strings.Join(te.Errors, "; "))
		}
		return fmt.Errorf("config %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	switch t.Kind() {
	case reflect.Struct:
		if t == durationType {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: %s must be a mapping of keys", n.Line, describe(path))
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				return fmt.Errorf("line %d: unknown key %q in %s%s", k.Line, k.Value, describe(path), suggest(k.Value, fields))
			}
			if err := checkKeys(v, f.Type, join(path, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode && t.Elem().Kind() == reflect.Struct {
			for i, item := range n.Content {
				if err := checkKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func describe(path string) string {
	if path == "" {
		return "the top level"
	}
	return strconv.Quote(path)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := make(map[string]reflect.StructField, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f
	}
	return out
}

// suggest names the known key closest to a misspelt one, or lists the keys when none is close.
func suggest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	best, bestD := "", 1<<30
	for name := range fields {
		names = append(names, name)
		if d := editDistance(strings.ToLower(key), strings.ToLower(name)); d < bestD {
			best, bestD = name, d
		}
	}
	sort.Strings(names)
	if bestD <= 2 || (bestD <= len(key)/3 && bestD < 4) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known keys: " + strings.Join(names, ", ") + ")"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// envName turns a YAML key path into its environment variable: "database.maxOpenConns" →
// OSPREY_DATABASE_MAX_OPEN_CONNS.
func envName(path string) string {
	var b strings.Builder
	b.WriteString(EnvPrefix)
	prevLower := false
	for _, r := range path {
		switch {
		case r == '.':
			b.WriteByte('_')
			prevLower = false
		case unicode.IsUpper(r):
			if prevLower {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			prevLower = false
		default:
			b.WriteRune(unicode.ToUpper(r))
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		}
	}
	return b.String()
}

// envPaths maps every settable scalar's environment variable to its key path.
func envPaths() map[string]string {
	out := map[string]string{}
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for name, f := range yamlFields(t) {
			p := join(path, name)
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(f.Type, p)
				continue
			}
			if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct {
				continue // lists of clusters only come from the file
			}
			out[envName(p)] = p
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	return out
}

// Set assigns one scalar by its YAML key path ("listen", "database.dsn", "embedded.brokers").
// Lists of strings take comma-separated values.
func (c *Config) Set(path, value string) error {
	v := reflect.ValueOf(c).Elem()
	parts := strings.Split(path, ".")
	for i, part := range parts {
		f, ok := yamlFields(v.Type())[part]
		if !ok {
			return fmt.Errorf("unknown key %q", strings.Join(parts[:i+1], "."))
		}
		v = v.FieldByIndex(f.Index)
		if i < len(parts)-1 && (v.Kind() != reflect.Struct || v.Type() == durationType) {
			return fmt.Errorf("unknown key %q", path)
		}
	}
	return setScalar(v, path, value)
}

func setScalar(v reflect.Value, path, value string) error {
	switch {
	case v.Type() == durationType:
		d, err := ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		v.Set(reflect.ValueOf(d))
	case v.Kind() == reflect.String:
		v.SetString(value)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%s: %q is not a boolean: use true or false", path, value)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%s: %q is not a whole number", path, value)
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, s := range strings.Split(value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("%s cannot be set from a single value", path)
	}
	return nil
}
