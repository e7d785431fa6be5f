# The same commands CI runs (.ci/run).
.PHONY: test test-race lint bench demo build

# The README's test command; CI runs it with GOFLAGS=-race (test-race),
# which needs a C compiler.
test:
	go vet ./... && go test -count=1 ./...

test-race:
	GOFLAGS=-race $(MAKE) test

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	go vet ./...
	golangci-lint run ./... # v2.15.0, as .ci/run installs it

build:
	go build -o evald ./cmd/evald

demo:
	go run ./cmd/evald demo

bench:
	bash bench/run.sh
