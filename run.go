package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
)

// version is stamped by the Makefile (-ldflags "-X main.version=...").
var version = "dev"

// programVersion returns the stamped version, or for a binary built by
// "go install" without the Makefile, its module version.
func programVersion() string {
	info, ok := debug.ReadBuildInfo()
	if version == "dev" && ok && info.Main.Version != "" &&
		info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return version
}

const usageText = `cvimport bulk-adds escalations to Care360 cases from a CSV export.

Usage:
  cvimport import [flags] INPUT.csv   check every row, then send them by case
  cvimport titles [-type TYPE]        print the valid titles as CSV
  cvimport template                   print a header and example rows
  cvimport version                    print the version

Examples:
  cvimport import -dry-run export.csv
  CV_API_KEY=... cvimport import -tz America/New_York export.csv
  cvimport import -sandbox samples/escalations.csv
  cvimport import -resume export.results.csv export.failures.csv

Run "cvimport import -h" for every flag of the import.
`

// errUsage marks a command line that cannot be run; the usage text has
// already been printed.
var errUsage = errors.New("usage")

// run executes one cvimport command. getenv reads the environment (the API
// key comes from it); stdout carries a command's output, stderr everything
// meant for a person. The returned error decides the exit code (exitCode).
func run(ctx context.Context, args []string, getenv func(string) string,
	stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return errUsage
	}

	switch cmd, rest := args[0], args[1:]; cmd {
	case "import":
		return runImport(ctx, rest, getenv, stderr)
	case "titles":
		return runTitles(rest, stdout, stderr)
	case "template":
		return runTemplate(rest, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "cvimport %s\n", programVersion())
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usageText)
		return nil
	default:
		fmt.Fprint(stderr, usageText)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// newFlagSet returns a flag set that reports errors instead of exiting, with
// a usage message that starts with the command's synopsis.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning -h into a nil error after the usage text.
// It returns done=true when the command should stop there.
func parseFlags(fs *flag.FlagSet, args []string) (done bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return true, nil
	}
	if err != nil {
		return true, errUsage
	}
	return false, nil
}
