package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/osprey-kafka/osprey/store"
)

func newMigrateCmd(g *globalFlags) *cobra.Command {
	var status bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema, then exit",
		Long: `Applies the schema migrations embedded in this binary to the configured database
(database.driver / database.dsn). Running it again changes nothing. A database migrated by a newer
osprey is refused untouched.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(g, nil)
			if err != nil {
				return err
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.Log)
			st, err := store.Open(cmd.Context(), store.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN,
				DataDir: cfg.DataDir, MaxOpenConns: 2, Logger: log})
			if err != nil {
				return err
			}
			defer st.Close()
			if status {
				cur, latest, err := st.SchemaVersion(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "schema version %d (this osprey knows up to %d)\n", cur, latest)
				return nil
			}
			applied, err := st.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			cur, _, err := st.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "schema is up to date (version %d)\n", cur)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s); schema version %d\n", len(applied), cur)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&status, "status", false, "only print the schema version")
	return cmd
}
