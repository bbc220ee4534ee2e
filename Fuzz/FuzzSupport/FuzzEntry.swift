// The entry point every libFuzzer target shares: under FUZZING libFuzzer takes over (started through
// LLVMFuzzerRunDriver, since SwiftPM gives every executable its own main); built normally, the target
// replays the files named on its command line through the same function, so that a crash the fuzzer
// found becomes a regression test.
import CPalisadeShims
import Foundation

public enum FuzzEntry {
    /// The one function of this process's fuzz target. libFuzzer calls back through a C function pointer,
    /// which cannot capture it, so it is kept here: set once, before the driver starts, on the main thread,
    /// and only read afterwards (libFuzzer runs inputs one at a time on that thread).
    nonisolated(unsafe) static var body: ([UInt8]) -> Void = { _ in }

    public static func run(_ body: @escaping ([UInt8]) -> Void) -> Never {
        #if FUZZING
        Self.body = body
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzEntry.body(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        })
        #else
        let files = CommandLine.arguments.dropFirst()
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                exit(1)
            }
            body(Array(data))
        }
        print("replayed \(files.count) input(s) without a crash")
        exit(0)
        #endif
    }
}
