import AirlockJob
import AirlockSandbox
import Foundation

/// Output collection against `cp -a` of the same tree: 1,000 files of 1 MiB (1 GiB), page cache
/// warm, 7 runs each, interleaved, each after a `sync` (writeback of the previous run is not
/// counted against the next). Both copy from one workspace directory into a fresh directory
/// on the same file system; the copies are removed between runs (not timed).
func runOutputBench(scratch: String) {
    let root = scratch + "/output-bench"
    let ws = root + "/workspace"
    try? FileManager.default.createDirectory(atPath: ws + "/tree", withIntermediateDirectories: true)
    defer { _ = spawnAndWait(["/bin/rm", "-rf", root]) }
    var block = [UInt8](repeating: 0, count: 1 << 20)
    for i in 0..<1000 {
        for j in stride(from: 0, to: block.count, by: 8) { block[j] = UInt8(truncatingIfNeeded: i &* 31 &+ j) }
        FileManager.default.createFile(atPath: ws + "/tree/f\(i)", contents: Data(block))
    }
    _ = spawnAndWait(["/bin/cat"] + (0..<1000).map { ws + "/tree/f\($0)" })  // warm the page cache
    let collector = OutputCollector(jobFile: "bench.yaml")
    var ours: [Double] = []
    var cp: [Double] = []
    for i in 0..<7 {
        for airlock in (i % 2 == 0 ? [true, false] : [false, true]) {
            let dst = root + "/out-\(i)-\(airlock)"
            try? FileManager.default.createDirectory(atPath: dst, withIntermediateDirectories: true)
            _ = spawnAndWait(["/bin/sync"])  // no earlier run's writeback in this one's time
            let t0 = now()
            if airlock {
                do { _ = try collector.collect(patterns: ["tree"], workspace: ws, to: dst) } catch {
                    fail("output collection: \(error)")
                }
                ours.append(now() - t0)
            } else {
                if spawnAndWait(["/bin/cp", "-a", ws + "/tree", dst + "/tree"]) != 0 { fail("cp -a failed") }
                cp.append(now() - t0)
            }
            _ = spawnAndWait(["/bin/rm", "-rf", dst])
        }
    }
    let mib = 1024.0
    print("")
    print(
        "## Output collection: 1,000 files × 1 MiB (1 GiB), 7 runs each, interleaved, page cache warm, `sync` before each"
    )
    print("")
    print("| peer | median | throughput |")
    print("|---|---|---|")
    print(
        String(format: "| airlock output collection | %.0f ms | %.0f MiB/s |", median(ours) * 1000, mib / median(ours)))
    print(String(format: "| cp -a | %.0f ms | %.0f MiB/s |", median(cp) * 1000, mib / median(cp)))
    print("")
    print(String(format: "ratio (throughput, airlock / cp -a): %.2fx (target >= 0.8x)", median(cp) / median(ours)))
}
