// libFuzzer entry point of the `contract` target: linked by scripts/fuzz.sh with the instrumented
// objects of FuzzTargets and its dependencies into .build-fuzz/bin/fuzz-contract (-parse-as-library).
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.contract(bytes)
    return 0
}
