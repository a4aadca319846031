package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/osprey-kafka/osprey/server/service"
)

// MaxBody bounds request bodies; no API call needs more.
const MaxBody = 1 << 20

type paramField struct {
	index    []int
	name     string
	in       string // "path" or "query"
	enum     []string
	required bool
	// invalid is the error code of a value outside enum: bad_request unless the field's `invalid`
	// tag names one, for a closed set whose refusal has a translated sentence of its own.
	invalid string
}

// decoder fills an input struct from a request; built once per endpoint, so a declaration
// mistake (a parameter the path does not have, a field type the decoder cannot parse) stops the
// console at start, not at the first request.
type decoder struct {
	params []paramField
	body   bool // the struct has JSON body fields
}

func newDecoder(t reflect.Type, method, path string) *decoder {
	d := &decoder{}
	inPath := map[string]bool{}
	for _, p := range (Endpoint{Path: path}).pathParams() {
		inPath[p] = true
	}
	walkFields(t, nil, func(f reflect.StructField, index []int) {
		name, where := f.Tag.Get("path"), "path"
		if name == "" {
			name, where = f.Tag.Get("query"), "query"
		}
		if name == "" {
			if j := f.Tag.Get("json"); j != "-" && f.IsExported() {
				d.body = true
			}
			return
		}
		if f.Tag.Get("json") != "-" {
			panic(fmt.Sprintf("api: %s %s: parameter field %s needs `json:\"-\"` so a body cannot set it", method, path, f.Name))
		}
		if where == "path" && !inPath[name] {
			panic(fmt.Sprintf("api: %s %s: field %s names path parameter %q the path does not have", method, path, f.Name, name))
		}
		if !parsable(f.Type) {
			panic(fmt.Sprintf("api: %s %s: parameter %q has type %s the decoder cannot parse", method, path, name, f.Type))
		}
		pf := paramField{index: index, name: name, in: where, required: where == "path" || f.Tag.Get("required") == "true"}
		if e := f.Tag.Get("enum"); e != "" {
			pf.enum = strings.Split(e, ",")
			pf.invalid = f.Tag.Get("invalid")
		}
		d.params = append(d.params, pf)
	})
	if d.body && (method == http.MethodGet || method == http.MethodHead) {
		panic(fmt.Sprintf("api: %s %s: a %s cannot take a body", method, path, method))
	}
	return d
}

// walkFields visits exported fields, flattening embedded structs as encoding/json does.
func walkFields(t reflect.Type, prefix []int, fn func(reflect.StructField, []int)) {
	for i := range t.NumField() {
		f := t.Field(i)
		index := append(append([]int(nil), prefix...), i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			walkFields(f.Type, index, fn)
			continue
		}
		if !f.IsExported() {
			continue
		}
		fn(f, index)
	}
}

func parsable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func (d *decoder) decode(c *gin.Context, v reflect.Value) error {
	for _, p := range d.params {
		var raw string
		var present bool
		if p.in == "path" {
			raw, present = c.Param(p.name), true
		} else {
			raw, present = c.GetQuery(p.name)
		}
		if !present || raw == "" {
			if p.required && p.in == "query" {
				return BadRequest(fmt.Sprintf("the query parameter %s is required", p.name), "param", p.name)
			}
			continue
		}
		if len(p.enum) > 0 && !contains(p.enum, raw) {
			err := BadRequest(fmt.Sprintf("%s must be %s", p.name, orList(p.enum)), "param", p.name, "allowed", strings.Join(p.enum, ", "))
			if p.invalid != "" {
				err.(*service.UserError).Code = p.invalid
			}
			return err
		}
		if err := setParam(v.FieldByIndex(p.index), raw); err != nil {
			return BadRequest(fmt.Sprintf("%s must be %s", p.name, err.Error()), "param", p.name)
		}
	}
	if d.body {
		return DecodeJSON(c, v.Addr().Interface())
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// orList writes "a or b", "a, b or c".
func orList(xs []string) string {
	if len(xs) == 1 {
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// setParam parses raw into f; the error text completes "<name> must be …".
func setParam(f reflect.Value, raw string) error {
	if f.Kind() == reflect.Pointer {
		p := reflect.New(f.Type().Elem())
		if err := setParam(p.Elem(), raw); err != nil {
			return err
		}
		f.Set(p)
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("true or false")
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, f.Type().Bits())
		if err != nil {
			return errors.New("an integer")
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(raw, 10, f.Type().Bits())
		if err != nil {
			return errors.New("a non-negative integer")
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(raw, f.Type().Bits())
		if err != nil {
			return errors.New("a number")
		}
		f.SetFloat(n)
	}
	return nil
}

// DecodeJSON decodes the body strictly (unknown fields are refused, so a typo is not silently
// ignored) into v; the error says what is wrong in a sentence.
func DecodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			msg = "the request body is empty; send a JSON object"
		case errors.As(err, &syn):
			msg = fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn)
		case errors.As(err, &typ):
			msg = fmt.Sprintf("field %q must be %s, not %s", typ.Field, typ.Type, typ.Value)
		case errors.As(err, &tooBig):
			msg = fmt.Sprintf("the request body is larger than %d bytes", MaxBody)
		case strings.HasPrefix(msg, "json: unknown field"):
			msg = "unknown field " + strings.TrimPrefix(msg, "json: unknown field ")
		}
		return BadRequest(msg)
	}
	if dec.More() {
		return BadRequest("the body must hold exactly one JSON object")
	}
	return nil
}

// BadRequest is the 400 answer for a request the caller must correct; kv are the parameters of
// the translated sentence.
func BadRequest(msg string, kv ...string) error {
	e := &service.UserError{Status: http.StatusBadRequest, Code: "bad_request", Message: msg}
	for i := 0; i+1 < len(kv); i += 2 {
		if e.Params == nil {
			e.Params = map[string]any{}
		}
		e.Params[kv[i]] = kv[i+1]
	}
	return e
}
