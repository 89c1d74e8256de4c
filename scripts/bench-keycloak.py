#!/usr/bin/env python3
"""How long a real Keycloak takes to start here, against the embedded emulator, in one run.

    python3 scripts/bench-keycloak.py [--runs 2] [--cold] [--verify]

Needs the distribution `scripts/fetch-keycloak` leaves in the cache ($SSOPROOF_CACHE, else
~/.cache/ssoproof) and a built `ssoproof` (target/release or target/debug; builds the debug
one when neither exists). Measures, as wall time from spawning the process to the first
answer that says "ready":

1. Keycloak `kc.sh start --optimized` (after `kc.sh build`), to `/health/ready` = 200;
2. with --cold: `kc.sh build` on a scratch copy of the distribution, which is what a cold
   start adds (a start without --optimized on an unbuilt distribution builds first);
3. the emulator, `ssoproof serve idp --realm fixtures/keycloak-realm.json`, to its discovery
   document = 200;
4. with --verify: `ssoproof verify --backend keycloak` and `--backend emulator`.

Each Keycloak gets an in-memory database and a throwaway home, as the backend starts it.
Wall times on a shared 2-core machine are noisy; the ratio in the same run is the figure to
quote (goal: the emulator starts at least 100 times faster). Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSION = "26.7.3"
TIMEOUT = 300


def say(message: str) -> None:
    print(f"bench-keycloak: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, start: float) -> float:
    while time.monotonic() - start < TIMEOUT:
        if proc.poll() is not None:
            raise SystemExit(f"bench-keycloak: the process exited ({proc.returncode}) before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"bench-keycloak: {url} did not answer within {TIMEOUT} s")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, 9)


def keycloak_start(dist: str, java: str) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-kc-") as home:
        for part in ("conf", "lib", "providers", "themes"):
            os.symlink(os.path.join(dist, part), os.path.join(home, part))
        os.makedirs(os.path.join(home, "data", "import"))
        shutil.copy(os.path.join(REPO, "fixtures", "keycloak-realm.json"),
                    os.path.join(home, "data", "import", "acme-realm.json"))
        http, management = free_port(), free_port()
        args = [os.path.join(dist, "bin", "kc.sh"), f"-Dkc.home.dir={home}", "start", "--optimized",
                "--import-realm", "--http-enabled=true", "--hostname-strict=false", "--http-host=127.0.0.1",
                "--cache=local", f"--http-port={http}", f"--http-management-port={management}"]
        env = dict(os.environ, JAVA_HOME=java, KC_BOOTSTRAP_ADMIN_USERNAME="admin",
                   KC_BOOTSTRAP_ADMIN_PASSWORD="bench-only-password")
        start = time.monotonic()
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            return wait_for(f"http://127.0.0.1:{management}/health/ready", proc, start)
        finally:
            stop(proc)


def keycloak_build(dist: str, java: str) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-kc-build-") as scratch:
        copy = os.path.join(scratch, "keycloak")
        shutil.copytree(dist, copy, symlinks=True)
        start = time.monotonic()
        subprocess.run([os.path.join(copy, "bin", "kc.sh"), "build", "--db=dev-mem", "--health-enabled=true"],
                       env=dict(os.environ, JAVA_HOME=java), stdout=subprocess.DEVNULL, check=True)
        return time.monotonic() - start


def ssoproof_binary() -> str:
    for profile in ("release", "debug"):
        path = os.path.join(REPO, "target", profile, "ssoproof")
        if os.access(path, os.X_OK):
            return path
    subprocess.run(["cargo", "build", "--bin", "ssoproof"], cwd=REPO, check=True)
    return os.path.join(REPO, "target", "debug", "ssoproof")


def emulator_start(binary: str) -> float:
    port = free_port()
    start = time.monotonic()
    proc = subprocess.Popen([binary, "serve", "idp", "--realm", "fixtures/keycloak-realm.json", "--port", str(port)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        return wait_for(f"http://127.0.0.1:{port}/realms/acme/.well-known/openid-configuration", proc, start)
    finally:
        stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args()
    cache = os.environ.get("SSOPROOF_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ssoproof")
    dist = os.environ.get("SSOPROOF_KEYCLOAK_HOME") or os.path.join(cache, f"keycloak-{VERSION}")
    if not os.path.isfile(os.path.join(dist, ".ssoproof-java-home")):
        raise SystemExit(f"bench-keycloak: no fetched Keycloak in {dist}: run scripts/fetch-keycloak")
    java = open(os.path.join(dist, ".ssoproof-java-home")).read().strip()
    binary = ssoproof_binary()
    rows = []
    say(f"load average before: {os.getloadavg()[0]:.2f}")
    emulator = [emulator_start(binary) for _ in range(max(args.runs, 3))]
    rows.append(("emulator start (serve idp → discovery 200)", emulator))
    optimized = [keycloak_start(dist, java) for _ in range(args.runs)]
    rows.append(("Keycloak start --optimized → /health/ready", optimized))
    if args.cold:
        rows.append(("kc.sh build (what a cold start adds)", [keycloak_build(dist, java)]))
    if args.verify:
        for backend in ("keycloak", "emulator"):
            start = time.monotonic()
            subprocess.run([binary, "verify", "--backend", backend], cwd=REPO, stdout=subprocess.DEVNULL,
                           env=dict(os.environ, SSOPROOF_CACHE=cache))
            rows.append((f"ssoproof verify --backend {backend}", [time.monotonic() - start]))
    for name, times in rows:
        print(f"{name:55} median {statistics.median(times):8.3f} s  ({', '.join(f'{t:.3f}' for t in times)})")
    ratio = statistics.median(optimized) / statistics.median(emulator)
    print(f"the emulator starts {ratio:.0f} times faster than Keycloak --optimized (goal: at least 100)")
    say(f"load average after: {os.getloadavg()[0]:.2f}")
    sys.exit(0 if ratio >= 100 else 3)


if __name__ == "__main__":
    main()
