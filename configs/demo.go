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

// DemoTarget is the target of the demo config whose base URL Demo sets,
// DemoJudge its judge target, whose base URL Demo sets too, and
// DemoReplica a second deployment of the same model (DemoWith points it at
// its own simulator, which `evald demo` switches to greedy decoding).
const (
	DemoTarget  = "prod"
	DemoJudge   = "judge"
	DemoReplica = "replica"
)

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
// baseURL (the simulator's, such as "http://127.0.0.1:8090/v1") and the
// judge target at judgeURL (the same simulator, or another one so that the
// provider's scripted update leaves the judge alone). Its Config.File is
// empty: it comes from no file on disk.
func Demo(baseURL, judgeURL string) (*Project, error) {
	return DemoWith(baseURL, judgeURL, baseURL)
}

// DemoWith is Demo with the replica target at replicaURL.
func DemoWith(baseURL, judgeURL, replicaURL string) (*Project, error) {
	urls := map[string]string{DemoTarget: baseURL, DemoJudge: judgeURL, DemoReplica: replicaURL}
	for _, name := range []string{DemoTarget, DemoJudge, DemoReplica} {
		u, err := url.Parse(urls[name])
		if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("demo base URL of %s %q: must be an http:// or https:// URL", name, urls[name])
		}
	}
	proj, err := ParseProject(DemoFS(), "evald.yaml")
	if err != nil {
		return nil, err
	}
	for i := range proj.Config.Targets {
		t := &proj.Config.Targets[i]
		if u, ok := urls[t.Name]; ok {
			t.BaseURL = u
			delete(urls, t.Name)
		}
	}
	for _, name := range []string{DemoTarget, DemoJudge, DemoReplica} {
		if _, missing := urls[name]; missing {
			return nil, fmt.Errorf("demo config has no %q target", name)
		}
	}
	proj.Config.File = ""
	proj.RecordFile = "" // nothing on disk; the demo records its own
	return proj, nil
}
