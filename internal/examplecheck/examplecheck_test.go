package examplecheck_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/internal/examplecheck"
)

func dir(elem ...string) string {
	return filepath.Join(append([]string{"testdata", "mod"}, elem...)...)
}

func TestPackagesListsPublicPackagesOfTheModuleOnly(t *testing.T) {
	dirs, err := examplecheck.Packages(dir())
	require.NoError(t, err)
	// Not internal/, testdata/, the nested module or docs/ (no Go files).
	assert.Equal(t, []string{dir(), dir("alias"), dir("bad"), dir("good")}, dirs)
}

func TestPackagesFailsOnAMissingRoot(t *testing.T) {
	_, err := examplecheck.Packages(dir("no-such-dir"))
	assert.Error(t, err)
}

func TestMissingAcceptsEveryWayAnExampleShowsAName(t *testing.T) {
	problems, err := examplecheck.Missing([]string{dir(), dir("good")}, map[string]string{
		"good.Skipped": "has no behaviour of its own",
	})
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func TestMissingNamesEachNameWithoutAnExample(t *testing.T) {
	problems, err := examplecheck.Missing([]string{dir("bad")}, nil)
	require.NoError(t, err)
	require.Len(t, problems, 4)
	for i, name := range []string{"bad.Lost", "bad.Gone", "bad.NewGone", "bad.Unused"} {
		assert.Contains(t, problems[i], name+" ("+dir("bad")+") has no runnable example")
	}
	// The message says what to add.
	assert.Contains(t, problems[0], "add ExampleLost")
	assert.Contains(t, problems[0], `or list "bad.Lost" in exampleExempt`)
}

func TestMissingFindsUsesThroughTheImportPath(t *testing.T) {
	problems, err := examplecheck.Missing([]string{dir("alias")}, nil)
	require.NoError(t, err)
	// Opt is used as al.Opt and Bare bare in the package's own test file;
	// alias.Other names another package imported as alias.
	require.Len(t, problems, 1)
	assert.Contains(t, problems[0], "alias.Other ")
}

func TestMissingExemptsListedNames(t *testing.T) {
	problems, err := examplecheck.Missing([]string{dir("bad")}, map[string]string{
		"bad.Lost":    "shown elsewhere",
		"bad.Gone":    "shown elsewhere",
		"bad.NewGone": "shown elsewhere",
		"bad.Unused":  "shown elsewhere",
	})
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func TestMissingReportsStaleAndUnreasonedExemptions(t *testing.T) {
	problems, err := examplecheck.Missing([]string{dir("good")}, map[string]string{
		"good.Skipped":  " ",
		"good.Vanished": "was removed",
		"Unqualified":   "no package",
	})
	require.NoError(t, err)
	assert.Equal(t, []string{
		`exemption "Unqualified" names no exported function or type of these packages: remove it`,
		`exemption "good.Skipped" gives no reason`,
		`exemption "good.Vanished" names no exported function or type of these packages: remove it`,
	}, problems)
}

func TestMissingFailsOnWhatIsNotAPackage(t *testing.T) {
	// A file that does not parse is written here, not kept in testdata,
	// where gofmt -l would trip over it.
	broken := filepath.Join(t.TempDir(), "broken")
	require.NoError(t, os.Mkdir(broken, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(broken, "go.mod"), []byte("module example.com/broken\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(broken, "broken.go"), []byte("package broken\n\nfunc (\n"), 0o644))
	for _, d := range []string{
		broken,
		filepath.Join("testdata", "empty"),          // test files only
		filepath.Join("testdata", "no-such-dir"),    // absent
		filepath.Join("testdata", "nomodline", "p"), // no module path
	} {
		_, err := examplecheck.Missing([]string{d}, nil)
		assert.Error(t, err, d)
	}
}
