#!/usr/bin/env python3
"""Correctness + speed benchmark for `ssoproof lint` (link rules), optionally against lychee.

    python3 scripts/bench-lint.py [--files 2000] [--runs 5] [--seed 1]
                                  [--ssoproof PATH] [--lychee PATH]
                                  [--no-build] [--skip-ssoproof]

1. Generates the corpus into target/lint-corpus-<files>/ (scripts/gen-lint-corpus.py),
   unless it is already there with the same parameters (stamp file .bench-stamp.json,
   which also records a hash of the generator so that generator changes regenerate).
2. Finds the ssoproof binary (--ssoproof, else $CARGO_TARGET_DIR or target/ +
   release/ssoproof; if missing, runs `cargo build --release -p ssoproof` unless
   --no-build).
3. Correctness: `ssoproof lint --select link --format json docs` (cwd = corpus); the
   set of (file, line, rule, target) of its error diagnostics must equal expected.json.
4. Speed/memory: the same command --runs times, each in a fresh process; wall time
   from a monotonic clock, peak RSS from wait4() rusage of that process.
5. lychee (--lychee, else $LYCHEE, else `lychee` on PATH, else
   /tmp/lychee-root/bin/lychee), if found: `lychee --offline --include-fragments
   --no-progress --no-ignore --root-dir <corpus> --format json docs`, timed the same
   way; its JSON `error_map` failures are matched against expected.json by file +
   line (lychee 0.24 reports `span.line`) + resolved path + fragment.
6. Summary table and speed/memory ratios.

Exit status: 0 when ssoproof is correct (or skipped); 1 on any ssoproof miss, false
positive, bad exit status or crash; 2 on setup problems (no binary, build failure).
Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from urllib.parse import unquote, urlsplit

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(REPO, "scripts", "gen-lint-corpus.py")
STAMP = ".bench-stamp.json"
RULES = ("link/missing-file", "link/missing-fragment", "link/undefined-reference")
LYCHEE_FALLBACK = "/tmp/lychee-root/bin/lychee"
LIST_MAX = 20


def say(msg: str = "") -> None:
    print(msg, flush=True)


def die(msg: str, code: int = 2) -> "NoReturn":  # noqa: F821
    print(f"error: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


# --------------------------------------------------------------------------- corpus


def ensure_corpus(files: int, seed: int, clean: bool = False) -> str:
    """The corpus folder; `clean` is the variant with no broken link (gen-lint-corpus.py --clean)."""
    corpus = os.path.join(REPO, "target", f"lint-corpus-{files}" + ("-clean" if clean else ""))
    with open(GEN, "rb") as f:
        gen_hash = hashlib.sha256(f.read()).hexdigest()
    want = {"files": files, "seed": seed, "generator_sha256": gen_hash}
    if clean:
        want["clean"] = True
    stamp_path = os.path.join(corpus, STAMP)
    try:
        with open(stamp_path, encoding="utf-8") as f:
            have = json.load(f)
    except (OSError, ValueError):
        have = None
    if have == want and os.path.exists(os.path.join(corpus, "expected.json")):
        say(f"corpus: {os.path.relpath(corpus, REPO)} (up to date, files={files} seed={seed})")
        return corpus
    say(f"corpus: generating {os.path.relpath(corpus, REPO)} (files={files} seed={seed}) ...")
    if os.path.exists(stamp_path):
        os.remove(stamp_path)
    r = subprocess.run([sys.executable, GEN, corpus, "--files", str(files), "--seed", str(seed)]
                       + (["--clean"] if clean else []))
    if r.returncode != 0:
        die(f"corpus generator failed with exit status {r.returncode}")
    with open(stamp_path, "w", encoding="utf-8") as f:
        json.dump(want, f, indent=1)
        f.write("\n")
    return corpus


def load_expected(corpus: str) -> list[dict]:
    with open(os.path.join(corpus, "expected.json"), encoding="utf-8") as f:
        return json.load(f)


# --------------------------------------------------------------------------- processes


def run_measured(cmd: list[str], cwd: str) -> tuple[float, int, int]:
    """Run cmd once in a fresh process, output discarded. Returns (wall s, peak RSS KiB, exit)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_maxrss, p.returncode  # ru_maxrss is KiB on Linux


def bench(name: str, cmd: list[str], cwd: str, runs: int, ok_codes: tuple[int, ...]) -> dict:
    walls, rss = [], []
    for i in range(runs):
        wall, kib, code = run_measured(cmd, cwd)
        if code not in ok_codes:
            return {"crashed": f"run {i + 1} exited with status {code}"}
        walls.append(wall)
        rss.append(kib)
        say(f"  {name} run {i + 1}/{runs}: {wall:.3f} s, {kib / 1024:.1f} MB")
    return {"median": statistics.median(walls), "min": min(walls), "peak_mb": max(rss) / 1024}


def describe_exit(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


# --------------------------------------------------------------------------- ssoproof


def find_ssoproof(explicit: str | None, no_build: bool) -> str:
    if explicit:
        path = os.path.abspath(explicit)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            die(f"--ssoproof {explicit}: no executable file there")
        return path
    target_dir = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    path = os.path.join(os.path.abspath(target_dir), "release", "ssoproof")
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    if no_build:
        die(f"ssoproof binary not found at {path} (and --no-build given); "
            "build it with `cargo build --release -p ssoproof` or pass --ssoproof PATH")
    cargo = shutil.which("cargo")
    if not cargo:
        die(f"ssoproof binary not found at {path} and `cargo` is not on PATH to build it; "
            "pass --ssoproof PATH")
    say(f"ssoproof: {path} missing; running `cargo build --release -p ssoproof` ...")
    r = subprocess.run([cargo, "build", "--release", "-p", "ssoproof"], cwd=REPO)
    if r.returncode != 0:
        die(f"`cargo build --release -p ssoproof` failed ({describe_exit(r.returncode)}); "
            "cannot benchmark without the ssoproof binary")
    if not os.path.isfile(path):
        die(f"cargo build succeeded but {path} does not exist (is the package/binary named ssoproof?)")
    return path


def norm_file(corpus: str, f: str) -> str:
    if os.path.isabs(f):
        f = os.path.relpath(f, corpus)
    return os.path.normpath(f).replace(os.sep, "/")


def print_list(title: str, items: list[tuple]) -> None:
    say(f"  {title}: {len(items)}")
    for it in items[:LIST_MAX]:
        say("    " + "  ".join(str(x) for x in it))
    if len(items) > LIST_MAX:
        say(f"    ... and {len(items) - LIST_MAX} more")


def lint_command(binary: str) -> list[str]:
    """`ssoproof lint ...`, or the same arguments to the standalone `ssoproof-lint` binary."""
    sub = [] if os.path.basename(binary).startswith("ssoproof-lint") else ["lint"]
    return [binary, *sub, "--select", "link", "--format", "json", "docs"]


def check_ssoproof(binary: str, corpus: str, expected: list[dict], n_files: int) -> tuple[bool, dict]:
    cmd = lint_command(binary)
    say(f"\n== ssoproof correctness: {' '.join(cmd)}  (cwd {os.path.relpath(corpus, REPO)})")
    r = subprocess.run(cmd, cwd=corpus, capture_output=True)
    stderr = r.stderr.decode("utf-8", "replace").strip()
    if r.returncode not in (0, 1):
        say(f"  CRASH: ssoproof {describe_exit(r.returncode)}")
        if stderr:
            say("  stderr: " + stderr[-2000:])
        return False, {"crashed": True}
    try:
        doc = json.loads(r.stdout.decode("utf-8"))
        diags = doc["diagnostics"]
    except (ValueError, KeyError, TypeError) as e:
        say(f"  FAIL: could not parse ssoproof JSON output ({e}); first bytes: {r.stdout[:300]!r}")
        if stderr:
            say("  stderr: " + stderr[-2000:])
        return False, {"crashed": True}

    want = {(e["file"], e["line"], e["rule"], e["target"]) for e in expected}
    got, warnings, malformed = set(), [], []
    for d in diags:
        try:
            key = (norm_file(corpus, d["file"]), int(d["line"]), d["rule"], d.get("target"))
        except (KeyError, TypeError, ValueError):
            malformed.append(d)
            continue
        if d.get("severity") == "error":
            got.add(key)
        else:
            warnings.append(key + (d.get("message", ""),))
    found = want & got
    missed = sorted(want - got)
    false_pos = sorted(got - want, key=lambda k: tuple(str(x) for x in k))
    ok = True
    say(f"  files_checked: {doc.get('files_checked')} (corpus has {n_files} Markdown files)")
    if doc.get("files_checked") != n_files:
        say("  NOTE: files_checked differs from the number of Markdown files in the corpus")
    say(f"  expected errors: {len(want)}   found: {len(found)}")
    print_list("missed", missed)
    print_list("false positives", false_pos)
    if warnings:
        print_list("warnings (the corpus should produce none)", sorted(warnings, key=str))
    if malformed:
        ok = False
        say(f"  FAIL: {len(malformed)} diagnostics lack file/line/rule, e.g. {malformed[0]}")
    want_code = 1 if got else 0
    if r.returncode != want_code:
        ok = False
        say(f"  FAIL: exit status {r.returncode}, expected {want_code} "
            f"({'errors present' if got else 'no errors'})")
    if missed or false_pos:
        ok = False
    say("  correctness: " + ("OK" if ok else "FAILED"))
    return ok, {"missed": len(missed), "fp": len(false_pos)}


# --------------------------------------------------------------------------- lychee


def find_lychee(explicit: str | None) -> str | None:
    if explicit:  # an explicit --lychee is authoritative
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return os.path.abspath(explicit)
        say(f"\nlychee: --lychee {explicit} is not an executable file — skipped")
        return None
    for cand in (os.environ.get("LYCHEE"), shutil.which("lychee"), LYCHEE_FALLBACK):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    return None


def lychee_command(lychee: str, corpus: str) -> tuple[list[str], str]:
    """Build the command, adapting to the flags this lychee version has."""
    help_text = subprocess.run([lychee, "--help"], capture_output=True, text=True).stdout
    version = subprocess.run([lychee, "--version"], capture_output=True, text=True).stdout.strip()
    cmd = [lychee, "--offline", "--include-fragments", "--no-progress"]
    for flag in ("--offline", "--include-fragments", "--no-progress", "--root-dir", "--format"):
        if flag not in help_text:
            say(f"lychee: WARNING: `{flag}` not in `lychee --help`; the command may fail")
    if "--no-ignore" in help_text:
        # defensive: the corpus lives under target/, which the repo's .gitignore lists
        # (0.24.2 does walk an explicitly given directory anyway)
        cmd.append("--no-ignore")
    cmd += ["--root-dir", corpus, "--format", "json", "docs"]
    return cmd, version


def lychee_failures(raw: str, corpus: str) -> tuple[list[tuple], dict]:
    """Parse `lychee --format json` stdout into failures (file, line|None, abs path, fragment,
    url, status text). lychee 0.24 reports a 1-based `span.line` per failure; older
    versions have no span, and then matching falls back to file + target only."""
    start = raw.find("{")
    data = json.loads(raw[start:]) if start >= 0 else {}
    fmap = data.get("error_map") or data.get("fail_map") or {}
    out = []
    for source, entries in fmap.items():
        src = source
        if src.startswith("file://"):
            src = unquote(urlsplit(src).path)
        src = norm_file(corpus, src)
        for e in entries:
            if not isinstance(e, dict):
                e = {"url": str(e)}
            url = e.get("url", "")
            span = e.get("span") or {}
            line = span.get("line") if isinstance(span, dict) else None
            status = e.get("status") or {}
            text = status.get("text", "") if isinstance(status, dict) else str(status)
            parts = urlsplit(url)
            path = os.path.normpath(unquote(parts.path)) if parts.scheme == "file" else url
            out.append((src, line, path, unquote(parts.fragment), url, text))
    return out, data


def expected_key(corpus: str, e: dict) -> tuple[str, str, str]:
    path, _, frag = e["target"].partition("#")
    if not path:
        resolved = os.path.join(corpus, e["file"])
    elif path.startswith("/"):
        resolved = os.path.join(corpus, unquote(path[1:]))
    else:
        resolved = os.path.join(corpus, os.path.dirname(e["file"]), unquote(path))
    return e["file"], os.path.normpath(resolved), unquote(frag)


def check_lychee(lychee: str, corpus: str, expected: list[dict], runs: int) -> dict:
    cmd, version = lychee_command(lychee, corpus)
    shown = " ".join(c if c != corpus else "<corpus>" for c in cmd)
    say(f"\n== lychee ({version or 'unknown version'}): {shown}")
    r = subprocess.run(cmd, cwd=corpus, capture_output=True, text=True)
    if r.returncode not in (0, 2):
        say(f"  lychee {describe_exit(r.returncode)}; stderr: {r.stderr.strip()[-1500:]}")
        return {"crashed": f"lychee {describe_exit(r.returncode)}"}
    try:
        fails, data = lychee_failures(r.stdout, corpus)
    except ValueError as e:
        say(f"  could not parse lychee JSON output ({e}); first bytes: {r.stdout[:300]!r}")
        fails, data = [], {}
    for k in ("total", "successful", "errors", "excludes", "unsupported", "unknown", "timeouts"):
        if k in data:
            say(f"  lychee {k}: {data[k]}")

    have_lines = bool(fails) and all(f[1] is not None for f in fails)
    ln = (lambda x: x) if have_lines else (lambda x: None)
    by_path = {(f, ln(l), p) for f, l, p, _, _, _ in fails}
    by_frag = {(f, ln(l), p, fr) for f, l, p, fr, _, _ in fails}
    reported, missed, exp_paths, exp_frags = [], [], set(), set()
    for e in expected:
        if e["rule"] == "link/undefined-reference":
            missed.append(e)
            continue
        f, p, fr = expected_key(corpus, e)
        if e["rule"] == "link/missing-file":
            key = (f, ln(e["line"]), p)
            exp_paths.add(key)
            hit = key in by_path
        else:
            key = (f, ln(e["line"]), p, fr)
            exp_frags.add(key)
            hit = key in by_frag
        (reported if hit else missed).append(e)
    extra = sorted({(f, l or 0, url, text) for f, l, p, fr, url, text in fails
                    if (f, ln(l), p) not in exp_paths and (f, ln(l), p, fr) not in exp_frags})
    by_rule: dict[str, list[int]] = {}
    for e in expected:
        by_rule.setdefault(e["rule"], [0, 0])[1] += 1
    for e in reported:
        by_rule[e["rule"]][0] += 1
    how = "file + line + resolved path + fragment" if have_lines else \
        "file + resolved path + fragment (no line numbers in this lychee's output)"
    say(f"  lychee failures reported: {len(fails)} (matched on {how})")
    say(f"  expected broken links reported by lychee: {len(reported)} / {len(expected)}")
    for rule, (hit, tot) in sorted(by_rule.items()):
        say(f"    {rule}: {hit}/{tot}")
    frag_missed = [e for e in missed if e["rule"] != "link/undefined-reference"]
    if frag_missed:
        say(f"  broken links lychee accepted ({len(frag_missed)}; undefined references not counted):")
        for e in frag_missed[:LIST_MAX]:
            say(f"    {e['file']}:{e['line']}  {e['rule']}  {e['target']}")
    reasons: dict[str, int] = {}
    for x in extra:
        reasons[x[3]] = reasons.get(x[3], 0) + 1
    print_list("extra failures (valid on GitHub, reported by lychee)", extra)
    if reasons:
        say("    by lychee status: " + ", ".join(f"{k!r}: {v}" for k, v in sorted(reasons.items())))

    say(f"\n== lychee speed ({runs} runs)")
    res = bench("lychee", cmd, corpus, runs, (0, 2))
    res.update({"missed": len(missed), "fp": len(extra), "version": version})
    return res


# --------------------------------------------------------------------------- main


def count_md(corpus: str) -> int:
    n = 0
    for _dp, _dn, fns in os.walk(os.path.join(corpus, "docs")):
        n += sum(1 for f in fns if f.endswith(".md"))
    return n


def fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=2000, help="corpus size in Markdown files (default 2000)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per tool (default 5)")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    ap.add_argument("--ssoproof", help="ssoproof binary (default: target/release/ssoproof, built if missing)")
    ap.add_argument("--lychee", help="lychee binary (default: $LYCHEE, `lychee` on PATH, "
                                     f"{LYCHEE_FALLBACK})")
    ap.add_argument("--no-build", action="store_true", help="never run cargo; fail if the binary is missing")
    ap.add_argument("--skip-ssoproof", action="store_true",
                    help="benchmark lychee only (e.g. before ssoproof builds)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    corpus = ensure_corpus(args.files, args.seed)
    expected = load_expected(corpus)
    n_md = count_md(corpus)
    say(f"corpus: {n_md} Markdown files, {len(expected)} expected errors")

    rows = []
    status = 0
    sso = None
    if not args.skip_ssoproof:
        binary = find_ssoproof(args.ssoproof, args.no_build)
        ver = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
        say(f"ssoproof: {binary} ({ver or 'version unknown'})")
        ok, corr = check_ssoproof(binary, corpus, expected, n_md)
        if corr.get("crashed"):
            say("\nssoproof crashed or produced unusable output: no timing")
            return 1
        if not ok:
            status = 1
        say(f"\n== ssoproof speed ({args.runs} runs)")
        cmd = lint_command(binary)
        sso = bench("ssoproof", cmd, corpus, args.runs, (0, 1))
        if "crashed" in sso:
            say(f"  CRASH during timing: {sso['crashed']}")
            return 1
        sso.update(corr)
        rows.append(("ssoproof", sso))

    lychee = find_lychee(args.lychee)
    ly = None
    if lychee is None:
        if not args.lychee:
            say("\nlychee: not installed — skipped (cargo install lychee --locked takes ~12 min)")
    else:
        ly = check_lychee(lychee, corpus, expected, args.runs)
        if "crashed" in ly:
            say(f"lychee: {ly['crashed']} — excluded from the summary")
            ly = None
        else:
            rows.append(("lychee", ly))

    say(f"\n== summary ({n_md} files, {len(expected)} expected errors, {args.runs} runs)")
    head = f"{'tool':<10} {'median s':>9} {'min s':>8} {'peak MB':>8} {'missed':>7} {'false pos':>9}"
    say(head)
    say("-" * len(head))
    for name, r in rows:
        say(f"{name:<10} {fmt(r.get('median'), '9.3f')} {fmt(r.get('min'), '8.3f')} "
            f"{fmt(r.get('peak_mb'), '8.1f')} {r.get('missed', '-'):>7} {r.get('fp', '-'):>9}")
    if sso and ly:
        sp = ly["median"] / sso["median"]
        mem = ly["peak_mb"] / sso["peak_mb"]
        say(f"speed ratio  (lychee median / ssoproof median): {sp:.2f}x "
            f"-> ssoproof is {sp if sp >= 1 else 1 / sp:.2f}x {'faster' if sp >= 1 else 'slower'}")
        say(f"memory ratio (lychee peak / ssoproof peak):     {mem:.2f}x "
            f"-> ssoproof uses {mem if mem >= 1 else 1 / mem:.2f}x {'less' if mem >= 1 else 'more'} memory")
    if sso:
        say("result: " + ("PASS" if status == 0 else "FAIL (ssoproof correctness)"))
    return status


if __name__ == "__main__":
    sys.exit(main())
