// Command cvimport bulk-adds escalations to CareValidate Care360 cases from
// a spreadsheet export. It checks the whole file before sending anything,
// sends each case's rows in one request under a rate limit, and writes a
// results file that says what happened to every row.
//
// Run "cvimport -h" for the commands, and "cvimport import -h" for flags.
package main

import (
	"context"
	"os"
)

func main() {
	ctx, stop := notifyStop(context.Background(), os.Stderr)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}
