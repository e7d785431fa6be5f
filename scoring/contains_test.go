package scoring

import "testing"

func TestContains(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "found", spec: Spec{Type: "contains", Value: "30 days"}, out: text("You have 30 days."), pass: true},
		{name: "missing", spec: Spec{Type: "contains", Value: "30 days"}, out: text("You have a month."),
			reason: `expected output to contain "30 days" (got "You have a month.")`},
		{name: "case matters", spec: Spec{Type: "contains", Value: "paris"}, out: text("Paris")},
		{name: "white space matters", spec: Spec{Type: "contains", Value: "30 days"}, out: text("30\tdays")},
		{name: "empty output", spec: Spec{Type: "contains", Value: "x"}, out: text("")},
		{name: "number value", spec: Spec{Type: "contains", Value: 42.0}, out: text("The answer is 42."), pass: true},
		{name: "number value zero", spec: Spec{Type: "contains", Value: 0}, out: text("10"), pass: true},
		{name: "not-contains absent", spec: Spec{Type: "not-contains", Value: "as an ai"}, out: text("Sure!"), pass: true},
		{name: "not-contains empty output", spec: Spec{Type: "not-contains", Value: "x"}, out: text(""), pass: true},
		{name: "not-contains present", spec: Spec{Type: "not-contains", Value: "sorry"}, out: text("I'm sorry"),
			reason: `expected output not to contain "sorry" (got "I'm sorry")`},
	})
}

func TestIContains(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "ascii", spec: Spec{Type: "icontains", Value: "PARIS"}, out: text("paris is nice"), pass: true},
		{name: "full case folding", spec: Spec{Type: "icontains", Value: "STRASSE"}, out: text("Die Straße"), pass: true},
		{name: "final sigma", spec: Spec{Type: "icontains", Value: "ΟΔΟΣ"}, out: text("η οδος"), pass: true},
		{name: "final sigma form", spec: Spec{Type: "icontains", Value: "Σ"}, out: text("ς"), pass: true},
		{name: "kelvin sign", spec: Spec{Type: "icontains", Value: "k"}, out: text("\u212a"), pass: true},
		{name: "accents still matter", spec: Spec{Type: "icontains", Value: "cafe"}, out: text("CAFÉ")},
		{name: "missing", spec: Spec{Type: "icontains", Value: "Rome"}, out: text("PARIS"),
			reason: `expected output to contain (ignoring case) "Rome" (got "PARIS")`},
		{name: "not-icontains present", spec: Spec{Type: "not-icontains", Value: "as an ai"}, out: text("As an AI, I cannot"),
			reason: `expected output not to contain (ignoring case) "as an ai" (got "As an AI, I cannot")`},
		{name: "not-icontains absent", spec: Spec{Type: "not-icontains", Value: "as an ai"}, out: text("Sure."), pass: true},
	})
}

func TestContainsAny(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "one of a list", spec: Spec{Type: "contains-any", Value: []any{"cat", "dog"}}, out: text("hot dog"), pass: true},
		{name: "none of a list", spec: Spec{Type: "contains-any", Value: []any{"cat", "dog"}}, out: text("bird"),
			reason: `expected output to contain one of "cat", "dog" (got "bird")`},
		{name: "comma-separated string", spec: Spec{Type: "contains-any", Value: "cat, dog"}, out: text("a dog"), pass: true},
		{name: "comma-separated string trims items", spec: Spec{Type: "contains-any", Value: " cat ,, dog "}, out: text("adog"), pass: true},
		{name: "quoted item keeps its comma", spec: Spec{Type: "contains-any", Value: `"1,000", in stock`}, out: text("We have 1,000 units"), pass: true},
		{name: "quoted item not split", spec: Spec{Type: "contains-any", Value: `"1,000", in stock`}, out: text("We have 000 units, 1 box")},
		{name: "numbers in a list", spec: Spec{Type: "contains-any", Value: []any{1.0, 2.0}}, out: text("item 2"), pass: true},
		{name: "case matters", spec: Spec{Type: "contains-any", Value: []any{"CAT"}}, out: text("cat")},
		{name: "empty output", spec: Spec{Type: "contains-any", Value: []any{"a"}}, out: text("")},
		{name: "icontains-any", spec: Spec{Type: "icontains-any", Value: "CAT, Dog"}, out: text("A DOG"), pass: true},
		{name: "icontains-any none", spec: Spec{Type: "icontains-any", Value: "cat, dog"}, out: text("bird"),
			reason: `expected output to contain one of "cat", "dog" (ignoring case) (got "bird")`},
		{name: "not-contains-any clean", spec: Spec{Type: "not-contains-any", Value: []any{"cat", "dog"}}, out: text("bird"), pass: true},
		{name: "not-contains-any found", spec: Spec{Type: "not-contains-any", Value: []any{"cat", "dog"}}, out: text("my dog"),
			reason: `expected output not to contain any of "cat", "dog" (found "dog") (got "my dog")`},
		{name: "not-icontains-any found", spec: Spec{Type: "not-icontains-any", Value: []any{"cat", "DOG"}}, out: text("my Dog"),
			reason: `expected output not to contain any of "cat", "DOG" (ignoring case) (found "DOG") (got "my Dog")`},
	})
}

func TestContainsAll(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "all", spec: Spec{Type: "contains-all", Value: []any{"a", "b"}}, out: text("ba"), pass: true},
		{name: "one missing", spec: Spec{Type: "contains-all", Value: []any{"a", "b", "c"}}, out: text("a"),
			reason: `expected output to contain all of "a", "b", "c" (missing "b", "c") (got "a")`},
		{name: "comma-separated", spec: Spec{Type: "contains-all", Value: "30 days, receipt"}, out: text("30 days with a receipt"), pass: true},
		{name: "case matters", spec: Spec{Type: "contains-all", Value: "Days"}, out: text("days")},
		{name: "icontains-all", spec: Spec{Type: "icontains-all", Value: "FOO,bar"}, out: text("foo BAR"), pass: true},
		{name: "icontains-all missing", spec: Spec{Type: "icontains-all", Value: "FOO,baz"}, out: text("foo BAR"),
			reason: `expected output to contain all of "FOO", "baz" (ignoring case) (missing "baz") (got "foo BAR")`},
		{name: "not-contains-all with all", spec: Spec{Type: "not-contains-all", Value: []any{"a", "b"}}, out: text("ab"),
			reason: `expected output not to contain all of "a", "b" (got "ab")`},
		{name: "not-contains-all with some", spec: Spec{Type: "not-contains-all", Value: []any{"a", "b"}}, out: text("a"), pass: true},
		{name: "long lists are cut in reasons", spec: Spec{Type: "contains-all", Value: "a,b,c,d,e,f,g"}, out: text(""),
			reason: `expected output to contain all of "a", "b", "c", "d", "e", … (missing "a", "b", "c", "d", "e", …) (got empty output)`},
	})
}

func TestStartsWith(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "prefix", spec: Spec{Type: "starts-with", Value: "Yes"}, out: text("Yes, you can."), pass: true},
		{name: "leading space counts", spec: Spec{Type: "starts-with", Value: "Yes"}, out: text(" Yes"),
			reason: `expected output to start with "Yes" (got " Yes")`},
		{name: "case matters", spec: Spec{Type: "starts-with", Value: "Yes"}, out: text("yes")},
		{name: "empty output", spec: Spec{Type: "starts-with", Value: "Yes"}, out: text(""),
			reason: `expected output to start with "Yes" (got empty output)`},
		{name: "not-starts-with", spec: Spec{Type: "not-starts-with", Value: "Sorry"}, out: text("Sure"), pass: true},
		{name: "not-starts-with fails", spec: Spec{Type: "not-starts-with", Value: "Sorry"}, out: text("Sorry, no"),
			reason: `expected output not to start with "Sorry" (got "Sorry, no")`},
	})
}

func TestRegex(t *testing.T) {
	runChecks(t, []checkCase{
		{name: "match anywhere", spec: Spec{Type: "regex", Value: `\d{4}`}, out: text("in 2024 we"), pass: true},
		{name: "no match", spec: Spec{Type: "regex", Value: `\d{4}`}, out: text("in 24"),
			reason: `expected output to match regex "\\d{4}" (got "in 24")`},
		{name: "anchors span the whole text", spec: Spec{Type: "regex", Value: `^Yes$`}, out: text("Yes\n")},
		{name: "multi-line flag", spec: Spec{Type: "regex", Value: `(?m)^Yes$`}, out: text("No\nYes\n"), pass: true},
		{name: "dot stops at newline", spec: Spec{Type: "regex", Value: `a.b`}, out: text("a\nb")},
		{name: "empty output matches empty pattern", spec: Spec{Type: "regex", Value: `^$`}, out: text(""), pass: true},
		{name: "not-regex", spec: Spec{Type: "not-regex", Value: `(?i)as an ai`}, out: text("Sure"), pass: true},
		{name: "not-regex fails", spec: Spec{Type: "not-regex", Value: `(?i)as an ai`}, out: text("As an AI"),
			reason: `expected output not to match regex "(?i)as an ai" (got "As an AI")`},
	})
}
