#!/bin/sh
# Runs one libFuzzer target for a number of inputs and prints one summary
# line: Tests/fuzz/run.sh <target> <runs>. The corpus grows in
# Tests/fuzz/corpus/<target> (not committed), starting from the seeds in
# Tests/fuzz/seeds/<target>; a crashing input is saved under Tests/fuzz/bin/.
set -eu
cd "$(dirname "$0")"
t=$1
runs=${2:-1000000}
mkdir -p "corpus/$t" seeds/"$t"
log="bin/fuzz-$t.log"
start=$(date +%s)
if ASAN_OPTIONS=detect_leaks=0 "bin/fuzz-$t" -runs="$runs" -max_len=4096 -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="bin/crash-$t-" "corpus/$t" "seeds/$t" >"$log" 2>&1; then
    status=ok
else
    status=FAILED
fi
end=$(date +%s)
done_line=$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -1 || true)
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
corpus=$(ls "corpus/$t" | wc -l)
echo "fuzz-$t: $status: ${execs} inputs in $((end - start)) s (${done_line:-no summary}), coverage $cov edges, corpus $corpus"
if [ "$status" != ok ]; then
    tail -40 "$log"
    exit 1
fi
