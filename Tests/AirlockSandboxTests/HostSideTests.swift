import AirlockTestSupport
import Foundation
import Testing

extension SandboxIntegration {
    /// The findings of the host-side review, each tried as the attacker did and judged on the host.
    @Suite("host side: the runner never follows a job's paths (root)", .serialized)
    struct HostSide {
        func job(_ yaml: String, files: [String: String] = [:], in s: TestState) throws -> String {
            try SandboxIntegration().tempJob(yaml, files: files, in: s)
        }

        func run(_ job: String, _ s: TestState, out: String? = nil) throws -> (RunResult, String) {
            try SandboxIntegration().run(job, state: s, out: out)
        }

        /// Every symlink below `dir` and where it points (nothing in an out dir may point out).
        func symlinks(under dir: String) -> [String: String] {
            var found: [String: String] = [:]
            let e = FileManager.default.enumerator(atPath: dir)
            while let rel = e?.nextObject() as? String {
                if let t = try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + rel) {
                    found[rel] = t
                }
            }
            return found
        }

        @Test("C1: an output glob with .[.] through a recreated symlink cannot write or delete host files")
        func outputGlobDotDot() throws {
            let s = TestState()
            let v = try HostVictim(s)
            let j = try job(
                """
                name: c1
                steps:
                  - name: plant
                    run: |
                      mkdir -p d r/s r/d/x/tree
                      ln -s \(v.dir) d/x
                      ln -s r/s q
                      echo evil > r/d/x/target; chmod 755 r/d/x/target
                      echo evil > r/d/x/tree/evil
                outputs: [d, "q/.[.]/d/x/*"]
                """, in: s)
            let (r, out) = try run(j, s)
            #expect(r.status != 0, "the job must fail: \(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("outside the workspace"), "\(r.stdout)")
            v.expectUntouched()
            #expect(symlinks(under: out).values.allSatisfy { !$0.hasPrefix("/") }, "\(symlinks(under: out))")
            // The glob alone matches nothing: `.[.]` never matches `..`.
            let k = try job(
                """
                name: c1b
                steps: [{name: plant, run: 'mkdir -p r/s r/d/x && ln -s r/s q && echo evil > r/d/x/target'}]
                outputs: ["q/.[.]/d/x/*"]
                """, in: s)
            let (r2, _) = try run(k, s)
            #expect(
                r2.status != 0 && (r2.stdout.contains("was not produced") || r2.stdout.contains("through a symlink")),
                "\(r2.stdout)")
            v.expectUntouched()
            Leftovers.expectNone(s)
        }

        @Test("C1: files inside a collected directory are checked too: an outside symlink is not recreated")
        func outputDirectoryWithOutsideLink() throws {
            let s = TestState()
            let v = try HostVictim(s)
            let j = try job(
                """
                name: c1dir
                steps: [{name: plant, run: 'mkdir -p d/sub && ln -s \(v.dir) d/sub/x && ln -s ../../../etc d/sub/up && echo ok > d/f'}]
                outputs: [d]
                """, in: s)
            let (r, out) = try run(j, s)
            #expect(r.status != 0 && r.stdout.contains("points outside the workspace"), "\(r.stdout)")
            #expect(symlinks(under: out).isEmpty, "\(symlinks(under: out))")
            v.expectUntouched()
            // A symlink inside the workspace is kept as a symlink.
            let k = try job(
                """
                name: c1ok
                steps: [{name: make, run: 'mkdir -p d && echo hi > d/real && ln -s real d/alias'}]
                outputs: [d]
                """, in: s)
            let (r2, out2) = try run(k, s)
            #expect(r2.status == 0, "\(r2.stdout)\(r2.stderr)")
            #expect(symlinks(under: out2) == ["d/alias": "real"])
            Leftovers.expectNone(s)
        }

        @Test("H2: inputs outside the job's directory are refused before anything is copied or deleted")
        func inputsOutside() throws {
            let s = TestState()
            let v = try HostVictim(s)
            for input in [v.target, "../host-victim/target", "../../../../../../\(v.target)"] {
                let j = try job(
                    "name: h2\ninputs: [\"\(input)\"]\nsteps: [{name: s, run: 'cat target || true'}]\n", in: s)
                let (r, _) = try run(j, s)
                #expect(r.status == 2, "\(input): \(r.stdout)\(r.stderr)")
                #expect(r.stderr.contains("job.yaml:2") && r.stderr.contains("inputs[0]"), "\(r.stderr)")
                #expect(!r.stdout.contains("original"))
            }
            // A symlink in the job's directory that points out is not followed either.
            let dir = s.dir + "/linkjob"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: dir + "/stolen", withDestinationPath: v.target)
            try "name: h2link\ninputs: [stolen]\nsteps: [{name: s, run: 'cat stolen'}]\n".write(
                toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
            let (r, _) = try run(dir + "/job.yaml", s)
            #expect(r.status == 2 && r.stderr.contains("outside the job's directory"), "\(r.stdout)\(r.stderr)")
            #expect(!r.stdout.contains("original"))
            v.expectUntouched()
            Leftovers.expectNone(s)
        }

        @Test("inputs keep their mtimes and modes (minus set-id), so make does not rebuild them")
        func inputMetadata() throws {
            let s = TestState()
            let j = try job(
                "name: meta\ninputs: [src]\nsteps: [{name: s, run: 'stat -c \"%Y %a\" src/gen.mo src/tool'}]\n",
                files: ["src/gen.mo": "x", "src/tool": "#!/bin/sh\n"], in: s)
            let src = (j as NSString).deletingLastPathComponent + "/src"
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_400_000_000)], ofItemAtPath: src + "/gen.mo")
            #expect(chmod(src + "/tool", 0o4750) == 0)
            let (r, _) = try run(j, s)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("1400000000 644") && r.stdout.contains(" 750"), "\(r.stdout)")
            Leftovers.expectNone(s)
        }

        @Test("M: outputs cannot take the runner's log or envelope names; modes are kept, never widened")
        func reservedNamesAndModes() throws {
            let s = TestState()
            for name in ["res.log", "res.intoto.jsonl", "res.spdx.json"] {
                let j = try job(
                    "name: res\nsteps: [{name: s, run: 'echo forged > \(name)'}]\noutputs: [\"\(name)\"]\n", in: s)
                let (r, out) = try run(j, s)
                #expect(r.status != 0 && r.stdout.contains("runner's own"), "\(r.stdout)")
                let log = (try? String(contentsOfFile: out + "/res.log", encoding: .utf8)) ?? ""
                #expect(!log.hasPrefix("forged") && log.contains("==> [1/1] s"), "\(log)")
            }
            let j = try job(
                "name: modes\nsteps: [{name: s, run: 'mkdir -m 700 p && echo x > p/key && chmod 600 p/key'}]\noutputs: [p]\n",
                in: s)
            let (r, out) = try run(j, s)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            var st = stat()
            #expect(lstat(out + "/p", &st) == 0 && st.st_mode & 0o777 == 0o700)
            #expect(lstat(out + "/p/key", &st) == 0 && st.st_mode & 0o777 == 0o600)
            Leftovers.expectNone(s)
        }

        @Test("names are data: control characters and secret values in output names are refused, by index")
        func outputNames() throws {
            let s = TestState()
            let j = try job(
                """
                name: nl
                steps:
                  - name: s
                    run: |
                      mkdir o
                      touch "$(printf 'o/a\\n==> forged')"
                outputs: [o]
                """, in: s)
            let (r, out) = try run(j, s)
            #expect(
                r.status != 0 && r.stdout.contains("output #1") && r.stdout.contains("control character"), "\(r.stdout)"
            )
            #expect(!FileManager.default.fileExists(atPath: out + "/o"))
            // A secret's value as a file name: refused, and the value is printed nowhere.
            let put = try Run.capture(
                ["/bin/sh", "-c", "printf 'hunter2value' | \(Host.airlock) secrets put leak"], env: s.env)
            #expect(put.status == 0, "\(put.stderr)")
            let k = try job(
                """
                name: sec
                secrets: [{name: tok, source: "local:leak"}]
                steps: [{name: s, run: 'mkdir o && touch "o/$(cat /run/secrets/tok).txt"'}]
                outputs: [o]
                """, in: s)
            let (r2, out2) = try run(k, s)
            #expect(r2.status != 0 && r2.stdout.contains("output #1") && r2.stdout.contains("secret"), "\(r2.stdout)")
            #expect(!(r2.stdout + r2.stderr).contains("hunter2value"))
            let everything = FileManager.default.enumerator(atPath: out2)?.allObjects as? [String] ?? []
            #expect(everything.allSatisfy { !$0.contains("hunter2value") }, "\(everything)")
            for f in everything {
                let text = (try? String(contentsOfFile: out2 + "/" + f, encoding: .utf8)) ?? ""
                #expect(!text.contains("hunter2value"), "\(f)")
            }
            Leftovers.expectNone(s)
        }

        @Test("L: a root-glob through a planted symlink lists nothing of the host; fifos in outputs are skipped")
        func globNoFollowAndFifo() throws {
            let s = TestState()
            let secretDir = s.dir + "/root-only"
            try FileManager.default.createDirectory(atPath: secretDir, withIntermediateDirectories: true)
            #expect(chmod(secretDir, 0o700) == 0)
            FileManager.default.createFile(atPath: secretDir + "/host-name-leak", contents: Data())
            let j = try job(
                "name: g\nsteps: [{name: s, run: 'ln -s \(secretDir) r'}]\noutputs: [\"r/*\"]\n", in: s)
            let (r, out) = try run(j, s)
            #expect(r.status != 0 && r.stdout.contains("symlink"), "\(r.stdout)")
            #expect(!(r.stdout + r.stderr).contains("host-name-leak"))
            #expect(!FileManager.default.fileExists(atPath: out + "/r"))
            let k = try job(
                "name: f\nsteps: [{name: s, run: 'mkdir d && echo x > d/a && mkfifo d/pipe'}]\noutputs: [\"d/*\"]\n",
                in: s)
            let (r2, out2) = try run(k, s)
            #expect(r2.status == 0, "\(r2.stdout)\(r2.stderr)")
            #expect(FileManager.default.fileExists(atPath: out2 + "/d/a"))
            #expect(!FileManager.default.fileExists(atPath: out2 + "/d/pipe"))
            Leftovers.expectNone(s)
        }

        @Test("M: the workspace has a size limit; a sparse output stays sparse; a deep tree leaves nothing behind")
        func workspaceLimitSparseAndDeep() throws {
            let s = TestState()
            let j = try job(
                """
                name: fill
                resources: {workspace: 32MiB}
                steps: [{name: s, run: 'dd if=/dev/zero of=big bs=1M count=64 2>&1; df -k /workspace | tail -1'}]
                """, in: s)
            let (r, _) = try run(j, s)
            #expect(r.status != 0 && r.stdout.contains("No space left"), "\(r.stdout)")
            let k = try job(
                """
                name: sparse
                steps:
                  - name: s
                    run: |
                      truncate -s 2G sparse.img
                      perl -e 'for (1..2100) { mkdir "n" or die "mkdir: $!"; chdir "n" or die "chdir: $!" }'
                      echo deep tree made
                outputs: [sparse.img]
                """, in: s)
            let (r2, out2) = try run(k, s)
            #expect(r2.status == 0, "\(r2.stdout)\(r2.stderr)")
            var st = stat()
            #expect(lstat(out2 + "/sparse.img", &st) == 0 && st.st_size == 2 << 30)
            #expect(st.st_blocks * 512 < 1 << 20, "2 GiB sparse output took \(st.st_blocks * 512) bytes")
            Leftovers.expectNone(s)
        }

        @Test("7: the out dir holds only this run's files; a foreign non-empty out dir is refused")
        func freshOutDir() throws {
            let s = TestState()
            let out = s.dir + "/out-fresh"
            let both = try job(
                "name: o\nsteps: [{name: s, run: 'echo a > a; echo b > b'}]\noutputs: [a, b]\n", in: s)
            #expect(try run(both, s, out: out).0.status == 0)
            let one = try job("name: o\nsteps: [{name: s, run: 'echo a2 > a'}]\noutputs: [a]\n", in: s)
            #expect(try run(one, s, out: out).0.status == 0)
            #expect(!FileManager.default.fileExists(atPath: out + "/b"), "a stale output stayed behind")
            let fail = try job("name: o\nsteps: [{name: s, run: 'echo a3 > a; exit 4'}]\noutputs: [a]\n", in: s)
            #expect(try run(fail, s, out: out).0.status == 4)
            let left = Set((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [])
            #expect(left == ["o.log", ".airlock-out"], "after a failed run: \(left)")
            // Somebody else's directory is never replaced.
            let mine = s.dir + "/my-files"
            try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: mine + "/thesis.tex", contents: Data("work".utf8))
            let (r, _) = try run(one, s, out: mine)
            #expect(r.status == 2 && r.stderr.contains("did not write"), "\(r.stderr)")
            #expect(Set((try? FileManager.default.contentsOfDirectory(atPath: mine)) ?? []) == ["thesis.tex"])
            let parent = (try? FileManager.default.contentsOfDirectory(atPath: s.dir)) ?? []
            #expect(parent.allSatisfy { !$0.contains(".airlock-p") }, "staging left: \(parent)")
            Leftovers.expectNone(s)
        }

        @Test("H4: the owner swapping a subdirectory for a symlink during hand-back gets nothing outside chowned")
        func lentWorkspaceRace() throws {
            let s = TestState()
            let owner: uid_t = 4242
            let lent = s.dir + "/lent"
            let outside = s.dir + "/root-owned"
            try FileManager.default.createDirectory(atPath: lent + "/sub", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: outside + "/rootfile", contents: Data("r".utf8))
            #expect(
                chmod(s.dir, 0o755) == 0 && chown(lent, owner, owner) == 0 && chown(lent + "/sub", owner, owner) == 0)
            try FileManager.default.createSymbolicLink(atPath: lent + "/lnk", withDestinationPath: outside)
            #expect(lchown(lent + "/lnk", owner, owner) == 0)
            let racer = """
                import ctypes, sys, time
                libc = ctypes.CDLL(None, use_errno=True)
                a, b = sys.argv[1].encode(), sys.argv[2].encode()
                end = time.time() + 120
                first = True
                while time.time() < end:
                    libc.renameat2(-100, a, -100, b, 2)
                    if first:
                        print("ready", flush=True)
                        first = False
                """
            for run in 0..<5 {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
                p.arguments = [
                    "--reuid=\(owner)", "--regid=\(owner)", "--clear-groups", "/usr/bin/python3", "-c", racer,
                    lent + "/sub", lent + "/lnk",
                ]
                let out = Pipe()
                p.standardOutput = out
                try p.run()
                defer {
                    kill(p.processIdentifier, SIGKILL)
                    p.waitUntilExit()
                }
                let ready = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
                #expect(ready.hasPrefix("ready"), "racer did not start")
                let r = try Run.capture(
                    [
                        Host.airlock, "exec", "--workspace", lent, "--", "/bin/sh", "-c",
                        "i=0; while [ $i -lt 1500 ]; do echo x 2>/dev/null >sub/f$i || true; i=$((i+1)); done",
                    ], env: s.env)
                #expect(r.status == 0, "run \(run): \(r.stderr)")
                var st = stat()
                #expect(lstat(outside, &st) == 0 && st.st_uid == 0, "run \(run): the outside directory was chowned")
                #expect(
                    lstat(outside + "/rootfile", &st) == 0 && st.st_uid == 0,
                    "run \(run): a root-owned file outside was chowned to uid \(st.st_uid)")
                let names = (try? FileManager.default.contentsOfDirectory(atPath: outside)) ?? []
                #expect(names == ["rootfile"], "run \(run): \(names.count) entries appeared outside")
            }
            Leftovers.expectNone(s)
        }
    }
}
