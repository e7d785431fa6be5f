#!/usr/bin/env bash
# Hostile endpoints and files (issue 16): peak RSS and exit code of
# `evald run` against each hostile answer of `evald sim --hostile`, of
# hostile prompt files at load, and of `evald validate` on a 200,000-case
# JSONL dataset. Needs GNU time (/usr/bin/time -v).
# Usage: bash bench/hostile.sh [cases-in-big-dataset]
set -euo pipefail
cd "$(dirname "$0")/.."
big=${1:-200000}
out=bench/out/hostile
rm -rf "$out"; mkdir -p "$out"
go build -o "$out/evald" ./cmd/evald
evald=$PWD/$out/evald

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
startsim() { # port, flags...
  local port=$1; shift
  "$evald" sim --addr "127.0.0.1:$port" "$@" >"$out/sim-$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "sim on $port did not start" >&2; exit 1
}
# measure NAME DIR ARGS...: runs evald in DIR, prints name, peak RSS, exit code, wall time, last stderr line.
measure() {
  local name=$1 dir=$2; shift 2
  local code=0
  (cd "$dir" && /usr/bin/time -v "$evald" "$@" >"$PWD/stdout.txt" 2>"$PWD/stderr.txt") || code=$?
  local rss wall why
  rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$dir/stderr.txt")
  wall=$(awk -F': ' '/Elapsed \(wall/ {print $2}' "$dir/stderr.txt")
  why=$(grep '^evald' "$dir/stderr.txt" | head -1 | cut -c1-160 || true)
  printf '| %s | %s MB | %s | %s | %s |\n' "$name" "$rss" "$code" "$wall" "$why"
}
project() { # dir base_url cases
  mkdir -p "$1"
  cat >"$1/evald.yaml" <<YAML
storage:
  sqlite: evald.db
targets:
  - name: t
    base_url: $2
    model: sim-1
    api_key_env: HOSTILE_KEY
    concurrency: 5
    timeout: 30s
suites:
  - file: suite.yaml
    targets: [t]
YAML
  { echo "name: hostile"
    echo "prompt:"
    echo "  - role: user"
    echo "    content: \"Question {{i}}\""
    echo "tests:"
    for i in $(seq 1 "$3"); do echo "  - {id: c$i, vars: {i: \"$i\"}, assert: [{type: contains, value: \"yes\"}]}"; done
  } >"$1/suite.yaml"
  (cd "$1" && HOSTILE_KEY=sk-bench-hostile-000 "$evald" signoff --by bench --reason "hostile benchmark" hostile >/dev/null 2>&1 || true)
}
export HOSTILE_KEY=sk-bench-hostile-000

echo "| input | peak RSS | exit | wall | stderr |"
echo "| --- | --- | --- | --- | --- |"
p=$(freeport); other=$(freeport)
startsim "$other"
for mode in huge-body endless negative-tokens huge-tokens float-tokens null-content unauthorized retry-after redirect; do
  port=$(freeport)
  startsim "$port" --hostile "$mode" --redirect-to "http://127.0.0.1:$other"
  project "$out/$mode" "http://127.0.0.1:$port/v1" 5
  measure "$mode (5 cases)" "$out/$mode" run hostile
done
project "$out/refused" "http://127.0.0.1:$(freeport)/v1" 5
measure "refused connection (5 cases)" "$out/refused" run hostile

# Hostile prompt files, refused at load.
mkfifo "$out/pipe.txt"
for f in /dev/zero /dev/urandom "$PWD/$out/pipe.txt" /proc/self/environ; do
  d="$out/file-$(basename "$f")"
  project "$d" "http://127.0.0.1:$other/v1" 1
  sed -i "s|content: \"Question {{i}}\"|content: file://$f|" "$d/suite.yaml"
  measure "prompt file $f" "$d" run hostile
done

# A 200,000-case JSONL dataset.
d="$out/big"
project "$d" "http://127.0.0.1:$other/v1" 1
python3 - "$d/cases.jsonl" "$big" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"id": "c%d" % i, "vars": {"i": "question number %d about a topic" % i},
                            "assert": [{"type": "contains", "value": "answer %d" % i}]}) + "\n")
PY
sed -i 's|^tests:$|tests:\n  - file://cases.jsonl|' "$d/suite.yaml"
sed -i '/^  - {id: c1,/d' "$d/suite.yaml"
measure "validate, $big-case JSONL ($(du -m "$d/cases.jsonl" | cut -f1) MB)" "$d" validate
