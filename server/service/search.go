package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/admin"
	"github.com/osprey-kafka/osprey/internal/msgfilter"
)

// SearchLimits bound one message search; a request may lower them, never raise them. Zero fields
// take the defaults of DefaultSearchLimits.
type SearchLimits struct {
	// MaxRecords is how many records one search reads at most, over all partitions.
	MaxRecords int64
	// MaxBytes is how many bytes (keys, values and headers) one search reads at most.
	MaxBytes int64
	// MaxDuration is how long one search runs at most.
	MaxDuration time.Duration
	// MaxResults is how many matching records one search returns at most.
	MaxResults int
	// MaxExportResults is how many records one export or redrive selects at most.
	MaxExportResults int
	// MaxConcurrent is how many searches the console runs at once; more are refused with 429.
	MaxConcurrent int
	// FetchRecords is how many records one fetch takes from a partition at most.
	FetchRecords int
	// FetchBytes is how many bytes one fetch asks a partition for.
	FetchBytes int64
	// Prefetch is how many fetches one search keeps in flight (each on another partition, or the
	// next part of the same one): what a search holds is about (Prefetch + 1) × FetchBytes, the
	// fetches in flight and the one being handled.
	Prefetch int
}

// DefaultSearchLimits protect the cluster: a search reads at most a million records or 256 MiB
// for at most 30 s, returns at most 500 matches, and only four run at a time; each keeps at most
// four fetches of 2 MiB in flight.
var DefaultSearchLimits = SearchLimits{MaxRecords: 1_000_000, MaxBytes: 256 << 20, MaxDuration: 30 * time.Second,
	MaxResults: 500, MaxExportResults: 100_000, MaxConcurrent: 4, FetchRecords: 20_000, FetchBytes: 2 << 20, Prefetch: 4}

func (l SearchLimits) withDefaults() SearchLimits {
	d := DefaultSearchLimits
	if l.MaxRecords <= 0 {
		l.MaxRecords = d.MaxRecords
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxDuration <= 0 {
		l.MaxDuration = d.MaxDuration
	}
	if l.MaxResults <= 0 {
		l.MaxResults = d.MaxResults
	}
	if l.MaxExportResults <= 0 {
		l.MaxExportResults = d.MaxExportResults
	}
	if l.MaxConcurrent <= 0 {
		l.MaxConcurrent = d.MaxConcurrent
	}
	if l.FetchRecords <= 0 {
		l.FetchRecords = d.FetchRecords
	}
	if l.FetchBytes <= 0 {
		l.FetchBytes = d.FetchBytes
	}
	if l.Prefetch <= 0 {
		l.Prefetch = d.Prefetch
	}
	return l
}

// SearchRequest is the body of a message search.
type SearchRequest struct {
	// Filter is a CEL expression over key, value, json, headers, timestamp, partition and offset.
	Filter string `json:"filter" required:"true" maxLength:"4096" description:"CEL expression that is true for the records to return, e.g. json.amount > 100 && headers[\"source\"] == \"web\""`
	// Partitions limits the search; every partition when empty.
	Partitions []int32 `json:"partitions,omitempty" description:"Search these partitions; every partition when absent"`
	// StartOffset and EndOffset bound each partition's range [start, end); StartTime and EndTime
	// (ms since the epoch) bound it by time instead. Without them the whole log is searched, from
	// its start to its end when the search began.
	StartOffset *int64 `json:"startOffset,omitempty" minimum:"0" description:"First offset to read in each partition"`
	EndOffset   *int64 `json:"endOffset,omitempty" minimum:"0" description:"Stop before this offset in each partition"`
	StartTime   *int64 `json:"startTime,omitempty" minimum:"0" description:"Start at the first record at or after this time (ms since the epoch)"`
	EndTime     *int64 `json:"endTime,omitempty" minimum:"0" description:"Stop at the first record at or after this time (ms since the epoch)"`
	// The limits below may only lower the console's configured limits.
	MaxRecords int64 `json:"maxRecords,omitempty" minimum:"1" description:"Read at most this many records (capped by the console's messages.search.maxRecords)"`
	MaxBytes   int64 `json:"maxBytes,omitempty" minimum:"1" description:"Read at most this many bytes (capped by messages.search.maxBytes)"`
	MaxSeconds int   `json:"maxSeconds,omitempty" minimum:"1" description:"Run at most this many seconds (capped by messages.search.maxDuration)"`
	MaxResults int   `json:"maxResults,omitempty" minimum:"1" description:"Return at most this many matches (capped by messages.search.maxResults)"`
}

// Search end reasons: the range was read to its end, a limit stopped it, or the caller went away.
const (
	SearchComplete   = "complete"
	SearchMaxRecords = "max_records"
	SearchMaxBytes   = "max_bytes"
	SearchMaxTime    = "max_time"
	SearchMaxResults = "max_results"
	SearchCancelled  = "cancelled"
	SearchFailed     = "failed"
)

// SearchEvent is one event of a search's stream; Type says which field is set: "message" (a
// matching record, masked as the caller must see it), "progress" (after every round of fetches)
// and "done" (the last event, with the reason the search ended).
type SearchEvent struct {
	Type     string          `json:"type" enum:"message,progress,done" required:"true"`
	Message  *MessageView    `json:"message,omitempty"`
	Progress *SearchProgress `json:"progress,omitempty"`
	Done     *SearchDone     `json:"done,omitempty"`
}

// SearchProgress is what a search has read so far.
type SearchProgress struct {
	Records    int64                     `json:"records" required:"true"`
	Bytes      int64                     `json:"bytes" required:"true"`
	Matches    int                       `json:"matches" required:"true"`
	ElapsedMs  int64                     `json:"elapsedMs" required:"true"`
	Partitions []SearchPartitionProgress `json:"partitions" required:"true"`
}

// SearchPartitionProgress is one partition's part: its range [start, end), the next offset to
// read, and what was read of it.
type SearchPartitionProgress struct {
	Partition int32 `json:"partition" required:"true"`
	Start     int64 `json:"start" required:"true"`
	End       int64 `json:"end" required:"true"`
	Position  int64 `json:"position" required:"true"`
	Records   int64 `json:"records" required:"true"`
	Bytes     int64 `json:"bytes" required:"true"`
	Matches   int   `json:"matches" required:"true"`
	Done      bool  `json:"done" required:"true"`
}

// SearchDone ends a search's stream.
type SearchDone struct {
	Reason   string         `json:"reason" enum:"complete,max_records,max_bytes,max_time,max_results,cancelled,failed" required:"true"`
	Limits   SearchLimitsIn `json:"limits" required:"true"`
	Progress SearchProgress `json:"progress" required:"true"`
	// Error is set when Reason is failed.
	Error string `json:"error,omitempty"`
}

// SearchLimitsIn are the limits a search ran under.
type SearchLimitsIn struct {
	MaxRecords int64 `json:"maxRecords" required:"true"`
	MaxBytes   int64 `json:"maxBytes" required:"true"`
	MaxSeconds int64 `json:"maxSeconds" required:"true"`
	MaxResults int   `json:"maxResults" required:"true"`
}

// FilterCompileError is the 400 answer for a filter that does not compile; Params carry line,
// column and the compiler's message.
func filterCompileError(ce *msgfilter.CompileError) error {
	return (&UserError{Status: http.StatusBadRequest, Code: "filter_invalid",
		Message: ce.Error()}).with("line", ce.Line, "column", ce.Column, "detail", ce.Message)
}

// searchSet counts the running searches and how past ones ended (for the metrics and tests).
type searchSet struct {
	mu      sync.Mutex // guards the fields below
	running int
	ended   map[string]int
}

// SearchStats reports the searches running now and how many ended for each reason.
func (s *Service) SearchStats() (running int, ended map[string]int) {
	s.searches.mu.Lock()
	defer s.searches.mu.Unlock()
	ended = make(map[string]int, len(s.searches.ended))
	for k, v := range s.searches.ended {
		ended[k] = v
	}
	return s.searches.running, ended
}

func (s *Service) searchStarted(limit int) bool {
	s.searches.mu.Lock()
	defer s.searches.mu.Unlock()
	if s.searches.running >= limit {
		return false
	}
	s.searches.running++
	return true
}

func (s *Service) searchEnded(reason string) {
	s.searches.mu.Lock()
	defer s.searches.mu.Unlock()
	s.searches.running--
	if s.searches.ended == nil {
		s.searches.ended = map[string]int{}
	}
	s.searches.ended[reason]++
}

// Search is a prepared message search: the request checked, the filter compiled and the ranges
// read. Run streams it.
type Search struct {
	s       *Service
	c       *cluster
	topic   string
	filter  *msgfilter.Filter
	mask    recordMasker
	md      *admin.Metadata
	parts   []*searchPart
	limits  SearchLimits
	release func(reason string)
	// full sends payloads whole (an export), not cut to what a page shows.
	full bool
	// collect, when set, receives each matching record as fetched (clear, not masked) instead of a
	// message event being sent: a redrive copies the records it selected by their masked form.
	collect func(admin.Message) error
	// observe, when set (tests), is told the fetches queued and the bytes they hold at each issue.
	observe func(queued int, heldBytes int64)
}

type searchPart struct {
	SearchPartitionProgress
	// fetchPos is the next offset to fetch (ahead of Position while fetches are in flight);
	// inFlight says a fetch of the partition is in flight. Both are owned by the scan's goroutine.
	fetchPos int64
	inFlight bool
}

// PrepareSearch checks a search request and reads the partitions' ranges; the errors are the
// answers a caller must correct (400 with the filter's error position, 404, 429). Every prepared
// search must be Run, which releases its slot.
func (s *Service) PrepareSearch(ctx context.Context, who Caller, cluster, topic string, req SearchRequest) (*Search, error) {
	return s.prepareScan(ctx, who, cluster, topic, req, false)
}

// PrepareExport is PrepareSearch for an export: whole payloads, and up to
// messages.search.maxExportResults matches.
func (s *Service) PrepareExport(ctx context.Context, who Caller, cluster, topic string, req SearchRequest) (*Search, error) {
	q, err := s.prepareScan(ctx, who, cluster, topic, req, true)
	if q != nil {
		q.full = true
	}
	return q, err
}

// prepareScan is PrepareSearch; bulk scans (export, redrive) take the export cap on matches.
func (s *Service) prepareScan(ctx context.Context, who Caller, cluster, topic string, req SearchRequest, bulk bool) (*Search, error) {
	c, err := s.get(cluster)
	if err != nil {
		return nil, err
	}
	if err := s.knownTopic(c, cluster, topic); err != nil {
		return nil, err
	}
	configured := s.opts.Search.withDefaults()
	if bulk {
		configured.MaxResults = configured.MaxExportResults
	}
	limits, err := searchLimits(configured, req)
	if err != nil {
		return nil, err
	}
	f, err := msgfilter.Compile(req.Filter)
	if err != nil {
		var ce *msgfilter.CompileError
		if errors.As(err, &ce) {
			return nil, filterCompileError(ce)
		}
		return nil, err
	}
	mask, err := s.maskerFor(ctx, cluster, topic, who.Identity)
	if err != nil {
		return nil, err
	}
	md, err := c.client.Metadata(ctx, []string{topic})
	if err != nil {
		return nil, kafkaError(opReadMetadata, "topic "+topic, err)
	}
	if len(md.Topics) == 0 || md.Topics[0].Err != nil {
		return nil, topicNotFound(cluster, topic)
	}
	parts, err := searchRanges(ctx, c, md, topic, req)
	if err != nil {
		return nil, err
	}
	if !s.searchStarted(limits.MaxConcurrent) {
		return nil, &UserError{Status: http.StatusTooManyRequests, Code: "too_many_searches",
			Message: fmt.Sprintf("%d searches are running already; try again when one has ended", limits.MaxConcurrent)}
	}
	return &Search{s: s, c: c, topic: topic, filter: f, mask: mask, md: md, parts: parts, limits: limits, release: s.searchEnded}, nil
}

// searchLimits lowers the configured limits to the request's.
func searchLimits(l SearchLimits, req SearchRequest) (SearchLimits, error) {
	if req.MaxRecords < 0 || req.MaxBytes < 0 || req.MaxSeconds < 0 || req.MaxResults < 0 {
		return l, badRequest("invalid_query", "limits must be positive")
	}
	if req.MaxRecords > 0 {
		l.MaxRecords = min(l.MaxRecords, req.MaxRecords)
	}
	if req.MaxBytes > 0 {
		l.MaxBytes = min(l.MaxBytes, req.MaxBytes)
	}
	if req.MaxSeconds > 0 {
		l.MaxDuration = min(l.MaxDuration, time.Duration(req.MaxSeconds)*time.Second)
	}
	if req.MaxResults > 0 {
		l.MaxResults = min(l.MaxResults, req.MaxResults)
	}
	return l, nil
}

// searchRanges picks each searched partition's range [start, end): offsets or times from the
// request, else the whole log as it is now (so a search ends even while producers write).
func searchRanges(ctx context.Context, c *cluster, md *admin.Metadata, topic string, req SearchRequest) ([]*searchPart, error) {
	if (req.StartOffset != nil || req.EndOffset != nil) && (req.StartTime != nil || req.EndTime != nil) {
		return nil, badRequest("invalid_query", "give an offset range or a time range, not both")
	}
	want, missing := map[int32]bool{}, map[int32]bool{}
	for _, p := range req.Partitions {
		want[p], missing[p] = true, true
	}
	starts, ends := c.client.StartEndOffsets(ctx, md)
	at := func(ms *int64) []int64 {
		if ms == nil {
			return nil
		}
		return c.client.ListOffsets(ctx, md, []string{topic}, *ms).Offsets[topic]
	}
	fromTime, toTime := at(req.StartTime), at(req.EndTime)
	var parts []*searchPart
	for _, p := range md.Topics[0].Partitions {
		if len(want) > 0 && !want[p.Partition] {
			continue
		}
		delete(missing, p.Partition)
		lo, hi := starts.Get(topic, p.Partition), ends.Get(topic, p.Partition)
		if lo < 0 || hi < 0 {
			continue // leader unavailable: nothing can be read now
		}
		start, end := lo, hi
		if req.StartOffset != nil {
			start = min(max(*req.StartOffset, lo), hi)
		}
		if req.EndOffset != nil {
			end = max(min(*req.EndOffset, hi), start)
		}
		start = offsetAtTime(fromTime, p.Partition, start, hi)
		end = max(offsetAtTime(toTime, p.Partition, end, hi), start)
		parts = append(parts, &searchPart{SearchPartitionProgress: SearchPartitionProgress{Partition: p.Partition, Start: start, End: end,
			Position: start, Done: start >= end}, fetchPos: start})
	}
	for p := range missing {
		return nil, badRequest("invalid_partition", "topic %q has no partition %d", topic, p)
	}
	return parts, nil
}

// offsetAtTime is the offset ListOffsets found for partition p (def when no time was asked, hi when
// no record is that new).
func offsetAtTime(byTime []int64, p int32, def, hi int64) int64 {
	if byTime == nil {
		return def
	}
	if int(p) < len(byTime) && byTime[p] >= 0 {
		return min(byTime[p], hi)
	}
	return hi
}

// Run reads the ranges round-robin, a few fetches ahead (see scan), masks every record, applies
// the filter to the masked record and emits the matches in the order read, a progress event after
// every round of fetches and a done event at the end. It stops at the first limit reached, when ctx ends or when emit fails (the
// reader went away); it returns emit's error or nil.
func (q *Search) Run(ctx context.Context, emit func(SearchEvent) error) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, q.limits.MaxDuration)
	defer cancel()
	prog := SearchProgress{}
	reason, failure := q.scan(ctx, start, &prog, emit)
	if reason == "" {
		reason = SearchComplete
	}
	q.release(reason)
	q.s.log.Info("message search ended", "topic", q.topic, "reason", reason, "records", prog.Records, "bytes", prog.Bytes,
		"matches", prog.Matches, "elapsed", time.Since(start))
	if reason == SearchCancelled {
		return failure
	}
	q.snapshot(&prog, start)
	done := &SearchDone{Reason: reason, Progress: prog, Limits: SearchLimitsIn{MaxRecords: q.limits.MaxRecords,
		MaxBytes: q.limits.MaxBytes, MaxSeconds: int64(q.limits.MaxDuration / time.Second), MaxResults: q.limits.MaxResults}}
	if failure != nil {
		done.Error = failure.Error()
	}
	return emit(SearchEvent{Type: "done", Done: done})
}

// emitError is a failure to send an event: the reader went away.
type emitError struct{ err error }

func (e *emitError) Error() string { return "send search result: " + e.err.Error() }

// stopReason tells a deadline (max_time) from the reader leaving (cancelled) and a Kafka failure.
func (q *Search) stopReason(ctx context.Context, reason string, err error) (string, error) {
	if reason != "" {
		return reason, err
	}
	var gone *emitError
	switch {
	case errors.As(err, &gone):
		return SearchCancelled, gone.err
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return SearchMaxTime, nil
	case ctx.Err() != nil:
		return SearchCancelled, err
	}
	var ue *UserError
	switch {
	case errors.As(err, &ue):
		return SearchFailed, err
	default:
		return SearchFailed, kafkaError(opFetch, q.topic, err)
	}
}

// snapshot copies the partitions' progress into prog.
func (q *Search) snapshot(prog *SearchProgress, start time.Time) {
	prog.ElapsedMs = time.Since(start).Milliseconds()
	prog.Partitions = prog.Partitions[:0]
	for _, p := range q.parts {
		prog.Partitions = append(prog.Partitions, p.SearchPartitionProgress)
	}
}
