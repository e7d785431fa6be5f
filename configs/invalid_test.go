package configs

import (
	"io/fs"
	"testing"

	"github.com/evald/evald/internal/goldentest"
)

// TestInvalid walks testdata/invalid: each file holds a config (the first
// section), the suites it names, and the expected error of ParseProject
// after "-- error --". Run with -update to rewrite the expected errors.
func TestInvalid(t *testing.T) {
	goldentest.Errors(t, "testdata/invalid/*.txt", "ParseProject", "config", func(fsys fs.FS, config string) error {
		_, err := ParseProject(fsys, config)
		return err
	})
}

// FuzzParseConfig: no config (with the suites it names) panics the loader.
// An input is an archive like testdata/invalid/*.txt.
func FuzzParseConfig(f *testing.F) {
	goldentest.Seed(f, "testdata/invalid/*.txt")
	f.Add(goldentest.Of("evald.yaml", designConfig, "suites/faq.yaml", suiteYAML("faq")).Format())
	demo := goldentest.Archive{}
	_ = fs.WalkDir(DemoFS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := fs.ReadFile(DemoFS(), path)
			demo.Files = append(demo.Files, goldentest.File{Name: path, Data: string(data)})
		}
		return nil
	})
	f.Add(demo.Format())
	f.Fuzz(func(t *testing.T, text string) {
		fsys, config := goldentest.Parse(text).FS()
		if config == "" {
			return
		}
		proj, err := ParseProject(fsys, config)
		if err != nil {
			if proj != nil {
				t.Fatalf("ParseProject returned a project and an error")
			}
			return
		}
		if len(proj.Suites) != len(proj.Config.Suites) {
			t.Fatalf("%d suites for %d suite refs", len(proj.Suites), len(proj.Config.Suites))
		}
		for _, tg := range proj.Config.Targets {
			if len(tg.Version()) != 64 {
				t.Fatalf("Version() = %q", tg.Version())
			}
		}
	})
}
