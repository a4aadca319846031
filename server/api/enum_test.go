package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// A closed set's refusal keeps the code its translated sentence is keyed by when the field names one.
func TestEnumRefusalCode(t *testing.T) {
	type actionIn struct {
		Action string `path:"action" json:"-" enum:"start,stop" invalid:"invalid_action"`
		Mode   string `query:"mode" json:"-" enum:"fast,slow"`
	}
	var r Registry
	r.Add(Op(http.MethodPost, "/do/:action", func(_ *gin.Context, in *actionIn) (NoContent, error) {
		return NoContent{}, nil
	}, Needs("operator", "thing.do")))
	e := serve(t, &r)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/do/start?mode=fast", 204, ""},
		{"/do/dance", 400, `{"error":{"code":"invalid_action","message":"action must be start or stop","params":{"allowed":"start, stop","param":"action"}}}`},
		{"/do/stop?mode=warp", 400, `"code":"bad_request","message":"mode must be fast or slow"`},
	} {
		w := do(e, "POST", tc.path, "", "X-Role", "operator")
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("POST %s: %d %s; want %d with %s", tc.path, w.Code, w.Body, tc.status, tc.want)
		}
	}
}
