#!/usr/bin/env python3
"""How long a full `ssoproof probe api` run (every case) takes against the jose API.

    python3 scripts/bench-probe-api.py [--runs 5] [--bin target/release/ssoproof]

Starts `scripts/interop/probe-targets/bearer-api.js` (Node 20+, after `npm ci` in that folder)
trusting the emulator's issuer on a fixed loopback port, then times `ssoproof probe api` from
spawn to exit: the emulator's start, minting and forging every token, the probe's own key, the
second issuer, every request and the rotation. The API is restarted before each run, so that
each starts with a cold JWKS cache as the first run does. Goal: under 2 s. Wall times on a
shared 2-core machine are noisy; quote the median. Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "scripts/interop/probe-targets/bearer-api.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary(chosen: str | None) -> Path:
    if chosen:
        return Path(chosen)
    for profile in ("release", "debug"):
        candidate = ROOT / "target" / profile / "ssoproof"
        if candidate.exists():
            return candidate
    subprocess.run(["cargo", "build", "-p", "ssoproof"], cwd=ROOT, check=True)
    return ROOT / "target/debug/ssoproof"


def start_api(issuer: str) -> tuple[subprocess.Popen, str]:
    env = dict(
        os.environ,
        ISSUER=issuer,
        AUDIENCE="acme-api",
        MODEL_GROUPS=json.dumps({"gpt-4": "AI-Power-Users"}),
        PORT="0",
    )
    api = subprocess.Popen(
        ["node", str(API)], cwd=API.parent, env=env, stdout=subprocess.PIPE, text=True
    )
    line = api.stdout.readline() if api.stdout else ""
    if not line.startswith("listening on "):
        api.kill()
        sys.exit(f"bearer-api.js did not start (it printed {line!r}); run `npm ci` in {API.parent}")
    return api, line.split()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bin", help="the ssoproof binary (default: target/release, else target/debug)")
    args = parser.parse_args()
    ssoproof = binary(args.bin)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/realms/acme"
    times = []
    for run in range(args.runs):
        api, base = start_api(issuer)
        try:
            command = [
                str(ssoproof), "probe", "api",
                "--url", f"{base}/v1/models/gpt-4", "--method", "POST", "--body", "{}",
                "--audience", "acme-api", "--identity-header", "X-Attach-User",
                "--allow-group", "AI-Power-Users",
                "--idp-bind", f"127.0.0.1:{port}", "--format", "json",
            ]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
        finally:
            api.kill()
            api.wait()
        if done.returncode not in (0, 1):
            sys.exit(f"probe api failed ({done.returncode}): {done.stderr}")
        cases = json.loads(done.stdout)["cases"]
        times.append(elapsed)
        print(f"run {run + 1}: {elapsed:.3f} s, {len(cases)} cases")
    print(
        f"probe api against the jose API ({ssoproof.relative_to(ROOT) if ssoproof.is_relative_to(ROOT) else ssoproof}): "
        f"median {statistics.median(times):.3f} s, min {min(times):.3f} s over {len(times)} runs (goal < 2 s)"
    )


if __name__ == "__main__":
    main()
