package evals

import (
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzDatasets: no JSONL or CSV dataset panics the streaming loaders, every
// problem names the dataset or the suite, and what loads keeps the cases in
// file order (JSONL first, as the suite lists it).
func FuzzDatasets(f *testing.F) {
	f.Add([]byte(`{"id":"a","vars":{"q":"x"},"assert":[{"type":"contains","value":"x"}]}`+"\n"+`{"input":"hi","ideal":["a","b"]}`+"\r\n"),
		[]byte("q,__expected,__description\nhi,contains:x,first\n\"a, b\",,second\n"))
	f.Add([]byte("\xef\xbb\xbf{\"vars\":{\"q\":1}}\n\n{not json}\n[1]\n"), []byte("\xef\xbb\xbfq\n\"open quote\n"))
	f.Add([]byte(`{"vars":{"q":"x"},"vars":{"q":"y"}}`), []byte("q,q\n1,2\n"))
	f.Fuzz(func(t *testing.T, jsonl, csv []byte) {
		fsys := fstest.MapFS{
			"s.yaml":  {Data: []byte("name: s\nprompt:\n  - role: user\n    content: \"{{q}}\"\ntests:\n  - file://d.jsonl\n  - file://d.csv\n")},
			"d.jsonl": {Data: jsonl},
			"d.csv":   {Data: csv},
		}
		s, err := Parse(fsys, "s.yaml")
		if err != nil {
			if s != nil {
				t.Fatal("Parse returned a suite and an error")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "d.jsonl") && !strings.HasPrefix(line, "d.csv") && !strings.HasPrefix(line, "s.yaml") {
					t.Fatalf("problem %q names no file", line)
				}
			}
			return
		}
		seenCSV := false
		for _, c := range s.Cases {
			isCSV := strings.HasPrefix(c.Source, "d.csv:")
			if seenCSV && !isCSV {
				t.Fatalf("case %s from %s after a CSV case: file order lost", c.ID, c.Source)
			}
			seenCSV = seenCSV || isCSV
		}
	})
}
