#!/usr/bin/env bash
# Builds a libFuzzer target with the address sanitizer and fuzzes it from its seed corpus (read only: new
# inputs go to .build-fuzz/corpus).
#
#   Fuzz/run.sh (openpgp|wkd-request|mail-policy|tlsrpt) [SECONDS]    (default 60)
#
# New inputs that grow coverage are kept in .build-fuzz/corpus/NAME; crashes are written to
# .build-fuzz/crashes/NAME and make the script fail. Replay one with the normal build:
#   swift run OpenPGPFuzzer .build-fuzz/crashes/openpgp/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: Fuzz/run.sh (openpgp|wkd-request|mail-policy|tlsrpt) [SECONDS]}
seconds=${2:-60}
# Each target's seed corpus: its library's test fixtures, or seeds of its own.
case "$name" in
openpgp) product=OpenPGPFuzzer; seeds=Tests/OpenPGPTests/Fixtures ;;
wkd-request) product=WKDRequestFuzzer; seeds=Fuzz/WKDRequestFuzzer/Seeds ;;
mail-policy) product=MailPolicyFuzzer; seeds=Fuzz/MailPolicyFuzzer/Seeds ;;
tlsrpt) product=TLSReportFuzzer; seeds=Tests/TLSReportingTests/Fixtures ;;
*) echo "unknown fuzz target $name" >&2; exit 64 ;;
esac
# -sanitize=fuzzer would link libFuzzer's own main, which clashes with the entry point SwiftPM gives every
# executable; so the code gets libFuzzer's coverage instrumentation and the address sanitizer, and the
# target links libFuzzer without its main and starts it from its own (LLVMFuzzerRunDriver).
runtime=$(ls /opt/swift/usr/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null \
          || ls "$(dirname "$(dirname "$(command -v swiftc)")")"/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -1)
swift build --scratch-path .build-fuzz -c debug --product "$product" \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
    -Xswiftc -DFUZZING -Xlinker "$runtime" -Xlinker -lstdc++ >/dev/null
corpus=.build-fuzz/corpus/$name
crashes=.build-fuzz/crashes/$name
mkdir -p "$corpus" "$crashes"
.build-fuzz/debug/"$product" "$corpus" "$seeds" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -artifact_prefix="$crashes/" -print_final_stats=1
