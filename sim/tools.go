package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// The simulator plays an agent when its instructions say so: a fact whose
// right side reads "call NAME {JSON arguments}" is a tool to call for the
// questions that match it, provided the request declares a tool of that
// name. "$id" in the arguments stands for the first word of the user's
// messages (the latest first) that mixes letters and digits, such as an
// order id "A1". A pair answered wrong calls another such tool instead (the
// one a confused model would pick), so the silent update changes the tool
// choice of a share of the pairs. Once the last message is a tool's
// result, the answer reports it: "Here is what I found: RESULT".

const foundPrefix = "Here is what I found: "

// toolDecl is the part of a request's tools the simulator reads.
type toolDecl struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

// toolCall is an assistant's tool call, as sent.
type toolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// callFact is a "call NAME {args}" fact.
type callFact struct {
	index int
	name  string
	args  string
}

func callOf(f fact, i int) (callFact, bool) {
	rest, ok := strings.CutPrefix(f.right, "call ")
	if !ok {
		return callFact{}, false
	}
	name, args, _ := strings.Cut(strings.TrimSpace(rest), " ")
	if name == "" {
		return callFact{}, false
	}
	args = strings.TrimSpace(args)
	if args == "" {
		args = "{}"
	}
	return callFact{index: i, name: name, args: args}, true
}

// agentCall returns the tool call the simulated agent makes for p, if the
// matched fact is a call of a declared tool. wrong picks another call.
func (p prompt) agentCall(declared []string, users []string, wrong bool) (name, args string, ok bool) {
	i := match(p.facts, p.question)
	if i < 0 {
		return "", "", false
	}
	c, ok := callOf(p.facts[i], i)
	if !ok {
		return "", "", false
	}
	if wrong {
		var others []callFact
		for j, f := range p.facts {
			if o, isCall := callOf(f, j); isCall && o.name != c.name {
				others = append(others, o)
			}
		}
		if len(others) > 0 {
			c = others[p.hash("wrong-tool")%uint64(len(others))]
		}
	}
	if !slices.Contains(declared, c.name) {
		return "", "", false
	}
	id := "unknown"
	for k := len(users) - 1; k >= 0; k-- {
		if w := idWord(users[k]); w != "" {
			id = w
			break
		}
	}
	quoted, _ := json.Marshal(id)
	return c.name, strings.ReplaceAll(c.args, `"$id"`, string(quoted)), true
}

// idWord is the first word of s holding both a letter and a digit.
func idWord(s string) string {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		letter := strings.IndexFunc(w, unicode.IsLetter) >= 0
		digit := strings.IndexFunc(w, unicode.IsDigit) >= 0
		if letter && digit {
			return w
		}
	}
	return ""
}

// agentReply decides an agent's answer to req: a tool call, the report of
// a tool's result, or ok false for an ordinary answer.
func (s *Server) agentReply(req *chatRequest, p prompt, wrong bool) (calls []toolCall, text string, ok bool) {
	last := req.Messages[len(req.Messages)-1]
	if last.Role == "tool" {
		return nil, foundPrefix + last.text, true
	}
	if len(req.Tools) == 0 || last.Role != "user" {
		return nil, "", false
	}
	var declared, users []string
	for _, t := range req.Tools {
		declared = append(declared, t.Function.Name)
	}
	for _, m := range req.Messages {
		if m.Role == "user" {
			users = append(users, m.text)
		}
	}
	name, args, ok := p.agentCall(declared, users, wrong)
	if !ok {
		return nil, "", false
	}
	c := toolCall{ID: fmt.Sprintf("call_sim%08d", s.ids.Add(1)), Type: "function"}
	c.Function.Name, c.Function.Arguments = name, args
	return []toolCall{c}, "", true
}
