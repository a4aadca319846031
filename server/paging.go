package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// pageParams reads limit/offset (or page/pageSize) with bounds; answers 400 on bad values.
func pageParams(c *gin.Context) (limit, offset int, ok bool) {
	limit, offset = 50, 0
	num := func(key string, min, max int, dst *int) bool {
		v := c.Query(key)
		if v == "" {
			return true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			writeError(c, http.StatusBadRequest, "bad_request", key+" must be a whole number from "+strconv.Itoa(min)+" to "+strconv.Itoa(max))
			return false
		}
		*dst = n
		return true
	}
	page, size := 0, 0
	if !num("limit", 1, 1000, &limit) || !num("offset", 0, 1<<30, &offset) || !num("page", 1, 1<<20, &page) || !num("pageSize", 1, 1000, &size) {
		return 0, 0, false
	}
	if size > 0 {
		limit = size
	}
	if page > 0 {
		offset = (page - 1) * limit
	}
	return limit, offset, true
}
