package store

import (
	"os"
	"testing"

	"portal/app/pgtest"
)

// TestMain stops the package's throwaway PostgreSQL, if a test started one.
func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
