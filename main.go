// Command portal is the social-media policy acknowledgment portal: one binary
// that serves the web application and runs its operator commands (see
// `portal help`). Everything it does is wired in package server.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"portal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := server.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
