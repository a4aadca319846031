// Package msgfilter compiles and evaluates message-search filters written in CEL (the Common
// Expression Language): a side-effect-free, non-Turing-complete expression language, so a filter
// can read a record but can neither run code on the server nor loop forever. Every evaluation is
// bounded by a cost limit.
//
// A filter sees these variables:
//
//	key        string   the record's key as text ("" when it has none)
//	value      string   the record's value as text ("" for a tombstone)
//	json       map      the value's JSON object or array when it parses as JSON, else an empty map
//	headers    map      header name → value as text (the last one wins when a name repeats)
//	timestamp  timestamp the record's time
//	partition  int
//	offset     int
//
// A filter must evaluate to a bool; a record for which it fails at run time (a missing JSON field,
// say) does not match.
package msgfilter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/interpreter"
)

// MaxLength bounds a filter's source text.
const MaxLength = 4096

// costLimit bounds one evaluation: far above any sensible filter on one record, far below a
// filter that could hold a CPU for long (string operations cost by length).
const costLimit = 1_000_000

// Record is what a filter is evaluated on.
type Record struct {
	Key       []byte
	Value     []byte
	Headers   map[string]string
	Timestamp time.Time
	Partition int32
	Offset    int64
}

// Filter is a compiled filter; it is safe for concurrent use.
type Filter struct {
	prg cel.Program
}

// CompileError says why a filter does not compile and where: Line and Column start at 1.
type CompileError struct {
	Line    int
	Column  int
	Message string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("filter does not compile at line %d, column %d: %s", e.Line, e.Column, e.Message)
}

var env = mustEnv()

func mustEnv() *cel.Env {
	e, err := cel.NewEnv(
		cel.Variable("key", cel.StringType),
		cel.Variable("value", cel.StringType),
		cel.Variable("json", cel.DynType),
		cel.Variable("headers", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("timestamp", cel.TimestampType),
		cel.Variable("partition", cel.IntType),
		cel.Variable("offset", cel.IntType),
		cel.CrossTypeNumericComparisons(true),
	)
	if err != nil {
		panic(fmt.Sprintf("msgfilter: CEL environment: %v", err))
	}
	return e
}

// Compile checks src and prepares it. A filter that does not parse or type-check, or that is not a
// bool, is refused with a *CompileError naming the first problem's position.
func Compile(src string) (*Filter, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &CompileError{Line: 1, Column: 1, Message: "the filter is empty"}
	}
	if len(src) > MaxLength {
		return nil, &CompileError{Line: 1, Column: MaxLength + 1, Message: fmt.Sprintf("the filter is longer than %d characters", MaxLength)}
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		errs := iss.Errors()
		if len(errs) == 0 {
			return nil, &CompileError{Line: 1, Column: 1, Message: iss.Err().Error()}
		}
		first := errs[0]
		loc := first.Location
		return nil, &CompileError{Line: max(loc.Line(), 1), Column: max(loc.Column()+1, 1), Message: first.Message}
	}
	if !ast.OutputType().IsExactType(cel.BoolType) && !ast.OutputType().IsExactType(cel.DynType) {
		return nil, &CompileError{Line: 1, Column: 1, Message: fmt.Sprintf("the filter must be true or false, not %s", ast.OutputType())}
	}
	prg, err := env.Program(ast, cel.CostLimit(costLimit))
	if err != nil {
		return nil, &CompileError{Line: 1, Column: 1, Message: err.Error()}
	}
	return &Filter{prg: prg}, nil
}

// parseJSON is the json variable: the value's JSON document, or an empty map when it is not JSON.
func parseJSON(v []byte) any {
	if doc, ok := decodeJSON(v); ok && doc != nil {
		return doc
	}
	return map[string]any{}
}

// ErrNotBool is returned by Match when a dynamically typed filter gave something other than a bool.
var ErrNotBool = errors.New("the filter did not give true or false")

// Match evaluates the filter on r. An evaluation error (a missing field, a cost over the limit) is
// returned with false: the record does not match.
func (f *Filter) Match(r Record) (bool, error) {
	out, _, err := f.prg.Eval(&recordVars{r: &r})
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, ErrNotBool
	}
	return b, nil
}

// noHeaders is the headers variable of a record without headers; CEL only reads it.
var noHeaders = map[string]string{}

// recordVars binds a record's variables as the filter reads them: a filter on the key neither
// copies the value nor parses it as JSON, and no map of bindings is built per record.
type recordVars struct {
	r      *Record
	doc    any
	parsed bool
}

// ResolveName implements interpreter.Activation.
func (v *recordVars) ResolveName(name string) (any, bool) {
	switch name {
	case "key":
		return string(v.r.Key), true
	case "value":
		return string(v.r.Value), true
	case "json":
		if !v.parsed {
			v.doc, v.parsed = parseJSON(v.r.Value), true
		}
		return v.doc, true
	case "headers":
		if v.r.Headers == nil {
			return noHeaders, true
		}
		return v.r.Headers, true
	case "timestamp":
		return v.r.Timestamp, true
	case "partition":
		return int64(v.r.Partition), true
	case "offset":
		return v.r.Offset, true
	}
	return nil, false
}

// Parent implements interpreter.Activation: there is no enclosing scope.
func (v *recordVars) Parent() interpreter.Activation { return nil }
