// libFuzzer entry point of the `modbus` target: linked by scripts/fuzz.sh with the instrumented
// objects of FuzzTargets and its dependencies into .build-fuzz/bin/fuzz-modbus (-parse-as-library).
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.modbusFrames(bytes)
    return 0
}
