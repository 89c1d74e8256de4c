#!/usr/bin/env python3
"""How long a full `ssoproof probe app` run (every case) takes against oauth2-proxy.

    python3 scripts/bench-probe-app.py [--runs 5] [--bin target/release/ssoproof]

Starts `ssoproof serve idp` with the built-in Keycloak realm on a free loopback port, then
oauth2-proxy v7.15.6 in browser-login mode trusting it (`SSOPROOF_OAUTH2_PROXY`, else the path
`scripts/interop/oauth2-proxy/install` builds to), and times `ssoproof probe app --idp-url …`
from spawn to exit: every case's fresh browser session through oauth2-proxy, the emulator's
login form and the callback, the faults injected over the admin API, and the whoami calls.
Goal: under 10 s. Wall times on a shared 2-core machine are noisy; quote the median. Python
3.11 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REALM = ROOT / "fixtures/keycloak-realm.json"
VERSION = "v7.15.6"


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


def oauth2_proxy() -> Path:
    named = os.environ.get("SSOPROOF_OAUTH2_PROXY")
    if named:
        return Path(named)
    cache = os.environ.get("SSOPROOF_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ssoproof"
    )
    path = Path(cache) / f"oauth2-proxy-{VERSION}/bin/oauth2-proxy"
    if not path.is_file():
        sys.exit(f"no oauth2-proxy at {path}; run scripts/interop/oauth2-proxy/install or set SSOPROOF_OAUTH2_PROXY")
    return path


def wait_for(url: str, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited ({process.returncode}) before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{name} was not ready within 20 s ({url})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bin", help="the ssoproof binary (default: target/release, else target/debug)")
    args = parser.parse_args()
    ssoproof = binary(args.bin)
    realm = json.loads(REALM.read_text())
    client_secret = next(c["secret"] for c in realm["clients"] if c["clientId"] == "acme-app")
    idp_port, proxy_port = free_port(), free_port()
    idp_base = f"http://127.0.0.1:{idp_port}"
    issuer = f"{idp_base}/realms/acme"
    proxy_base = f"http://127.0.0.1:{proxy_port}"
    idp = subprocess.Popen(
        [str(ssoproof), "serve", "idp", "--realm", str(REALM), "--port", str(idp_port)],
        stdout=subprocess.DEVNULL,
    )
    proxy = None
    try:
        wait_for(f"{issuer}/.well-known/openid-configuration", idp, "serve idp")
        env = dict(
            os.environ,
            OAUTH2_PROXY_CLIENT_SECRET=client_secret,
            OAUTH2_PROXY_COOKIE_SECRET=secrets.token_hex(16),
        )
        proxy = subprocess.Popen(
            [
                str(oauth2_proxy()), "--provider=oidc", f"--oidc-issuer-url={issuer}",
                "--client-id=acme-app", "--email-domain=*", "--cookie-secure=false",
                f"--http-address=127.0.0.1:{proxy_port}",
                f"--redirect-url={proxy_base}/oauth2/callback", "--upstream=static://200",
                "--skip-provider-button", "--code-challenge-method=S256",
                "--allowed-group=/acme/admins", "--allowed-group=/acme/engineers",
                "--scope=openid email profile",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(f"{proxy_base}/ping", proxy, "oauth2-proxy")
        command = [
            str(ssoproof), "probe", "app", "--idp-url", idp_base, "--realm", str(REALM),
            "--login-url", f"{proxy_base}/oauth2/start",
            "--whoami-url", f"{proxy_base}/oauth2/userinfo", "--role-pointer", "/groups/0",
            "--user", "alice:/acme/admins", "--user", "bob:/acme/engineers", "--user", "dave:-",
            "--format", "json",
        ]
        times = []
        for run in range(args.runs):
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            if done.returncode not in (0, 1):
                sys.exit(f"probe app failed ({done.returncode}): {done.stderr}")
            cases = json.loads(done.stdout)["cases"]
            errors = [c["id"] for c in cases if c["observed"] == "error"]
            if errors:
                sys.exit(f"probe app could not decide {errors}: {done.stdout}")
            times.append(elapsed)
            print(f"run {run + 1}: {elapsed:.3f} s, {len(cases)} cases")
    finally:
        for process in (proxy, idp):
            if process is not None:
                process.kill()
                process.wait()
    shown = ssoproof.relative_to(ROOT) if ssoproof.is_relative_to(ROOT) else ssoproof
    print(
        f"probe app against oauth2-proxy {VERSION} ({shown}): median {statistics.median(times):.3f} s, "
        f"min {min(times):.3f} s over {len(times)} runs (goal < 10 s)"
    )


if __name__ == "__main__":
    main()
