// Command dashboard is the render benchmark of the dashboard (issue 9): it
// generates a database holding a year of history (by default 50 suites x
// 24 runs a day x 365 days, 200 cases each; samples only for the few runs
// whose pages are measured, since no other page reads samples), serves it
// with the real server over loopback, and times each page.
//
// It owns the generator and the timing; the pages and their queries are
// the server's and the store's.
//
//	go run ./bench/dashboard                         # generate bench/out/dashboard/year.db if missing, then measure
//	go run ./bench/dashboard -db /tmp/x.db -days 30  # another plan
//	go test ./bench/dashboard                        # a small plan: every page answers (CI)
package main
