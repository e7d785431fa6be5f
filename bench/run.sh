#!/usr/bin/env bash
# The runner benchmark of the spine issue: `evald run` on a 5,000-case suite
# against `evald sim` with 50 ms latency and concurrency 64.
# Ideal wall time: 5000 x 0.05 s / 64 = 3.9 s. Prints wall time, peak RSS
# and CPU per sample. Usage: bash bench/run.sh [cases] [latency] [concurrency]
# With JUDGE=1 every case also has an llm-rubric assertion graded by a judge
# target on the same simulator (its own concurrency); the grade cache
# answers repeated outputs, so the ideal shown stays the model's alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-5000}
latency=${2:-50ms}
conc=${3:-64}
out=bench/out/runner
rm -rf "$out"; mkdir -p "$out/suites"
go build -o "$out/evald" ./cmd/evald

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18090)
"$out/evald" sim --addr "127.0.0.1:$port" --latency "$latency" --wrong-rate 0.1 >"$out/sim.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1 && break; sleep 0.1; done

{
  echo "name: bench"
  echo "prompt:"
  echo "  - role: system"
  echo "    content: |"
  for i in $(seq 0 49); do echo "      topic$i item$i => answer number $i"; done
  echo "  - role: user"
  echo "    content: \"Question about topic{{n}} item{{n}}, case {{i}}\""
  echo "tests: file://cases.jsonl"
  echo "thresholds: {pass_rate: 0.5}"
} >"$out/suites/bench.yaml"
# tests: as a list with one file reference
sed -i 's|^tests: file://cases.jsonl|tests:\n  - file://cases.jsonl|' "$out/suites/bench.yaml"
for i in $(seq 0 $((cases - 1))); do
  n=$((i % 50))
  graded=""
  if [ "${JUDGE:-0}" = 1 ]; then graded=$(printf ',{"type":"llm-rubric","value":"answer number %d"}' "$n"); fi
  printf '{"id":"c%d","vars":{"i":"%d","n":"%d"},"assert":[{"type":"icontains","value":"answer number %d"},{"type":"not-icontains","value":"as an ai"}%s]}\n' "$i" "$i" "$n" "$n" "$graded"
done >"$out/suites/cases.jsonl"
judge=""
if [ "${JUDGE:-0}" = 1 ]; then
  judge="  - name: grader
    base_url: http://127.0.0.1:$port/v1
    model: sim-judge
    concurrency: $conc
    timeout: 30s
    retries: 2
    price: {input_per_mtok: 2.5, output_per_mtok: 10}
judge: grader"
fi
cat >"$out/evald.yaml" <<YAML
storage:
  sqlite: bench.db
targets:
  - name: sim
    base_url: http://127.0.0.1:$port/v1
    model: sim-1
    concurrency: $conc
    timeout: 30s
    retries: 2
    price: {input_per_mtok: 0.15, output_per_mtok: 0.60}
$judge
suites:
  - file: suites/bench.yaml
    targets: [sim]
YAML

/usr/bin/time -v "$out/evald" run --config "$out/evald.yaml" --format json --out "$out/report.json" bench 2>"$out/time.txt" || true
wall=$(grep 'Elapsed (wall clock)' "$out/time.txt" | awk '{print $NF}')
rss=$(grep 'Maximum resident set size' "$out/time.txt" | awk '{print $NF}')
user=$(grep 'User time' "$out/time.txt" | awk '{print $NF}')
sys=$(grep 'System time' "$out/time.txt" | awk '{print $NF}')
samples=$(python3 -c "import json;print(json.load(open('$out/report.json'))['samples'])" 2>/dev/null || echo "$cases")
ideal=$(python3 -c "print(round($cases*${latency%ms}/1000/$conc,2))")
cpu_ms=$(python3 -c "print(round(($user+$sys)*1000/$samples,4))")
echo "cases=$cases latency=$latency concurrency=$conc"
echo "wall=$wall (ideal ${ideal}s)  peak_rss=$((rss / 1024)) MB  cpu=${cpu_ms} ms/sample (user ${user}s + sys ${sys}s, includes process start)"
head -c 600 "$out/report.json"; echo
