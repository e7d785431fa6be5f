#!/usr/bin/env bash
# Browser test of the dashboard (issue 9). It builds evald, starts
# `evald demo --for 90s` on a free port, waits until the simulated
# provider's silent model update has paged, opens every page in headless
# Chromium (Debian's `chromium`, installed with apt-get when missing) at
# desktop and phone width and in dark mode, saves the screenshots, and fails
# when a page logs anything to the console (script errors, CSP refusals), a
# page does not render, or the script did not run.
#
# Usage: bash scripts/browser-test.sh [OUT_DIR]      (default bench/out/browser)
# Takes about 75 s, most of it waiting for the demo's regression. EVALD=PATH
# uses an evald binary built elsewhere instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/out/browser}
rm -rf "$out"
mkdir -p "$out/shots" "$out/logs"
started=$(date +%s)

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "browser-test: installing chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    chromium=$(command -v chromium)
  else
    echo "browser-test: chromium is missing; install it with: apt-get install chromium" >&2
    exit 1
  fi
fi
echo "browser-test: $("$chromium" --version 2>/dev/null)"

if [ -n "${EVALD:-}" ]; then
  cp "$EVALD" "$out/evald"   # a binary built elsewhere
else
  go build -o "$out/evald" ./cmd/evald
fi
"$out/evald" demo --for 90s --addr 127.0.0.1:0 --db "$out/demo.db" >"$out/demo.log" 2>&1 &
demo=$!
trap 'kill "$demo" 2>/dev/null || true; wait "$demo" 2>/dev/null || true' EXIT

# The demo prints its address once it listens (port 0: a free one).
url=""
for _ in $(seq 150); do
  url=$(sed -n 's|^dashboard and API: \(http://[0-9.:]*\)/.*|\1|p' "$out/demo.log")
  [ -n "$url" ] && break
  if ! kill -0 "$demo" 2>/dev/null; then cat "$out/demo.log"; exit 1; fi
  sleep 0.2
done
[ -n "$url" ] || { echo "browser-test: the demo never listened" >&2; cat "$out/demo.log"; exit 1; }
echo "browser-test: demo at $url"

# Wait for the page, then for a few more runs so the charts show the alert held.
paged() { grep -c '^ *>> \(regression\|provider changed\)' "$out/demo.log" || true; }
for _ in $(seq 240); do [ "$(paged)" -ge 1 ] && break; sleep 0.5; done
[ "$(paged)" -ge 1 ] || { echo "browser-test: no regression paged within 120 s" >&2; cat "$out/demo.log"; exit 1; }
line=$(grep -B1 -m1 '^ *>> \(regression\|provider changed\)' "$out/demo.log" | head -1)
run_id=$(awk '{print $3}' <<<"$line")
suite=$(awk '{print $4}' <<<"$line")
target=$(awk '{print $6}' <<<"$line")
runs_at_page=$(grep -c ' run [0-9]' "$out/demo.log")
for _ in $(seq 30); do [ "$(grep -c ' run [0-9]' "$out/demo.log")" -ge $((runs_at_page + 3)) ] && break; sleep 0.5; done
echo "browser-test: run $run_id of $suite on $target paged"

fail=0
# shoot NAME PATH WIDTH HEIGHT [EXTRA CHROMIUM FLAGS...]: a screenshot, and
# the page's console output checked. The DOM is dumped too (a second load)
# for the pages whose text is checked (names ending in -desktop).
shoot() {
  local name=$1 path=$2 w=$3 h=$4 bad=0
  shift 4
  if ! kill -0 "$demo" 2>/dev/null; then
    echo "FAIL $name: the demo stopped before all pages were shot"; fail=1; return
  fi
  local profile
  profile=$(mktemp -d)
  local flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --user-data-dir="$profile" --enable-logging=stderr --v=0 --hide-scrollbars
    --virtual-time-budget=2000 --window-size="$w,$h" "$@")
  if ! timeout 60 "$chromium" "${flags[@]}" --screenshot="$out/shots/$name.png" "$url$path" 2>"$out/logs/$name.log" >/dev/null; then
    echo "FAIL $name: chromium failed (see $out/logs/$name.log)"; bad=1
  fi
  if [ ! -s "$out/shots/$name.png" ]; then
    echo "FAIL $name: no screenshot"; bad=1
  fi
  case $name in
    *-desktop|notfound)
      timeout 60 "$chromium" "${flags[@]}" --dump-dom "$url$path" 2>>"$out/logs/$name.log" >"$out/logs/$name.html" || true
      if ! grep -q '</footer>' "$out/logs/$name.html"; then
        echo "FAIL $name: the page did not render (no footer in the DOM)"; bad=1
      fi ;;
  esac
  rm -rf "$profile"
  # Our pages log nothing: any console line is a script error or a refusal
  # by the Content-Security-Policy.
  if grep -E ':CONSOLE|Uncaught|Refused to' "$out/logs/$name.log" | grep -v 'status of 404' >"$out/logs/$name.console"; then
    echo "FAIL $name: console output:"; cat "$out/logs/$name.console"; bad=1
  fi
  [ $bad = 0 ] && echo "ok   $name  $path  ${w}x${h} $*"
  [ $bad = 0 ] || fail=1
}
# expect NAME TEXT: the rendered DOM of page NAME contains TEXT.
expect() {
  if ! grep -qF -- "$2" "$out/logs/$1.html" 2>/dev/null; then echo "FAIL $1: the page lacks \"$2\""; fail=1; fi
}

pair="/suites/$suite/$target"
shoot overview-desktop   /             1280 1000
shoot overview-phone     /             390  1300
shoot overview-dark      /             1280 1000 --force-dark-mode
shoot suite-desktop      "$pair"       1280 2600
shoot suite-phone        "$pair"       390  2600
shoot suite-dark         "$pair"       1280 1800 --force-dark-mode
shoot run-desktop        "/runs/$run_id" 1280 3200
shoot run-phone          "/runs/$run_id" 390  3200
shoot governance-desktop /governance   1280 1000
shoot notfound           /runs/999999  1280 500

expect overview-desktop "need attention"
expect overview-desktop "chart spark"
expect suite-desktop "Drift statistic S"
expect suite-desktop "What changed, and when"
expect suite-desktop "data-tip="            # the script ran and took over the tooltips
expect run-desktop "Diff against the baseline"
expect run-desktop "pass → fail"
expect governance-desktop "Audit log"
expect notfound "There is no run 999999."

echo "browser-test: screenshots in $out/shots, took $(( $(date +%s) - started )) s"
exit $fail
