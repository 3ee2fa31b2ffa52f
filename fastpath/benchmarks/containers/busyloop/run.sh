#!/bin/sh
# testing/busyloop: a tiny benchmark built from busybox alone.
# Reads flat params from /fastpath-share/benchmark.yaml:
#   duration (s, default 0.2): spin a shell loop that long; report iterations (bigger is better)
#   sleep (s, default 0): sleep that long first (a long run that costs no CPU)
#   exit_code (default 0): exit with it, writing no results
#   results (ok | garbage | missing, default ok): a proper results.csv, a malformed one, or none
share=/fastpath-share
echo "started $(date +%s)" >> "$share/starts.log"
param() { sed -n "s/^  $1: *//p" "$share/benchmark.yaml" | head -1 | tr -d "'\""; }
duration=$(param duration); duration=${duration:-0.2}
pause=$(param sleep); pause=${pause:-0}
code=$(param exit_code); code=${code:-0}
results=$(param results); results=${results:-ok}
case "$duration$pause$code" in *[!0-9.]*) echo "busyloop: bad params" >&2; exit 2;; esac
echo "busyloop: duration=$duration sleep=$pause exit_code=$code results=$results"
sleep "$pause"
start=$(cut -d' ' -f1 /proc/uptime)
end=$(awk -v s="$start" -v d="$duration" 'BEGIN { print s + d }')
n=0
while :; do
  i=0
  while [ $i -lt 500 ]; do i=$((i + 1)); done
  n=$((n + 500))
  now=$(cut -d' ' -f1 /proc/uptime)
  awk -v a="$now" -v b="$end" 'BEGIN { exit !(a >= b) }' && break
done
elapsed=$(awk -v a="$now" -v s="$start" 'BEGIN { print a - s }')
if [ "$code" != 0 ]; then echo "busyloop: failing with status $code as asked" >&2; exit "$code"; fi
case "$results" in
  ok) printf 'resultclass,value,unit,improvement\niterations,%s,iterations,bigger\nelapsed,%s,s,smaller\n' \
        "$n" "$elapsed" > "$share/results.csv" ;;
  garbage) echo "this is, not a results file" > "$share/results.csv" ;;
  missing) ;;
esac
