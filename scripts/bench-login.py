#!/usr/bin/env python3
"""Speed of the IdP emulator and the login round trip, side by side with node-oidc-provider.

Measures, on this machine:
  1. `ssoproof serve idp`: time from process start to the first discovery answer;
  2. `ssoproof login` against the emulator: the whole CLI round trip (process start, discovery,
     authorize, HTML form, code exchange, ID-token validation, userinfo), per run;
  3. the same `ssoproof login` against node-oidc-provider 8.x (scripts/oidc-provider), and its
     own start-up time to first discovery answer;
  4. the feature set (`cargo test --test features`, already built): wall time of the test binary.
The in-process login (no process start) is `cargo bench --bench login`.

Usage: python3 scripts/bench-login.py [--runs 20] [--no-build] [--skip-node]
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "ssoproof")
REALM = os.path.join(ROOT, "fixtures", "keycloak-realm.json")
NODE_DIR = os.path.join(ROOT, "scripts", "oidc-provider")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, deadline_s=20.0):
    """Polls `url` until it answers 200; returns the seconds it took."""
    start = time.perf_counter()
    while time.perf_counter() - start < deadline_s:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.0005)
    raise SystemExit(f"bench: {url} did not answer within {deadline_s} s")


def startup(cmd, url, runs):
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        try:
            wait_for(url)
            samples.append(time.perf_counter() - t)
        finally:
            proc.terminate()
            proc.wait()
    return samples


def logins(issuer, runs, extra):
    cmd = [BIN, "login", "--issuer", issuer, "--client-id", "acme-app", "--client-secret", "acme-app-secret",
           "--username", "alice", "--password", "alice-password", "--role", "/acme/admins=admin",
           "--format", "json", *extra]
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        samples.append(time.perf_counter() - t)
        if out.returncode != 0:
            raise SystemExit(f"bench: login against {issuer} failed: {out.stdout}{out.stderr}")
        if json.loads(out.stdout)["outcome"] != "ok":
            raise SystemExit(f"bench: unexpected login outcome: {out.stdout}")
    return samples


def ms(samples):
    return f"{statistics.median(samples) * 1000:8.1f} ms (min {min(samples) * 1000:.1f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--skip-node", action="store_true")
    args = ap.parse_args()

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    rows = []

    port = free_port()
    issuer = f"http://127.0.0.1:{port}/realms/acme"
    serve = [BIN, "serve", "idp", "--realm", REALM, "--port", str(port)]
    rows.append(("ssoproof serve idp: start → discovery", ms(startup(serve, issuer + "/.well-known/openid-configuration", args.runs))))

    proc = subprocess.Popen(serve, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        wait_for(issuer + "/.well-known/openid-configuration")
        rows.append(("ssoproof login → emulator (CLI round trip)", ms(logins(issuer, args.runs, []))))
    finally:
        proc.terminate()
        proc.wait()

    node = shutil.which("node")
    if args.skip_node or not node:
        rows.append(("node-oidc-provider", "skipped (" + ("--skip-node" if args.skip_node else "node not installed") + ")"))
    else:
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules")):
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=NODE_DIR, check=True)
        nport = free_port()
        nissuer = f"http://127.0.0.1:{nport}"
        ncmd = [node, os.path.join(NODE_DIR, "server.js"), str(nport)]
        rows.append(("node-oidc-provider: start → discovery", ms(startup(ncmd, nissuer + "/.well-known/openid-configuration", max(5, args.runs // 4)))))
        nproc = subprocess.Popen(ncmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=NODE_DIR)
        try:
            wait_for(nissuer + "/.well-known/openid-configuration")
            rows.append(("ssoproof login → node-oidc-provider", ms(logins(nissuer, args.runs, ["--scope", "openid email groups"]))))
        finally:
            nproc.terminate()
            nproc.wait()

    built = subprocess.run(["cargo", "test", "--test", "features", "--no-run", "--message-format=json", "--quiet"],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    artifacts = [json.loads(line) for line in built.stdout.splitlines() if line.startswith("{")]
    exe = next(a["executable"] for a in artifacts
               if a.get("reason") == "compiler-artifact" and a["target"]["name"] == "features"
               and a.get("executable"))
    samples = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([exe], cwd=os.path.join(ROOT, "harness"), capture_output=True, check=True)
        samples.append(time.perf_counter() - t)
    rows.append(("feature set (cargo test --test features, built)", ms(samples)))

    width = max(len(r[0]) for r in rows)
    for name, figure in rows:
        print(f"{name:<{width}}  {figure}")


if __name__ == "__main__":
    sys.exit(main())
