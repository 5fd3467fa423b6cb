package main

import (
	"fmt"
	"io"
	"os"

	"github.com/carevalidate/cvimport/validate"
)

const titlesSynopsis = `Usage: cvimport titles [-type support|clinical|external] [-titles FILE]

Prints the valid escalation titles as CSV (type,title). The output is the
format -titles FILE reads, so "cvimport titles > titles.csv" is a starting
point when the API's list changes.

`

func runTitles(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("titles", titlesSynopsis, stderr)
	typ := fs.String("type", "", "print only the titles of this `type`")
	file := fs.String("titles", "", "read the catalog from this CSV `file` "+
		"instead of the built-in one")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}

	catalog, err := loadCatalog(*file)
	if err != nil {
		return err
	}

	var canonical string
	if *typ != "" {
		var ok bool
		if canonical, ok = validate.ParseType(*typ); !ok {
			return fmt.Errorf("unknown type %q: want support, clinical or external", *typ)
		}
	}
	return catalog.WriteCSV(stdout, canonical)
}

// loadCatalog returns the built-in catalog, or the one in path when given.
func loadCatalog(path string) (*validate.Catalog, error) {
	if path == "" {
		return validate.Default(), nil
	}

	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading titles: %w", err)
	}
	defer f.Close()

	catalog, err := validate.ParseCatalog(f)
	if err != nil {
		return nil, fmt.Errorf("reading titles %s: %w", path, err)
	}
	return catalog, nil
}
