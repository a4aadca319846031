package service

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// configRule is how the console checks one topic config value before asking Kafka, so a typo gets a
// sentence about that key instead of the broker's INVALID_CONFIG. Keys without a rule go to Kafka as
// they are: the cluster knows its own configs best.
type configRule struct {
	// kind: "ms", "bytes" or "count" (a whole number >= min), "ratio" (0..1), "bool", "enum" or "list"
	// (a comma-separated subset of allowed).
	kind    string
	min     int64
	allowed []string
}

var topicConfigRules = map[string]configRule{
	"retention.ms":                        {kind: "ms", min: -1},
	"retention.bytes":                     {kind: "bytes", min: -1},
	"segment.bytes":                       {kind: "bytes", min: 14},
	"segment.ms":                          {kind: "ms", min: 1},
	"segment.index.bytes":                 {kind: "bytes", min: 4},
	"segment.jitter.ms":                   {kind: "ms", min: 0},
	"index.interval.bytes":                {kind: "bytes", min: 0},
	"max.message.bytes":                   {kind: "bytes", min: 0},
	"delete.retention.ms":                 {kind: "ms", min: 0},
	"file.delete.delay.ms":                {kind: "ms", min: 0},
	"flush.ms":                            {kind: "ms", min: 0},
	"flush.messages":                      {kind: "count", min: 1},
	"min.compaction.lag.ms":               {kind: "ms", min: 0},
	"max.compaction.lag.ms":               {kind: "ms", min: 1},
	"message.timestamp.difference.max.ms": {kind: "ms", min: 0},
	"local.retention.ms":                  {kind: "ms", min: -2},
	"local.retention.bytes":               {kind: "bytes", min: -2},
	"min.insync.replicas":                 {kind: "count", min: 1},
	"min.cleanable.dirty.ratio":           {kind: "ratio"},
	"unclean.leader.election.enable":      {kind: "bool"},
	"preallocate":                         {kind: "bool"},
	"message.downconversion.enable":       {kind: "bool"},
	"cleanup.policy":                      {kind: "list", allowed: []string{"delete", "compact"}},
	"compression.type":                    {kind: "enum", allowed: []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}},
	"message.timestamp.type":              {kind: "enum", allowed: []string{"CreateTime", "LogAppendTime"}},
}

// validateTopicConfigs checks the values of known keys; the first bad one is reported (keys in
// sorted order, so the answer does not depend on map order).
func validateTopicConfigs(set map[string]string) error {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := validateTopicConfig(k, set[k]); err != nil {
			return err
		}
	}
	return nil
}

func validateTopicConfig(key, value string) error {
	r, ok := topicConfigRules[key]
	if !ok {
		return nil
	}
	v := strings.TrimSpace(value)
	bad := func(msg string, cause error) error {
		ue := &UserError{Status: http.StatusBadRequest, Code: "invalid_config", Message: msg, Cause: cause}
		rule := r.kind
		if r.min == -1 && (r.kind == "ms" || r.kind == "bytes") {
			rule += "_or_unlimited" // -1 means no limit: the sentence says so
		}
		ue.with("key", key, "value", value, "rule", rule)
		if r.kind == "ms" || r.kind == "bytes" || r.kind == "count" {
			ue.with("min", r.min)
		}
		if r.allowed != nil {
			ue.with("allowed", strings.Join(r.allowed, ", "))
		}
		return ue
	}
	switch r.kind {
	case "ms", "bytes", "count":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < r.min {
			if err == nil {
				err = fmt.Errorf("%d is below the minimum %d", n, r.min)
			}
			return bad(wholeNumberSentence(key, r), fmt.Errorf("config %s=%q: %w", key, value, err))
		}
	case "ratio":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
			return bad(fmt.Sprintf("%s must be a number between 0 and 1", key), fmt.Errorf("config %s=%q: %v", key, value, err))
		}
	case "bool":
		if v != "true" && v != "false" {
			return bad(fmt.Sprintf("%s must be true or false", key), fmt.Errorf("config %s=%q", key, value))
		}
	case "enum":
		if !slices.Contains(r.allowed, v) {
			return bad(fmt.Sprintf("%s must be one of %s", key, strings.Join(r.allowed, ", ")), fmt.Errorf("config %s=%q", key, value))
		}
	case "list":
		parts := strings.Split(v, ",")
		for _, p := range parts {
			if !slices.Contains(r.allowed, strings.TrimSpace(p)) {
				return bad(fmt.Sprintf("%s must be delete, compact or both (compact,delete)", key), fmt.Errorf("config %s=%q", key, value))
			}
		}
	}
	return nil
}

// wholeNumberSentence says what a whole-number config accepts, with -1 (or -2) spelled out where
// Kafka gives it a meaning.
func wholeNumberSentence(key string, r configRule) string {
	unit := map[string]string{"ms": "a whole number of milliseconds", "bytes": "a whole number of bytes", "count": "a whole number"}[r.kind]
	switch {
	case r.min == -1:
		return fmt.Sprintf("%s must be %s (-1 means no limit)", key, unit)
	case r.min < -1:
		return fmt.Sprintf("%s must be %s, %d or more", key, unit, r.min)
	case r.min == 0:
		return fmt.Sprintf("%s must be %s, 0 or more", key, unit)
	default:
		return fmt.Sprintf("%s must be %s, at least %d", key, unit, r.min)
	}
}
