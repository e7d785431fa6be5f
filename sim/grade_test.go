package sim

import (
	"encoding/json"
	"testing"
)

func TestGradeReply(t *testing.T) {
	type verdict struct {
		Pass  bool    `json:"pass"`
		Score float64 `json:"score"`
	}
	for _, tc := range []struct {
		name     string
		question string
		want     verdict
		ok       bool
	}{
		{"all keywords", "<Output>\nRefunds take 30 days.\n</Output>\n<Rubric>\nmentions refunds\n</Rubric>", verdict{true, 0.5}, true},
		{"none", "<Output>Hello</Output><Rubric>mentions refunds</Rubric>", verdict{false, 0}, true},
		{"not a grading request", "What is the refund window?", verdict{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reply, ok := gradeReply(tc.question)
			if ok != tc.ok {
				t.Fatalf("gradeReply(%q) ok = %v, want %v", tc.question, ok, tc.ok)
			}
			if !ok {
				return
			}
			var got verdict
			if err := json.Unmarshal([]byte(reply), &got); err != nil {
				t.Fatalf("gradeReply(%q) = %q, not JSON: %v", tc.question, reply, err)
			}
			if got != tc.want {
				t.Errorf("gradeReply(%q) = %+v, want %+v", tc.question, got, tc.want)
			}
			if again, _ := gradeReply(tc.question); again != reply {
				t.Errorf("gradeReply is not deterministic: %q then %q", reply, again)
			}
		})
	}
}
