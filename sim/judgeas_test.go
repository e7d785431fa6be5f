package sim

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestOtherJudgeLayouts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		question string
		want     any // decoded JSON
	}{
		{"g-eval steps", "Write steps.\n<Criteria>\nmentions refunds and shipping\n</Criteria>",
			map[string]any{"steps": []any{`Check that the text covers "mentions".`, `Check that the text covers "refunds".`, `Check that the text covers "shipping".`}}},
		{"g-eval steps without keywords", "<Criteria>is it ok</Criteria>",
			map[string]any{"steps": []any{"Check that the text meets the criteria."}}},
		{"g-eval rating", "<Criteria>\nmentions refunds and shipping\n</Criteria>\n<Steps>\n- a\n</Steps>\n<Prompt>\nq\n</Prompt>\n<Reply>\nRefunds take 30 days; shipping is free.\n</Reply>",
			map[string]any{"score": 7.0, "reason": "The reply does not mention: mentions."}},
		{"g-eval full marks", "<Criteria>refunds</Criteria><Reply>refunds</Reply>",
			map[string]any{"score": 10.0, "reason": "The reply covers every point of the criteria."}},
		{"answer-relevance", "<Answer>\nRefunds take 30 days, refunds are free.\n</Answer>",
			map[string]any{"questions": []any{"What about refunds take days free?", "What about take days free?", "What about refunds take days?"}}},
		{"answer-relevance short", "<Answer>Yes.</Answer>",
			map[string]any{"questions": []any{"What about yes?"}}},
		{"answer-relevance empty", "<Answer>It is.</Answer>",
			map[string]any{"questions": []any{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reply, ok := gradeReply(tc.question)
			if !ok {
				t.Fatalf("gradeReply(%q) is not a judge reply", tc.question)
			}
			var got any
			if err := json.Unmarshal([]byte(reply), &got); err != nil {
				t.Fatalf("reply %q is not JSON: %v", reply, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("gradeReply = %s, want %v", reply, tc.want)
			}
			if again, _ := gradeReply(tc.question); again != reply {
				t.Errorf("not deterministic: %q then %q", reply, again)
			}
		})
	}
	if _, ok := gradeReply("What are your opening hours?"); ok {
		t.Errorf("a plain question was taken for a judge request")
	}
}
