package server

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// noRoute serves the SPA: a file if it exists, index.html for any other non-API path (client-side
// routes), and a JSON 404 under /api/.
func (s *Server) noRoute(c *gin.Context) {
	p := c.Request.URL.Path
	if strings.HasPrefix(p, "/api/") || p == "/api" {
		writeError(c, http.StatusNotFound, "not_found", "no API endpoint at "+p)
		return
	}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		writeError(c, http.StatusNotFound, "not_found", "nothing at "+p)
		return
	}
	if s.opts.Assets == nil {
		writeError(c, http.StatusNotFound, "not_found", "no web interface in this binary")
		return
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name != "" && name != "index.html" {
		if st, err := fs.Stat(s.opts.Assets, name); err == nil && !st.IsDir() {
			if strings.HasPrefix(name, "assets/") {
				// Vite puts a content hash in every asset name, so they never change.
				c.Header("Cache-Control", "public, max-age=31536000, immutable")
			}
			c.FileFromFS(name, http.FS(s.opts.Assets))
			return
		}
		if strings.HasPrefix(name, "assets/") {
			writeError(c, http.StatusNotFound, "not_found", "no asset "+name)
			return
		}
	}
	index, err := fs.ReadFile(s.opts.Assets, "index.html")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeError(c, http.StatusNotFound, "not_found", "no web interface in this binary")
			return
		}
		writeError(c, http.StatusInternalServerError, "internal", "cannot read the web interface")
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "text/html; charset=utf-8", index)
}
