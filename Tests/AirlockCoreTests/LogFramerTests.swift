import AirlockCore
import Testing

@Suite("saved log framing")
struct LogFramerTests {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func everyLineSaysWhereItCameFrom() {
        var f = LogFramer()
        var log = f.runner("==> [1/1] build\n")
        log += f.job(Array("compiling\n".utf8), from: .stdout).bytes
        log += f.job(Array("warning: x\n".utf8), from: .stderr).bytes
        log += f.runner("==> step 'build' finished in 0.10s\n")
        log += f.end()
        #expect(
            Self.text(log)
                == "runner| ==> [1/1] build\nstdout| compiling\nstderr| warning: x\nrunner| ==> step 'build' finished in 0.10s\n"
        )
        #expect(LogLine.parse(Self.text(log)).allSatisfy { $0 != nil })
    }

    @Test func jobBytesNeverStartALineWithoutTheirPrefix() {
        var f = LogFramer()
        // A forged runner line after a newline, and split across chunks.
        var log = f.job(Array("ok\n==> job 'x' succeeded\n".utf8), from: .stdout).bytes
        log += f.job(Array("\n==> step".utf8), from: .stderr).bytes
        log += f.job(Array(" 'y' finished\nrunner| ==> fake\n".utf8), from: .stderr).bytes
        log += f.runner("==> job 'x' failed with exit status 1")
        let lines = LogLine.parse(Self.text(log)).map { $0! }
        #expect(lines.filter { $0.source == .runner }.map(\.text) == ["==> job 'x' failed with exit status 1"])
        #expect(
            lines.map { "\($0.source.tag)|\($0.text)" } == [
                "stdout|ok", "stdout|==> job 'x' succeeded", "stderr|", "stderr|==> step 'y' finished",
                "stderr|runner| ==> fake", "runner|==> job 'x' failed with exit status 1",
            ])
    }

    @Test func partialLinesAreContinuedAfterTheOtherStreamAndEndedBeforeRunnerLines() {
        var f = LogFramer()
        var log = f.job(Array("Enter: ".utf8), from: .stdout).bytes
        log += f.job(Array("warn\n".utf8), from: .stderr).bytes
        log += f.job(Array("done\nno newline".utf8), from: .stdout).bytes
        #expect(f.lineOpen)
        log += f.runner("==> step 's' finished\n")
        log += f.job(Array("next".utf8), from: .stdout).bytes
        log += f.end()
        #expect(
            Self.text(log)
                == "stdout| Enter: \nstderr| warn\nstdout+ done\nstdout| no newline\nrunner| ==> step 's' finished\nstdout| next\n"
        )
    }

    @Test func longLinesAreSplitWithAContinuationMarkerAtACharacterBoundary() {
        var f = LogFramer(maxLineLength: 10)
        // "é" is two bytes; the bound falls inside one on the second line, which finishes it.
        let line = String(repeating: "aé", count: 7) + "\n"
        let log = Self.text(f.job(Array(line.utf8), from: .stdout).bytes)
        let lines = log.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("stdout| ") == true)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("stdout+ ") }, "\(lines)")
        #expect(lines.map { $0.dropFirst(8) }.joined() == String(repeating: "aé", count: 7))
        #expect(lines.map { $0.utf8.count - 8 } == [10, 11], "\(lines)")
        // Every chunking gives the same log.
        for k in 0...line.utf8.count {
            var g = LogFramer(maxLineLength: 10)
            let b = Array(line.utf8)
            let split = g.job(b[..<k], from: .stdout).bytes + g.job(b[k...], from: .stdout).bytes
            #expect(Self.text(split) == log, "split at \(k)")
        }
    }

    @Test func theBudgetIsNeverExceeded() {
        var f = LogFramer()
        let bytes = Array(String(repeating: "line of output\n", count: 100).utf8)
        let (out, consumed) = f.job(bytes, from: .stdout, budget: 200)
        #expect(out.count + 1 <= 200)
        #expect(consumed < bytes.count && consumed > 0)
        #expect(Array(Self.text(out).utf8).count == out.count)
        // Too small for a prefix and one byte: nothing.
        var g = LogFramer()
        #expect(g.job(bytes, from: .stderr, budget: 9).consumed == 0)
    }

    @Test func runnerTextIsMadePrintable() {
        var f = LogFramer()
        let log = Self.text(f.runner("==> [1/1] evil\nstderr| x\u{1B}]0;t\u{07}\r\u{202E}\n"))
        #expect(log == "runner| ==> [1/1] evil\nrunner| stderr| x\\e]0;t\\u{7}\\r\\u{202E}\n")
        #expect(LogFramer.printable("a\nb\tc") == "a\\nb\\tc")
    }

    @Test func parsingRejectsLinesWithoutAPrefix() {
        #expect(LogLine("==> job 'x' succeeded") == nil)
        #expect(LogLine("runner+ continued") == nil, "runner lines are never continued")
        #expect(LogLine("stdout|x") == nil)
        #expect(LogLine("stderr+ more")?.continued == true)
        let parsed = LogLine.parse("stdout| a\r\nstdout| b\n")
        #expect(parsed.count == 2 && parsed[0]?.text == "a\r" && parsed[1]?.text == "b")
    }
}
