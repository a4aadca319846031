package msgfilter

import (
	"encoding/json"
	"reflect"
	"testing"
)

var jsonSamples = []string{
	`{"user":"u-00042","n":17,"pad":"xxxx"}`, ` [1, -2.5e3, 0, true, false, null, "a\"b\\u00e9\ud83d\ude00", {}] `,
	`{"a":{"b":[{"c":"d"}]},"a":2}`, `"caf\u00e9 crème"`, "\"bad \xff utf8\"", `-0`, `1e400`, `01`, `1.`, `.5`, `-`, `+1`,
	`{"a":1,}`, `[1,]`, `{"a" 1}`, `{a:1}`, "\"tab\there\"", `"\x"`, `"unterminated`, `tru`, `nulls`, `[] []`, ``, `   `,
	`{"k":"\u0000"}`, `[[[[[]]]]]`, `123456789012345678901234567890`, `1E+2`, `-1.5e-7`, `{"":""}`,
}

// decodeJSON gives what encoding/json gives an `any`, and fails where it fails.
func TestDecodeJSONAsEncodingJSON(t *testing.T) {
	for _, s := range jsonSamples {
		checkDecodeJSON(t, []byte(s))
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range jsonSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(checkDecodeJSON)
}

func checkDecodeJSON(t *testing.T, b []byte) {
	got, ok := decodeJSON(b)
	var want any
	err := json.Unmarshal(b, &want)
	if ok != (err == nil) {
		t.Fatalf("%q: decodeJSON ok %v, encoding/json error %v", b, ok, err)
	}
	if ok && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decodeJSON %#v, encoding/json %#v", b, got, want)
	}
}
