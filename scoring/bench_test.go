package scoring

import (
	"strings"
	"testing"
)

// BenchmarkCheck measures one Check per type on a typical answer of about
// 400 bytes that ends in a JSON object. Each spec passes, the common case;
// the "/fail" rows add the cost of building a reason.
func BenchmarkCheck(b *testing.B) {
	out := Output{Text: prose, Latency: 800 * ms, CostUSD: 0.0004, CostKnown: true}
	summary := map[string]any{"type": "object", "required": []any{"window_days"},
		"properties": map[string]any{"window_days": map[string]any{"type": "integer", "minimum": 1.0}}}
	for _, tc := range []struct {
		name string
		spec Spec
	}{
		{"equals", Spec{Type: "equals", Value: prose}},
		{"equals/fail", Spec{Type: "equals", Value: "You have 30 days."}},
		{"contains", Spec{Type: "contains", Value: "needs_receipt"}},
		{"icontains", Spec{Type: "icontains", Value: "ORIGINAL PACKAGING"}},
		{"contains-any", Spec{Type: "contains-any", Value: "refund, exchange, 30 days"}},
		{"contains-any/fail", Spec{Type: "contains-any", Value: "refund, exchange, store credit"}},
		{"icontains-any", Spec{Type: "icontains-any", Value: "REFUND, EXCHANGE, 30 DAYS"}},
		{"contains-all", Spec{Type: "contains-all", Value: []any{"30 days", "receipt", "mail"}}},
		{"icontains-all", Spec{Type: "icontains-all", Value: []any{"30 DAYS", "RECEIPT", "MAIL"}}},
		{"starts-with", Spec{Type: "starts-with", Value: "You have"}},
		{"regex", Spec{Type: "regex", Value: `\b\d+ days\b`}},
		{"is-json", Spec{Type: "is-json", Value: summary}},
		{"is-json/fail", Spec{Type: "is-json"}},
		{"contains-json", Spec{Type: "contains-json"}},
		{"contains-json+schema", Spec{Type: "contains-json", Value: summary}},
		{"levenshtein", Spec{Type: "levenshtein", Value: strings.Replace(prose, "30", "31", 1)}},
		{"levenshtein/fail", Spec{Type: "levenshtein", Value: strings.ReplaceAll(prose, "30", "14")}},
		{"rouge-n", Spec{Type: "rouge-n", Value: "You have 30 days to return an item with the receipt."}},
		{"word-count", Spec{Type: "word-count", Value: map[string]any{"min": 20.0, "max": 200.0}}},
		{"latency", Spec{Type: "latency", Threshold: ptr(1000)}},
		{"cost", Spec{Type: "cost", Threshold: ptr(0.001)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			a := mustCompile(b, tc.spec)
			o := out
			if tc.name == "is-json" {
				o.Text = `{"window_days": 30, "needs_receipt": true, "channels": ["store", "mail"]}`
			}
			if got, want := a.Check(o).Pass, !strings.HasSuffix(tc.name, "/fail"); got != want {
				b.Fatalf("Check pass = %v, want %v", got, want)
			}
			b.ReportAllocs()
			for b.Loop() {
				a.Check(o)
			}
		})
	}
}
