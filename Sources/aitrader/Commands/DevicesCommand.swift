import Common
import Engine
import Foundation

/// `aitrader devices [--threads N]`: every compute backend this machine offers, or exactly why CUDA is not one.
enum DevicesCommand: AITraderCommand {
    static let path = ["devices"]
    static let summary = "list compute backends (CPU, CUDA) with memory, compute capability, threads"
    static let options: [Option] = []
    static let discussion = """
        Lists the CPU backend (threads, memory) and every CUDA GPU the CUDA backend library drives (name, memory,
        compute capability), or the exact reason the CUDA backend is unavailable (library not found, ABI mismatch,
        no driver, no GPU). The CUDA library is looked for in $AITRADER_CUDA_LIB, next to the executable, in
        build/cuda/ (make cuda), then on the library search path (libaitrader_cuda.so).
        """

    static func run(_ values: OptionValues) async throws {

        let cpu = try Backend.cpu.info()
        print("cpu    \(cpu.name)")
        print("       threads \(cpu.threads), memory \(gib(cpu.totalMemory)) total, \(gib(cpu.freeMemory)) free")

        switch Devices.cuda(deviceIndex: 0) {
        case .failure(let error):
            let reason: String
            if case let .unavailable(_, r) = error { reason = r } else { reason = error.description }
            print("cuda   unavailable: \(reason)")
        case .success(let first):
            let info = try first.info()
            printGPU(info, origin: first.origin)
            for index in stride(from: 1, to: info.deviceCount, by: 1) {
                switch Devices.cuda(deviceIndex: index) {
                case .success(let other): printGPU(try other.info(), origin: other.origin)
                case .failure(let error): print("cuda:\(index) unavailable: \(error)")
                }
            }
        }
    }

    static func printGPU(_ info: DeviceInfo, origin: String) {
        let cc = info.computeCapability.map { "\($0.0).\($0.1)" } ?? "?"
        print("cuda:\(info.deviceIndex) \(info.name)")
        print("       compute capability \(cc), memory \(gib(info.totalMemory)) total, \(gib(info.freeMemory)) free, "
            + "\(info.deviceCount) GPU(s) visible, library \(origin)")
    }

    static func gib(_ bytes: UInt64) -> String { String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) }
}
