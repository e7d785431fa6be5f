package testfiles

import "testing"

func TestJudgeTargetsYAML(t *testing.T) {
	got := JudgeTargets{ProdURL: "http://127.0.0.1:1/v1", GraderURL: "http://127.0.0.1:2/v1",
		Prod: "retries: 1\ntimeout: 5s", Grader: "retries: 0\n"}.YAML()
	want := `targets:
  - name: prod
    base_url: http://127.0.0.1:1/v1
    model: sim-1
    retries: 1
    timeout: 5s
    price: {input_per_mtok: 1, output_per_mtok: 2}
  - name: grader
    base_url: http://127.0.0.1:2/v1
    model: sim-judge
    retries: 0
    price: {input_per_mtok: 100, output_per_mtok: 200}
judge: grader
`
	if got != want {
		t.Errorf("YAML() =\n%s\nwant\n%s", got, want)
	}
}
