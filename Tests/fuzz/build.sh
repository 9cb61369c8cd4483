#!/bin/sh
# Builds the libFuzzer targets: the library's sources and FuzzTargets.swift
# compiled as one module with -sanitize=fuzzer,address, installed as
# Tests/fuzz/bin/fuzz-<target> (one binary, one name per target).
set -eu
cd "$(dirname "$0")/../.."
SWIFTC=${SWIFTC:-swiftc}
OUT=Tests/fuzz/bin
mkdir -p "$OUT/include"
# The header's module, as SwiftPM makes it for the COpenAIModel target.
cat > "$OUT/include/module.modulemap" <<MAP
module COpenAIModel {
    header "$PWD/include/openaimodel.h"
    export *
}
MAP
# shellcheck disable=SC2046
"$SWIFTC" -sanitize=fuzzer,address -parse-as-library -O -g -module-name OpenAIModel \
    -I Sources/CCurl -I Sources/CJansson -I "$OUT/include" \
    $(pkg-config --cflags-only-I libcurl jansson | sed 's/-I/-Xcc -I/g') \
    $(find Sources/OpenAIModel -name '*.swift' | sort) Tests/fuzz/FuzzTargets.swift \
    -lcurl -ljansson -o "$OUT/omfuzz" >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; exit 1; }
# gold warns about every ASan helper it cannot export: noise, not shown
grep -v "Cannot export local symbol" "$OUT/build.log" || true
for t in sse csv reply replyscan sniff retry errorbody; do
    ln -sf omfuzz "$OUT/fuzz-$t"
done
echo "fuzz: built $OUT/omfuzz"
