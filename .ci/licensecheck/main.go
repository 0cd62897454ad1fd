// Command licensecheck fails unless the repository's LICENSE is recognised
// by github.com/google/licensecheck, the detector pkg.go.dev uses, as a
// license that lets pkg.go.dev show the module's documentation.
package main

import (
	"fmt"
	"os"

	"github.com/google/licensecheck"
)

// redistributable lists the license types pkg.go.dev accepts that this
// project may carry; MIT is the one it does carry.
var redistributable = map[string]bool{"MIT": true}

func main() {
	path := "LICENSE"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	text, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "licensecheck:", err)
		os.Exit(1)
	}
	cov := licensecheck.Scan(text)
	if cov.Percent < 90 || len(cov.Match) != 1 || !redistributable[cov.Match[0].ID] {
		fmt.Fprintf(os.Stderr, "licensecheck: %s is not recognised as one redistributable license (coverage %.1f%%, matches %v)\n", path, cov.Percent, cov.Match)
		os.Exit(1)
	}
	fmt.Printf("licensecheck: %s is %s (%.1f%% of the text matched)\n", path, cov.Match[0].ID, cov.Percent)
}
