package api

import (
	"net/http"
	"reflect"

	"github.com/gin-gonic/gin"
)

// Streamed declares an operation whose input is decoded like Op's and whose answer is a stream
// (contentType) the handler writes itself, one Item after another. An error the handler returns
// before writing anything is answered like any other error (status, code, message), so a request
// the caller must correct is refused with a JSON body before the stream starts; once the handler
// has written, it reports failures inside the stream and returns nil.
func Streamed[In, Item any](method, path, contentType string, h func(c *gin.Context, in *In) error, opts ...Option) Endpoint {
	e := Op(method, path, func(c *gin.Context, in *In) (NoContent, error) { return NoContent{}, h(c, in) }, opts...)
	e.Stream, e.out = contentType, reflect.TypeFor[Item]()
	if e.Status == http.StatusNoContent {
		e.Status = 0
	}
	return e
}
