#!/usr/bin/env bash
# The daemon's idle cost: `evald serve` with 50 suites scheduled hourly on a
# simulated target. After the start-up runs finish, measures RSS and the CPU
# used over an idle window. Usage: bash bench/idle.sh [idle-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-30}
out=bench/out/idle
rm -rf "$out"; mkdir -p "$out/suites"
go build -o "$out/evald" ./cmd/evald
simport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
httpport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$out/evald" sim --addr "127.0.0.1:$simport" >"$out/sim.log" 2>&1 &
sim=$!
trap 'kill $sim $srv 2>/dev/null || true' EXIT
{
  echo "storage: {sqlite: idle.db}"
  echo "targets:"
  echo "  - {name: sim, base_url: \"http://127.0.0.1:$simport/v1\", model: sim-1, concurrency: 8}"
  echo "suites:"
  for i in $(seq -w 1 50); do
    echo "  - {file: suites/s$i.yaml, targets: [sim], schedule: \"@hourly\"}"
    cat >"$out/suites/s$i.yaml" <<YAML
name: s$i
prompt:
  - {role: system, content: "refund window days => You have 30 days."}
  - {role: user, content: "{{q}}"}
tests:
$(for c in $(seq 1 20); do echo "  - {vars: {q: \"What is the refund window, question $c?\"}, assert: [{type: contains, value: \"30 days\"}]}"; done)
YAML
  done
} >"$out/evald.yaml"
"$out/evald" serve --config "$out/evald.yaml" --addr "127.0.0.1:$httpport" >"$out/serve.log" 2>&1 &
srv=$!
# Wait until the 50 start-up runs are recorded.
for _ in $(seq 600); do
  n=$(curl -sf "http://127.0.0.1:$httpport/metrics" | awk '/^evald_runs_total/ {s+=$2} END {print s+0}')
  [ "${n:-0}" -ge 50 ] && break
  sleep 0.1
done
sleep 2
ticks() { awk '{print $14+$15}' "/proc/$srv/stat"; }
t0=$(ticks); sleep "$idle"; t1=$(ticks)
hz=$(getconf CLK_TCK)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$srv/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$srv/status")
echo "suites=50 runs_recorded=$n idle=${idle}s"
echo "rss=$((rss / 1024)) MB (peak $((hwm / 1024)) MB)  idle_cpu=$(python3 -c "print(round(($t1-$t0)/$hz*1000/$idle, 2))") ms per second"
