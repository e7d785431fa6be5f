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
		{"factuality same", factualityRequest("Refunds take 30 days.", "Days: refunds take them."),
			map[string]any{"category": "C", "reason": "The submission has the same details as the expert answer."}},
		{"factuality subset", factualityRequest("Refunds take 30 days, shipping is free.", "Refunds take days."),
			map[string]any{"category": "A", "reason": "The submission is a subset of the expert answer."}},
		{"factuality superset", factualityRequest("Refunds take days.", "Refunds take days; shipping is free."),
			map[string]any{"category": "B", "reason": "The submission is a superset of the expert answer."}},
		{"factuality differs harmlessly", factualityRequest("Refunds take days.", "Refunds take weeks."),
			map[string]any{"category": "E", "reason": "The answers differ in ways that do not matter for the facts."}},
		{"factuality disagrees", factualityRequest("Refunds take days.", "Shipping is free."),
			map[string]any{"category": "D", "reason": "The submission disagrees with the expert answer."}},
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

// factualityRequest lays out a factuality request as evald's prompt does.
func factualityRequest(expert, submission string) string {
	return "[BEGIN DATA]\n************\n[Question]: q\n************\n[Expert]: " + expert +
		"\n************\n[Submission]: " + submission + "\n************\n[END DATA]\nCompare..."
}

func TestClosedQALayout(t *testing.T) {
	ask := func(sub, crit string) string {
		return "[BEGIN DATA]\n***\n[Task]: q\n***\n[Submission]: " + sub + "\n***\n[Criterion]: " + crit + "\n***\n[END DATA]\nDoes the submission meet the criterion?"
	}
	for _, tc := range []struct{ sub, crit, want string }{
		{"Refunds take 30 days.", "mentions refund days", "The submission uses 1 of the criterion's 3 keywords.\nN\nN"},
		{"Refunds take 30 days.", "refunds take days", "The submission uses 3 of the criterion's 3 keywords.\nY\nY"},
	} {
		got, ok := gradeReply(ask(tc.sub, tc.crit))
		if !ok || got != tc.want {
			t.Errorf("gradeReply(closed QA %q / %q) = %q, %v; want %q", tc.sub, tc.crit, got, ok, tc.want)
		}
	}
}
