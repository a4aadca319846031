package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/osprey-kafka/osprey/server"
)

// newOpenAPICmd prints the console's OpenAPI document. server.New does no I/O and the document
// depends on the endpoint declarations only, so nothing is read, opened or started: `make gen-api`
// writes web/src/api/openapi.json with it and generates the web's types from that file.
func newOpenAPICmd() *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the console's OpenAPI 3 document (what GET /api/openapi.json serves), indented",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			srv := server.New(server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			doc, err := srv.OpenAPI()
			if err != nil {
				return err
			}
			var out bytes.Buffer
			if err := json.Indent(&out, doc, "", "  "); err != nil {
				return fmt.Errorf("openapi: indenting the document: %w", err)
			}
			out.WriteByte('\n')
			_, err = cmd.OutOrStdout().Write(out.Bytes())
			return err
		},
	}
}
