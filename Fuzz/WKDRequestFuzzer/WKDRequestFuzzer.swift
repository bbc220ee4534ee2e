// The libFuzzer target for the WKD publisher's reading of requests: HTTP/1.1 heads from raw bytes
// (pipelined ones too), WKD paths and Host values, If-None-Match lists, all on hostile bytes.
//
//   Fuzz/run.sh wkd-request [SECONDS]      build with libFuzzer and the address sanitizer and fuzz, seeded from Seeds/
//
// Built normally (without FUZZING), it is a replayer: `WKDRequestFuzzer FILE…` runs each file through the
// same entry point, so a crash found by the fuzzer becomes a regression test.
import CPalisadeShims
import Foundation
import WKDPublishing

func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    WKDRequestFuzzing.readAsRequests(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@main
struct Entry {
    static func main() {
        #if FUZZING
        // libFuzzer takes over: corpus directories and -flags come from the command line.
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzerTestOneInput(data, size) })
        #else
        let files = CommandLine.arguments.dropFirst()
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                exit(1)
            }
            WKDRequestFuzzing.readAsRequests(Array(data))
        }
        print("replayed \(files.count) input(s) without a crash")
        #endif
    }
}
