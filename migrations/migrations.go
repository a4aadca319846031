// Package migrations holds Osprey's versioned SQL schema for each database dialect, embedded in the
// binary. Files are goose migrations (NNNNN_name.sql); each dialect folder has the same versions.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed mysql/*.sql sqlite/*.sql
var files embed.FS

// FS returns the migrations of one dialect: "mysql" or "sqlite".
func FS(dialect string) (fs.FS, error) {
	switch dialect {
	case "mysql", "sqlite":
		return fs.Sub(files, dialect)
	default:
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
}
