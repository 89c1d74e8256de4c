"""A small web application whose login is pysaml2 (7.5.5, pinned in requirements.txt): the SAML
service provider that `ssoproof probe app --saml` is proven on (harness/thirdparty, `PySaml2App`).

    METADATA_URL=<IdP metadata URL> SP_ENTITY_ID=<entity ID> ROLE_MAP='{"/acme/admins": "admin"}' \
        python sp_app.py

It listens on 127.0.0.1:$PORT (0: any free port) and prints `listening on http://127.0.0.1:<port>/`.

    GET  /login     a fresh AuthnRequest on HTTP-Redirect, its ID kept in this browser's session
    POST /saml/acs  pysaml2 parses the Response against that ID; signed in, or 403 with the reason
    GET  /whoami    {"name_id", "role"} when signed in, else 401

Configured as its documentation recommends for an SP: the IdP's metadata, signed assertions
required, unsolicited Responses refused, signatures verified by Debian's xmlsec1 command.
Standard library HTTP server: nothing else to install.
"""

import http.cookies
import json
import os
import secrets
import shutil
import sys
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig

ROLE_MAP = json.loads(os.environ.get("ROLE_MAP", "{}"))
# Browser sessions: cookie value -> {"outstanding": {request id: "/"}, "name_id", "role"}.
SESSIONS = {}


def make_client(base):
    with urllib.request.urlopen(os.environ["METADATA_URL"], timeout=10) as answer:
        metadata = answer.read().decode()
    config = SPConfig()
    config.load({
        "entityid": os.environ["SP_ENTITY_ID"],
        "metadata": {"inline": [metadata]},
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(base + "saml/acs", BINDING_HTTP_POST)]},
            "allow_unsolicited": False,
            "authn_requests_signed": False,
            "want_assertions_signed": True,
            "want_response_signed": False,
        }},
        "xmlsec_binary": shutil.which("xmlsec1"),
        "allow_unknown_attributes": True,
    })
    return Saml2Client(config=config)


class Handler(BaseHTTPRequestHandler):
    client = None

    def log_message(self, *args):
        pass

    def session(self):
        cookies = http.cookies.SimpleCookie(self.headers.get("Cookie", ""))
        sid = cookies["sid"].value if "sid" in cookies else None
        if sid not in SESSIONS:
            sid = secrets.token_urlsafe(32)
            SESSIONS[sid] = {"outstanding": {}}
        return sid, SESSIONS[sid]

    def answer(self, status, body, sid=None, location=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if sid:
            self.send_header("Set-Cookie", f"sid={sid}; Path=/; HttpOnly")
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        sid, session = self.session()
        path = urllib.parse.urlparse(self.path).path
        if path == "/login":
            request_id, info = self.client.prepare_for_authenticate(binding=BINDING_HTTP_REDIRECT)
            session["outstanding"][request_id] = "/"
            self.answer(302, {}, sid, dict(info["headers"])["Location"])
        elif path == "/whoami" and "name_id" in session:
            self.answer(200, {"name_id": session["name_id"], "role": session["role"]}, sid)
        elif path == "/whoami":
            self.answer(401, {"error": "not signed in"}, sid)
        else:
            self.answer(404, {"error": "not found"}, sid)

    def do_POST(self):
        sid, session = self.session()
        if urllib.parse.urlparse(self.path).path != "/saml/acs":
            return self.answer(404, {"error": "not found"}, sid)
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(errors="replace"))
        try:
            response = self.client.parse_authn_request_response(
                form["SAMLResponse"][0], BINDING_HTTP_POST, outstanding=session["outstanding"])
            if response is None:
                raise ValueError("pysaml2 returned no response")
            session["outstanding"].pop(response.in_response_to, None)
            groups = response.get_identity().get("groups", [])
            role = next((ROLE_MAP[g] for g in groups if g in ROLE_MAP), None)
            if role is None:
                return self.answer(403, {"error": f"no role for groups {groups}"}, sid)
            session["name_id"] = response.name_id.text
            session["role"] = role
        except Exception as error:  # pysaml2 refuses with many exception types; all are a 403.
            return self.answer(403, {"error": f"{type(error).__name__}: {error}"[:300]}, sid)
        self.answer(302, {}, sid, "/whoami")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    Handler.client = make_client(base)
    print(f"listening on {base}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
