//go:build !spa

// Package web carries the console's single-page app into the binary. Built with the `spa` tag (as
// `make build` and `make run` do, after `npm run build`) it embeds web/dist; without it, a placeholder
// page, so `go build` and `go test` work on a machine that never ran npm.
package web

import (
	"embed"
	"io/fs"
)

//go:embed placeholder
var placeholder embed.FS

// Assets returns the files to serve at the site root; index.html is the SPA's entry.
func Assets() fs.FS {
	sub, err := fs.Sub(placeholder, "placeholder")
	if err != nil {
		panic(err) // the directory is embedded above; it cannot be missing
	}
	return sub
}

// Built reports whether the real SPA is embedded.
func Built() bool { return false }
