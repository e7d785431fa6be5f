package runner

import "testing"

func TestErrorSummary(t *testing.T) {
	got := ErrorSummary(
		map[string]int{ClassServer: 2, ClassUnreachable: 4, ClassClient: 0},
		map[string]string{
			ClassServer:      "server_error (HTTP 503): ",
			ClassUnreachable: "unreachable: cannot connect to 127.0.0.1:9: connect: connection refused",
		})
	want := "unreachable 4: cannot connect to 127.0.0.1:9: connect: connection refused; server_error 2: HTTP 503"
	if got != want {
		t.Errorf("ErrorSummary = %q, want %q", got, want)
	}
	if got, want := ErrorDetail(ClassClient, "client_error (HTTP 401): Incorrect API key provided: sk-a***b."), "HTTP 401: Incorrect API key provided: sk-a***b."; got != want {
		t.Errorf("ErrorDetail = %q, want %q", got, want)
	}
}
