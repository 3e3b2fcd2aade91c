package scim

import (
	"database/sql"

	// The pgx driver for creating test databases; the directory registers its own use of it.
	_ "github.com/jackc/pgx/v5/stdlib"
)

func openSQL(driver, dsn string) (*sql.DB, error) {
	return sql.Open(driver, dsn)
}
