#!/usr/bin/env python3
"""A nightly smoke run's cost on one machine, against the emulator posing as a live tenant.

Starts `ssoproof serve idp` with the Keycloak fixture realm, adds generated users through the
admin API (`POST /_ssoproof/users`) up to --users in all, points the live backend at it (the
`SSOPROOF_LIVE_*` variables, each runbook user's password among them) and measures:
  1. `ssoproof verify --backend live`: the whole run (lint, every feature; the scenarios the live
     backend cannot run are skipped with the reason), and how many scenarios passed;
  2. one `ssoproof login` per user (discovery, authorize, form, code exchange, ID-token checks,
     userinfo): every user of the tenant signing in once, as a smoke run's login per user does.

Then the same through a tenant profile: every vendor persona (Okta, Auth0, Entra ID, Cognito,
authentik) served with `serve idp --persona`, the Okta one with generated users up to --users,
configured as the tenants of a live.yaml (users with their logins, groups and roles), and
  3. `ssoproof verify --backend live --profiles live.yaml`: each tenant's vendor `@live`
     scenarios, reported per tenant.

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


# (persona, client id, client secret, users type their e-mail) as in fixtures/idp/*.yaml.
PERSONAS = [
    ("okta", "0oa1b2c3d4e5f6g7h8i9", "acme-okta-client-secret", True),
    ("auth0", "8cA0b1c2d3e4f5g6h7i8j9k0l1m2n3o4", "acme-auth0-client-secret", True),
    ("entra-id", "44444444-4444-4444-4444-444444444444", "acme-entra-client-secret", True),
    ("cognito", "4jt4a1b2c3d4e5f6g7h8i9j0k1", "acme-cognito-client-secret", False),
    ("authentik", "acme-authentik-client", "acme-authentik-client-secret", False),
]
# The runbooks' users and what each promises (role; groups only where they are names).
PROMISES = {"alice": ("acme-admins", "admin"), "bob": ("acme-engineers", "user"),
            "carol": (None, "admin"), "dave": ("acme-contractors", None)}


def okta_with_users(path, total):
    """fixtures/idp/okta.yaml with generated users appended to its `users:` list, up to `total`."""
    with open(os.path.join(ROOT, "fixtures", "idp", "okta.yaml"), encoding="utf-8") as f:
        text = f.read()
    extra = "".join(
        f"  - login: user{i:03}@example.com\n    first_name: User\n    last_name: N{i:03}\n"
        f"    password: user{i:03}-password\n    groups: [{['acme-admins', 'acme-engineers', 'acme-contractors'][i % 3]}]\n"
        for i in range(6, total))
    marker = "\n# Applications"
    assert marker in text, "okta.yaml changed shape: update the bench"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(marker, "\n" + extra + marker, 1))


def tenant_profiles(bin_path, total, workdir):
    """Serves every persona, writes live.yaml for them, and times verify --backend live on it."""
    servers, env, tenants = [], dict(os.environ), []
    okta_file = os.path.join(workdir, "okta-50.yaml")
    okta_with_users(okta_file, total)
    try:
        for persona, client_id, secret, email in PERSONAS:
            port = free_port()
            file = okta_file if persona == "okta" else os.path.join(ROOT, "fixtures", "idp", f"{persona}.yaml")
            servers.append(subprocess.Popen(
                [bin_path, "serve", "idp", "--persona", file, "--port", str(port)],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
            issuer = None
            for line in servers[-1].stdout:
                if line.strip().startswith("issuer"):
                    issuer = line.split()[1]
                    break
            if issuer is None:
                raise SystemExit(f"bench: serve idp --persona {persona} printed no issuer")
            var = persona.upper().replace("-", "_")
            env[f"{var}_SECRET"] = secret
            users = []
            for name, (group, role) in PROMISES.items():
                env[f"{var}_{name.upper()}"] = f"{name}-password"
                user = f"      - {{username: {name}, password_env: {var}_{name.upper()}"
                if email:
                    user += f", login: {name}@example.com"
                if group and persona != "entra-id":  # Entra's groups are object ids
                    user += f", groups: [{group}]"
                if role:
                    user += f", role: {role}"
                users.append(user + "}")
            tenants.append(f"  - name: {persona}\n    vendor: {persona}\n    issuer: {issuer}\n"
                           f"    client_id: {client_id}\n    client_secret_env: {var}_SECRET\n"
                           f"    users:\n" + "\n".join(users))
        profiles = os.path.join(workdir, "live.yaml")
        with open(profiles, "w", encoding="utf-8") as f:
            f.write("tenants:\n" + "\n".join(tenants) + "\n")
        start = time.perf_counter()
        run = subprocess.run([bin_path, "verify", "--backend", "live", "--profiles", profiles,
                              "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        report = json.loads(run.stdout)
        per_tenant = {b["name"]: (b["passed"], b["failed"], b["skipped"]) for b in report["backends"]}
        return elapsed, report["outcome"], per_tenant
    finally:
        for server in servers:
            server.terminate()
            server.wait()


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

    import tempfile
    with tempfile.TemporaryDirectory() as workdir:
        profile_s, outcome, per_tenant = tenant_profiles(args.bin, args.users, workdir)
    print(f"verify --backend live --profiles (5 persona tenants, okta with {args.users} users): "
          f"{profile_s:.2f} s, outcome {outcome}")
    for name, (passed, failed, skipped) in per_tenant.items():
        print(f"  {name}: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if report["outcome"] == "passed" and outcome == "passed" else 1


if __name__ == "__main__":
    sys.exit(main())
