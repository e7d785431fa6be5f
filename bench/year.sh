#!/usr/bin/env bash
# A year of history (8,760 hourly runs x 200 samples, built with the real
# store code by bench/year) and the figures of issue 22 on it: the database's
# size with and without storage.retain_samples: 90d, /readyz, the overview's
# first load, the 365-day suite page, `evald history`'s peak RSS, and
# /api/runs?limit=10000's RSS growth and cursor walk, on a real `evald serve`.
# The database is built once (about 2-3 minutes) and reused; delete
# bench/out/year to rebuild. Usage: bash bench/year.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/out/year}
mkdir -p "$out/suites"
go build -o "$out/evald" ./cmd/evald
go build -o "$out/year" ./bench/year
db=$out/year.db
if [ ! -f "$db" ]; then
  echo "building $db (8,760 runs x 200 samples)" >&2
  "$out/year" -db "$db" -runs "${RUNS:-8760}"
fi
size() { stat -c %s "$1"; }
mb() { python3 -c "print(round($1/1048576, 1))"; }

# Retention on a copy.
rm -f "$out/retained.db"*
cp "$db" "$out/retained.db"
"$out/year" -db "$out/retained.db" -retain 2160h
full=$(size "$db"); kept=$(size "$out/retained.db")
echo "database: $(mb "$full") MB for a year; with retain_samples 90d $(mb "$kept") MB ($(python3 -c "print(round(100*$kept/$full))") %)"

# evald serve over the year.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
simport=$(port); httpport=$(port)
cat >"$out/suites/faq.yaml" <<YAML
name: faq
prompt:
  - {role: user, content: "{{q}}"}
tests:
  - {vars: {q: "How long do I have to return an item?"}, assert: [{type: icontains, value: "30 days"}]}
YAML
cat >"$out/evald.yaml" <<YAML
storage: {sqlite: year.db}
targets:
  - {name: prod, base_url: "http://127.0.0.1:$simport/v1", model: sim-1}
suites:
  - {file: suites/faq.yaml, targets: [prod], schedule: "@hourly"}
YAML
"$out/evald" sim --addr "127.0.0.1:$simport" >"$out/sim.log" 2>&1 &
sim=$!
"$out/evald" serve --config "$out/evald.yaml" --addr "127.0.0.1:$httpport" >"$out/serve.log" 2>&1 &
srv=$!
trap 'kill $sim $srv 2>/dev/null || true' EXIT
base=http://127.0.0.1:$httpport
for _ in $(seq 200); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
t() { curl -s -o /dev/null -w '%{time_total}' "$base$1" | python3 -c 'import sys; print(round(float(sys.stdin.read())*1000, 1))'; }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
echo "overview first load: $(t /) ms"
r=(); for _ in 1 2 3 4 5 6 7 8 9; do r+=("$(t /readyz)"); done
echo "/readyz: median $(median "${r[@]}") ms of 9"
ticks() { awk '{print $14+$15}' "/proc/$srv/stat"; }
hz=$(getconf CLK_TCK)
c0=$(ticks)
r=(); for _ in 1 2 3 4 5 6 7 8 9 10; do r+=("$(t '/suites/faq/prod?range=365d')"); done
c1=$(ticks)
echo "365-day suite page: median $(median "${r[@]}") ms of 10 (first $(echo "${r[0]}") ms); server CPU $(python3 -c "print(round(($c1-$c0)/$hz*1000/10, 1))") ms per request (the wall times count the machine's other work too)"
hwm() { awk '/VmHWM/ {print $2}' "/proc/$srv/status"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$srv/status"; }
before=$(rss)
echo "/api/runs?limit=10000: $(t '/api/runs?limit=10000') ms; peak RSS $((before / 1024)) MB before, $(($(hwm) / 1024)) MB after (growth $((($(hwm) - before) / 1024)) MB)"
# The cursor walk: every run once.
next="/api/runs?limit=1000"; seen=0; pages=0
while [ -n "$next" ]; do
  hdr=$(curl -s -D - -o "$out/page.json" "$base$next" | tr -d '\r' | awk -F': ' 'tolower($1)=="link" {print $2}')
  n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$out/page.json")
  seen=$((seen + n)); pages=$((pages + 1))
  next=$(echo "$hdr" | sed -n 's/^<\(.*\)>; rel="next"$/\1/p')
done
total=$(curl -s "$base/metrics" >/dev/null; python3 -c "import sqlite3; print(sqlite3.connect('file:$db?mode=ro', uri=True).execute('select count(*) from runs').fetchone()[0])")
echo "cursor walk: $seen runs in $pages pages of 1000 (the database holds $total)"
kill $srv; wait $srv 2>/dev/null || true
/usr/bin/time -f '%M' -o "$out/history.rss" "$out/evald" history --db "$db" >/dev/null
/usr/bin/time -f '%M' -o "$out/history-json.rss" "$out/evald" history --db "$db" --json >/dev/null
echo "evald history: peak RSS $(($(cat "$out/history.rss") / 1024)) MB (table), $(($(cat "$out/history-json.rss") / 1024)) MB (--json)"
