# The same commands CI runs (.ci/run).
.PHONY: test lint bench demo build

test:
	go vet ./... && go test -race -count=1 ./...

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	go vet ./...

build:
	go build -o evald ./cmd/evald

demo:
	go run ./cmd/evald demo

bench:
	bash bench/run.sh
