// Command pkgsitecheck checks that pkg.go.dev shows the documentation of every package of the repository's library modules.
//
// It serves the modules from a module proxy of its own, runs pkgsite's
// frontend against it with the license policy on, as pkg.go.dev runs it,
// and fetches every package's page:
//
//	go -C .ci/pkgsitecheck run . -frontend BIN -static DIR -third_party DIR REPO
//
// BIN is golang.org/x/pkgsite/cmd/frontend, built at the version whose
// static and third_party directories are given; .ci/pkgsite builds it. A
// page fails if it says "Documentation not displayed due to license
// restrictions", or lacks its package's synopsis or documentation index.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"go/doc"
	"go/parser"
	"go/token"
	"html"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// version is the version the modules are served at.
const version = "v0.1.0"

const hidden = "Documentation not displayed due to license restrictions"

func main() {
	frontend := flag.String("frontend", "", "the pkgsite frontend binary")
	static := flag.String("static", "", "pkgsite's static directory")
	thirdParty := flag.String("third_party", "", "pkgsite's third_party directory")
	modules := flag.String("modules", ".,jetstream,otel", "the library modules, as directories of the repository")
	flag.Parse()
	if flag.NArg() != 1 || *frontend == "" || *static == "" || *thirdParty == "" {
		flag.Usage()
		os.Exit(2)
	}
	repo, err := filepath.Abs(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	log.SetFlags(0)
	log.SetPrefix("pkgsitecheck: ")

	proxyDir, err := os.MkdirTemp("", "weft-pkgsite-proxy")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(proxyDir)
	var pages []page
	for _, m := range strings.Split(*modules, ",") {
		p, err := addModule(proxyDir, filepath.Join(repo, m))
		if err != nil {
			log.Fatal(err)
		}
		pages = append(pages, p...)
	}

	proxyURL, stopProxy := serve(http.FileServer(http.Dir(proxyDir)))
	defer stopProxy()
	addr := freeAddr()
	cmd := exec.Command(*frontend,
		"-direct_proxy", "-proxy_url="+proxyURL, "-host="+addr,
		"-static="+*static, "-third_party="+*thirdParty)
	logs, err := os.CreateTemp("", "weft-pkgsite-frontend-*.log")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(logs.Name())
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	base := "http://" + addr
	if err := waitFor(base, 2*time.Minute); err != nil {
		dumpLogs(logs.Name())
		log.Fatal(err)
	}

	failed := 0
	for _, p := range pages {
		url := base + "/" + p.path + "@" + version
		if err := check(url, p.synopsis); err != nil {
			fmt.Printf("FAIL %s: %v\n", url, err)
			failed++
			continue
		}
		fmt.Printf("ok   %s: %s\n", url, p.synopsis)
	}
	if failed > 0 {
		dumpLogs(logs.Name())
		log.Fatalf("%d of %d package pages do not show their documentation", failed, len(pages))
	}
}

// page is a package page to check.
type page struct {
	path     string // the import path
	synopsis string // the first sentence of its package comment
}

// addModule writes the module in dir to the proxy directory, as a module
// proxy serves it, and returns its packages.
func addModule(proxyDir, dir string) ([]page, error) {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	mf, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		return nil, err
	}
	modPath := mf.Module.Mod.Path
	escaped, err := module.EscapePath(modPath)
	if err != nil {
		return nil, err
	}
	vdir := filepath.Join(proxyDir, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return nil, err
	}
	info, err := json.Marshal(map[string]any{"Version": version, "Time": time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		version + ".info": info,
		version + ".mod":  data,
		"list":            []byte(version + "\n"),
		"../@latest":      info,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(vdir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	zf, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		return nil, err
	}
	defer zf.Close()
	if err := zip.CreateFromDir(zf, module.Version{Path: modPath, Version: version}, dir); err != nil {
		return nil, fmt.Errorf("zip %s: %w", modPath, err)
	}
	return packages(dir, modPath)
}

// packages returns the public packages of the module in dir: every
// directory with Go files but internal, testdata, hidden ones and nested
// modules.
func packages(dir, modPath string) ([]page, error) {
	var pages []page
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if p != dir {
			name := d.Name()
			if name == "internal" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		synopsis, ok, err := synopsisOf(p)
		if err != nil || !ok {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		pages = append(pages, page{path: path.Join(modPath, filepath.ToSlash(rel)), synopsis: synopsis})
		return nil
	})
	return pages, err
}

// synopsisOf returns the synopsis of the package in dir, as pkgsite shows
// it, and whether dir holds a package.
func synopsisOf(dir string) (string, bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", false, err
	}
	found := false
	var text string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			return "", false, err
		}
		found = true
		if f.Doc != nil {
			text = f.Doc.Text()
		}
	}
	p := &doc.Package{}
	return p.Synopsis(text), found, nil
}

// check fetches url and says what is wrong with the page, if anything.
func check(url, synopsis string) error {
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	text := collapse(html.UnescapeString(string(body)))
	if strings.Contains(text, hidden) {
		return fmt.Errorf("the page says %q", hidden)
	}
	if synopsis == "" {
		return fmt.Errorf("the package has no synopsis")
	}
	if !strings.Contains(text, collapse(synopsis)) {
		return fmt.Errorf("the page does not hold the synopsis %q", synopsis)
	}
	if !strings.Contains(text, `id="pkg-index"`) {
		return fmt.Errorf("the page has no documentation index")
	}
	return nil
}

var space = regexp.MustCompile(`\s+`)

func collapse(s string) string { return space.ReplaceAllString(s, " ") }

// serve serves h on a free local port and returns its URL.
func serve(h http.Handler) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }
}

// freeAddr returns a local address nothing listens on.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor waits until the server at base answers.
func waitFor(base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the frontend did not answer within %v: %v", limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func dumpLogs(name string) {
	data, _ := os.ReadFile(name)
	if len(data) > 8000 {
		data = data[len(data)-8000:]
	}
	fmt.Fprintf(os.Stderr, "--- the frontend's log (end)\n%s\n", data)
}
