#!/usr/bin/env python3
"""A nightly smoke run's cost on one machine, against the emulator posing as a live tenant.

Starts `ssoproof serve idp` with the Keycloak fixture realm, adds generated users through the
admin API (`POST /_ssoproof/users`) up to --users in all, points the live backend at it (the
`SSOPROOF_LIVE_*` variables, each runbook user's password among them) and measures:
  1. `ssoproof verify --backend live`: the whole run (lint, every feature; the scenarios the live
     backend cannot run are skipped with the reason), and how many scenarios passed;
  2. one `ssoproof login` per user (discovery, authorize, form, code exchange, ID-token checks,
     userinfo): every user of the tenant signing in once, as a smoke run's login per user does.

Usage: python3 scripts/bench-live-smoke.py [--users 50] [--bin target/release/ssoproof]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
REALM_FILE = os.path.join(ROOT, "fixtures", "keycloak-realm.json")
# The realm's groups, dealt round the generated users so their tokens carry a groups claim.
GROUPS = ["/acme/admins", "/acme/engineers", "/acme/contractors"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, deadline_s=30.0):
    start = time.perf_counter()
    while time.perf_counter() - start < deadline_s:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.01)
    raise SystemExit(f"bench: {url} did not answer within {deadline_s} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--bin", default=os.path.join(TARGET, "release", "ssoproof"))
    args = parser.parse_args()
    if not os.access(args.bin, os.X_OK):
        raise SystemExit(f"bench: no ssoproof at {args.bin}: cargo build --release --bin ssoproof, or --bin PATH")

    with open(REALM_FILE, encoding="utf-8") as f:
        realm = json.load(f)
    client = next(c for c in realm["clients"] if c["clientId"] == "acme-app")
    # The runbook's users, every one with a password (the live backend's scenarios sign them in).
    passwords = {u["username"]: u["credentials"][0]["value"] for u in realm["users"]}
    # Those that can sign in (the realm has a disabled user for the refusal scenario).
    users = {u["username"]: passwords[u["username"]] for u in realm["users"] if u.get("enabled", True)}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    issuer = f"{base}/realms/{realm['realm']}"
    server = subprocess.Popen(
        [args.bin, "serve", "idp", "--realm", REALM_FILE, "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"{issuer}/.well-known/openid-configuration")
        for i in range(len(passwords), args.users):
            name = f"user{i:03}"
            body = json.dumps({"username": name, "password": f"{name}-password",
                               "email": f"{name}@example.com",
                               "groups": [GROUPS[i % len(GROUPS)]]}).encode()
            request = urllib.request.Request(f"{base}/_ssoproof/users", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as r:
                assert r.status == 201, r.status
            users[name] = f"{name}-password"

        env = dict(os.environ)
        env.update({
            "SSOPROOF_LIVE_ISSUER": issuer,
            "SSOPROOF_LIVE_CLIENT_ID": client["clientId"],
            "SSOPROOF_LIVE_CLIENT_SECRET": client["secret"],
        })
        for name, password in passwords.items():
            env["SSOPROOF_LIVE_PASSWORD_" + name.upper()] = password
        for user in realm["users"]:
            env["SSOPROOF_LIVE_USER_ID_" + user["username"].upper()] = user["id"]
        start = time.perf_counter()
        run = subprocess.run([args.bin, "verify", "--backend", "live", "--format", "json"],
                             cwd=ROOT, env=env, capture_output=True, text=True)
        verify_s = time.perf_counter() - start
        report = json.loads(run.stdout)
        counts = report["scenarios"]

        start = time.perf_counter()
        for name, password in users.items():
            login = subprocess.run(
                [args.bin, "login", "--issuer", issuer, "--client-id", client["clientId"],
                 "--client-secret", client["secret"], "--username", name, "--password", password,
                 "--default-role", "viewer"],
                cwd=ROOT, capture_output=True, text=True)
            if login.returncode != 0:
                raise SystemExit(f"bench: login as {name} failed: {login.stdout.strip()} {login.stderr.strip()}")
        logins_s = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait()

    print(f"verify --backend live: {verify_s:.2f} s, outcome {report['outcome']}, "
          f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    print(f"{len(users)} users, one ssoproof login each: {logins_s:.2f} s "
          f"({logins_s / len(users) * 1000:.0f} ms per login)")
    print(f"total: {verify_s + logins_s:.2f} s")
    return 0 if report["outcome"] == "passed" else 1


if __name__ == "__main__":
    sys.exit(main())
