"""The lab the interop tests run against: `ssoproof serve idp --tls` (the Keycloak realm, over
HTTPS with a local CA, as Google requires of a workforce provider's issuer) and `ssoproof serve
clouds` trusting that CA, each on a free loopback port; ID tokens come from `ssoproof login`.

The binary is SSOPROOF_BIN, or the workspace's target/debug/ssoproof (build it first with
`cargo build --bin ssoproof`).
"""

import json
import os
import queue
import subprocess
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("SSOPROOF_BIN", ROOT / "target" / "debug" / "ssoproof"))
# A server that has not said it serves within this long is broken, not slow.
START_TIMEOUT = 60

# Nothing from the machine may steer the AWS SDK: credentials, profiles or instance metadata.
for name in list(os.environ):
    if name.startswith("AWS_"):
        del os.environ[name]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


class Served:
    """A running `ssoproof serve …` and what it printed up to "Serving until Ctrl-C."."""

    def __init__(self, args, cwd):
        if not BIN.exists():
            raise RuntimeError(f"{BIN} does not exist: run `cargo build --bin ssoproof` or set SSOPROOF_BIN")
        self.args = args
        self.process = subprocess.Popen(
            [str(BIN), "serve", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = queue.Queue()

        def read():
            for line in self.process.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        self.summary = ""
        while True:
            try:
                line = lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                self.stop()
                raise RuntimeError(f"serve {' '.join(args)} printed nothing for {START_TIMEOUT} s:\n{self.summary}")
            if line is None:
                raise RuntimeError(f"serve {' '.join(args)} exited {self.process.wait()}:\n{self.summary}")
            self.summary += line
            if line.strip() == "Serving until Ctrl-C.":
                return

    def value(self, label):
        """The first word after `label` on the summary line that starts with it."""
        for line in self.summary.splitlines():
            line = line.strip()
            if line.startswith(label):
                return line[len(label):].split()[0]
        raise AssertionError(f"no {label} in\n{self.summary}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Clouds:
    """The endpoints of one `serve clouds`."""

    def __init__(self, served):
        self.served = served
        self.aws = served.value("STS (AssumeRoleWithWebIdentity):") if "AWS emulator" in served.summary else None
        self.google_sts = served.value("STS     POST") if "Google Cloud" in served.summary else None
        self.vertex = self.google_sts[: -len("/v1/token")] if self.google_sts else None


class Lab:
    def __init__(self, tmp):
        self.tmp = tmp
        self.ca = tmp / "ca.pem"
        self.servers = []
        idp = self.serve(["idp", "--realm", "fixtures/keycloak-realm.json", "--tls", "--ca-out", str(self.ca)])
        self.issuer = idp.value("issuer")
        self.clouds = self.start_clouds("fixtures/cloud/aws.yaml", "fixtures/cloud/gcp.yaml")
        self.tokens = {}

    def serve(self, args):
        served = Served(args, ROOT)
        self.servers.append(served)
        return served

    def start_clouds(self, aws=None, gcp=None, extra=()):
        args = ["clouds", "--issuer", self.issuer, "--ca-cert", str(self.ca), *extra]
        if aws:
            args += ["--aws", str(aws)]
        if gcp:
            args += ["--gcp", str(gcp)]
        return Clouds(self.serve(args))

    def changed_fixture(self, name, old, new):
        """A copy of fixtures/cloud/NAME with every `old` replaced by `new`."""
        text = (ROOT / "fixtures" / "cloud" / name).read_text()
        assert old in text, f"{old} is not in {name}"
        path = self.tmp / f"changed-{name}"
        path.write_text(text.replace(old, new))
        return path

    def id_token(self, user):
        """`user`'s ID token from a real sign-in (`ssoproof login --show-tokens`)."""
        if user not in self.tokens:
            out = subprocess.run(
                [str(BIN), "login", "--issuer", self.issuer, "--client-id", "acme-app",
                 "--username", user, "--role", "/acme/admins=admin", "--role", "/acme/engineers=user",
                 # dave (a contractor) maps to no role: the default keeps his sign-in going, so
                 # the clouds can refuse him themselves.
                 "--default-role", "viewer",
                 "--format", "json", "--show-tokens", "--ca-cert", str(self.ca)],
                cwd=ROOT,
                env={**os.environ, "SSOPROOF_CLIENT_SECRET": "acme-app-secret",
                     "SSOPROOF_PASSWORD": f"{user}-password"},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=START_TIMEOUT,
            )
            assert out.returncode == 0, out.stdout + out.stderr
            self.tokens[user] = json.loads(out.stdout)["tokens"]["id_token"]
        return self.tokens[user]

    def stop(self):
        for served in reversed(self.servers):
            served.stop()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("lab"))
    yield lab
    lab.stop()

