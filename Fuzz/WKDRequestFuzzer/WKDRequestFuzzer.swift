// The libFuzzer target for the WKD publisher's reading of requests: HTTP/1.1 heads from raw bytes
// (pipelined ones too), WKD paths and Host values, If-None-Match lists, all on hostile bytes.
//
//   Fuzz/run.sh wkd-request [SECONDS]      build with libFuzzer and the address sanitizer and fuzz, seeded from Seeds/
//
// Built normally (without FUZZING), it is a replayer: `WKDRequestFuzzer FILE…` runs each file through the
// same entry point, so a crash found by the fuzzer becomes a regression test.
import FuzzSupport
import WKDPublishing

@main
struct Entry {
    static func main() {
        FuzzEntry.run(WKDRequestFuzzing.readAsRequests)
    }
}
