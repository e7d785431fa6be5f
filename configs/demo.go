package configs

import (
	"embed"
	"fmt"
	"io/fs"
	"net/url"
)

// demoFiles is the demo project of `evald demo`: configs/demo in the repo,
// readable there as an example to copy.
//
//go:embed demo
var demoFiles embed.FS

// DemoTarget is the target of the demo config whose base URL Demo sets.
const DemoTarget = "prod"

// DemoFS returns the demo project's files: evald.yaml, suites/, prompts/
// and datasets/ (for `evald demo` to show or export them).
func DemoFS() fs.FS {
	sub, err := fs.Sub(demoFiles, "demo")
	if err != nil {
		panic(err) // "demo" is a valid path inside the embedded FS
	}
	return sub
}

// Demo returns the embedded demo project with the prod target pointed at
// baseURL (the simulator's, such as "http://127.0.0.1:8090/v1"). Its
// Config.File is empty: it comes from no file on disk.
func Demo(baseURL string) (*Project, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("demo base URL %q: must be an http:// or https:// URL", baseURL)
	}
	proj, err := ParseProject(DemoFS(), "evald.yaml")
	if err != nil {
		return nil, err
	}
	found := false
	for i := range proj.Config.Targets {
		if proj.Config.Targets[i].Name == DemoTarget {
			proj.Config.Targets[i].BaseURL = baseURL
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("demo config has no %q target", DemoTarget)
	}
	proj.Config.File = ""
	return proj, nil
}
