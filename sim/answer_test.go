package sim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseFacts(t *testing.T) {
	tests := []struct {
		name string
		text string
		want [][2]string
	}{
		{"plain", "refund => 30 days", [][2]string{{"refund", "30 days"}}},
		{"spaces", "   refund window   =>   You have 30 days.  ", [][2]string{{"refund window", "You have 30 days."}}},
		{"dash bullet", "- refund => 30 days", [][2]string{{"refund", "30 days"}}},
		{"star bullet", "  * shipping cost => Shipping is free.", [][2]string{{"shipping cost", "Shipping is free."}}},
		{"no spaces", "a=>b", [][2]string{{"a", "b"}}},
		{"second arrow kept", "arrow => a => b", [][2]string{{"arrow", "a => b"}}},
		{"empty sides skipped", "=> x\ny =>\n =>", nil},
		{"prose ignored", "You are a support bot.\nBe polite.", nil},
		{"mixed lines", "You are a support bot. Facts:\n- refund => 30 days\r\n\n* shipping => free\nBe brief.\n",
			[][2]string{{"refund", "30 days"}, {"shipping", "free"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][2]string
			for _, f := range parseFacts(tt.text) {
				got = append(got, [2]string{f.left, f.right})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseFacts(%q) mismatch (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestKeywords(t *testing.T) {
	got := keywords("How long do I have to RETURN an item? (Über-fast, 30 days!)")
	want := []string{"long", "return", "item", "über", "fast", "days"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keywords mismatch (-want +got):\n%s", diff)
	}
}

func TestMatch(t *testing.T) {
	facts := parseFacts(`
- return window for an item => You have 30 days to return an item.
- shipping cost => Shipping is free over $50.
- return shipping label => Print the label from your account page.
- store opening hours => We are open 9 to 5.`)
	tests := []struct {
		name     string
		question string
		want     int
	}{
		{"best overlap", "How long is the return window?", 0},
		{"case-insensitive", "WHAT DOES SHIPPING COST?", 1},
		{"more shared words win", "Where do I get a return shipping label?", 2},
		{"tie goes to the first", "Tell me about the return", 0},
		{"stop words don't match", "What is the answer to this question?", -1},
		{"short words don't match", "Is it ok?", -1},
		{"no overlap", "Do you sell gift cards?", -1},
		{"empty question", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := match(facts, tt.question); got != tt.want {
				t.Errorf("match(%q) = %d, want %d", tt.question, got, tt.want)
			}
		})
	}
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		name                   string
		system, question       string
		wantCorrect, wantWrong []string // acceptable answers (phrasing varies by hash)
	}{
		{
			name:        "fact and another fact",
			system:      "refund => R\nshipping => S",
			question:    "refund?",
			wantCorrect: []string{"R", "Sure! R", "Happy to help. R"},
			wantWrong:   []string{"S", "Sure! S", "Happy to help. S"},
		},
		{
			name:        "only fact: wrong is a deflection",
			system:      "refund => R",
			question:    "refund?",
			wantCorrect: []string{"R", "Sure! R", "Happy to help. R"},
			wantWrong:   []string{deflected},
		},
		{
			name:        "same right side is not a wrong answer",
			system:      "refund => R\nrefunds please => R",
			question:    "refund?",
			wantCorrect: []string{"R", "Sure! R", "Happy to help. R"},
			wantWrong:   []string{deflected},
		},
		{
			name:        "no match: refusal, or a hallucinated fact",
			system:      "refund => R",
			question:    "gift cards?",
			wantCorrect: []string{refusal},
			wantWrong:   []string{"R", "Sure! R", "Happy to help. R"},
		},
		{
			name:        "no facts",
			system:      "Be nice.",
			question:    "gift cards?",
			wantCorrect: []string{refusal},
			wantWrong:   []string{deflected},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := readPrompt([]message{{Role: "system", text: tt.system}, {Role: "user", text: tt.question}})
			correct, wrong := p.answers()
			if !contains(tt.wantCorrect, correct) {
				t.Errorf("correct answer = %q, want one of %q", correct, tt.wantCorrect)
			}
			if !contains(tt.wantWrong, wrong) {
				t.Errorf("wrong answer = %q, want one of %q", wrong, tt.wantWrong)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestReadPrompt(t *testing.T) {
	p := readPrompt([]message{
		{Role: "system", text: "a => 1"},
		{Role: "user", text: "first question"},
		{Role: "assistant", text: "first answer"},
		{Role: "developer", text: "b => 2"},
		{Role: "user", text: "second question"},
	})
	if got, want := p.question, "second question"; got != want {
		t.Errorf("question = %q, want %q", got, want)
	}
	if got, want := p.system, "a => 1\nb => 2"; got != want {
		t.Errorf("system = %q, want %q", got, want)
	}
	if got, want := len(p.facts), 2; got != want {
		t.Errorf("len(facts) = %d, want %d", got, want)
	}
}

func TestTokensAndTruncate(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{{"", 0}, {"a", 1}, {"abcd", 1}, {"abcde", 2}, {"ééééé", 2}}
	for _, tt := range tests {
		if got := tokens(tt.s); got != tt.want {
			t.Errorf("tokens(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
	if got, want := truncateRunes("héllo wörld", 7), "héllo w"; got != want {
		t.Errorf("truncateRunes = %q, want %q", got, want)
	}
	if got, want := truncateRunes("abc", 7), "abc"; got != want {
		t.Errorf("truncateRunes = %q, want %q", got, want)
	}
}

func TestWithDefaults(t *testing.T) {
	got := Options{WrongRate: -1, DriftShare: 0, FailRate: 2, Noise: -0.5, Latency: -1}.withDefaults()
	want := Options{
		Model: "sim-1", DriftModel: "sim-1-2026-11-update", RetryAfter: time.Second,
		WrongRate: 0, DriftShare: 0.3, FailRate: 1, Noise: 0, JudgeDriftShare: 0.3, MoveShare: 0.5,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("withDefaults mismatch (-want +got):\n%s", diff)
	}
}
