#!/usr/bin/env python3
"""Generate a deterministic benchmark corpus for `ssoproof lint`.

    python3 scripts/gen-lint-corpus.py OUT_DIR [--files 2000] [--seed 1] [--clean]

Writes, byte-identically for the same arguments:

* OUT_DIR/ssoproof.yaml   an empty config (one comment line) marking the corpus
                          root, against which `/`-rooted links resolve;
* OUT_DIR/docs/...        N runbook-style Markdown files over 20 folders
                          (docs/area-NN/), images in docs/img/, a few
                          non-Markdown files in docs/assets/;
* OUT_DIR/expected.json   the ground truth: every deliberately broken link, as a
                          sorted list of {"file", "line", "rule", "target"}.

`--clean` writes the same kind of corpus with no broken link at all (expected.json
is `[]`): the linter's cost when every link resolves, with no diagnostics to build.

The corpus is clean apart from the intended errors: no http:// links, no
fragments that differ from a real anchor only by case, no unused reference
definitions, no `{#id}` heading attributes. Heading anchors follow GitHub's
rules exactly (github-slugger: lower-case; keep letters, marks, decimal digits,
connector punctuation, `-` and ASCII space; spaces become `-`; duplicates are
disambiguated loop-until-unique), computed from the *rendered* heading text
(code-span text kept, image alt text dropped, entities decoded, emphasis
markers removed).

Only the Python 3.11 standard library is used; all randomness comes from one
`random.Random(seed)`; nothing depends on the clock, the environment, hash
seeds or directory listing order.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import random
import shutil
import sys
import unicodedata
from urllib.parse import quote, unquote

N_AREAS = 20
BROKEN_RATE = 0.03
REVIEW_LINE = "> Last reviewed: 2026-11-01"
CONFIG_TEXT = "# ssoproof configuration: intentionally empty (marks the benchmark corpus root)\n"

# 1x1 transparent PNG.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8ffff3f0005fe02fea7d6a3b00000000049454e44ae426082"
)
IMAGES = ["a.png", "broker.png", "logo.png"] + [f"flow-{i:02d}.png" for i in range(10)]
ASSETS = {
    "realm-export.json": '{\n  "realm": "ops",\n  "enabled": true\n}\n',
    "oidc-config.yaml": "issuer: https://sso.example.com/realms/ops\nclient_id: certctl\n",
    "rotate-keys.sh": "#!/bin/sh\nset -eu\necho rotating\n",
    "claims-mapping.csv": "idp,claim,shape\nkeycloak,groups,full path\nokta,groups,flat array\n",
}

RULE_FILE = "link/missing-file"
RULE_FRAG = "link/missing-fragment"
RULE_REF = "link/undefined-reference"

# --------------------------------------------------------------------------
# GitHub slugs (github-slugger v2 semantics)
# --------------------------------------------------------------------------


def gh_base_slug(text: str) -> str:
    out = []
    for ch in text.lower():
        if ch == " ":
            out.append("-")
        elif ch == "-":
            out.append(ch)
        else:
            cat = unicodedata.category(ch)
            if cat[0] in "LM" or cat in ("Nd", "Pc"):
                out.append(ch)
    return "".join(out)


class Slugger:
    def __init__(self) -> None:
        self.occurrences: dict[str, int] = {}

    def slug(self, text: str) -> str:
        slug = gh_base_slug(text)
        original = slug
        while slug in self.occurrences:
            self.occurrences[original] += 1
            slug = f"{original}-{self.occurrences[original]}"
        self.occurrences[slug] = 0
        return slug


# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

IDPS = ["Keycloak", "Okta", "Auth0", "Entra ID", "Google Workspace", "Authentik"]
APPS = ["certctl", "Grafana", "ArgoCD", "the gateway", "the admin console", "Vault"]
TOPICS = [
    "token rotation", "group claim mapping", "login loop", "JWKS refresh",
    "break-glass access", "SCIM provisioning", "session timeout",
    "client secret rollover", "logout propagation", "MFA enforcement",
    "issuer migration", "redirect URI allow-list",
]
IDP_STEPS = [
    "Create the realm", "Register the client", "Map the groups claim",
    "Add the audience mapper", "Configure the redirect URIs", "Enable PKCE",
    "Rotate the client secret", "Assign the test users", "Export the realm",
]
TROUBLE = [
    "Login loops back to the IdP", "Groups claim is missing", "Clock skew errors",
    "Invalid audience", "JWKS fetch times out", "Logout does not propagate",
    "State mismatch after redirect", "Refresh token rejected",
]
CHECKLIST = [
    "Issuer URL matches the discovery document",
    "Redirect URIs are exact matches, no wildcards",
    "Groups claim arrives as a flat list",
    "Break-glass account tested this quarter",
    "Client secret stored in the vault, not in the repo",
    "Token lifetime at most 15 minutes",
    "Logout tested from both sides",
    "Alerting wired to the on-call rotation",
]
PLAIN_SENTENCES = [
    "Run every command from a workstation with access to the admin network.",
    "Do not paste tokens into the incident channel; redact them first.",
    "The change window is announced at least two business days in advance.",
    "Most failures at this step come from a stale discovery document cache.",
    "Keep the previous signing key active until every relying party has refreshed its JWKS.",
    "If the IdP returns an opaque error, capture the correlation ID from the response headers.",
    "This step is idempotent, so it is safe to repeat after a partial failure.",
    "Expect a short burst of 401 responses while sessions are re-established.",
    "Record the start and end time of the change in the ticket.",
    "The audit log keeps these events for 90 days.",
    "Use a private browser window so that an existing session does not mask the result.",
    "Check the clock on the application host; more than 60 seconds of skew breaks validation.",
    "The groups claim can be large, so watch the header size limit on the proxy.",
    "Operators without the sso-admin role will only see a read-only view.",
    "Confirm with the service owner before disabling the old client.",
    "Roll back immediately if the error rate exceeds two percent for five minutes.",
    "Leave the old redirect URI in place for one full release cycle.",
    "Each tenant has its own realm, so repeat the procedure per tenant.",
    "The health endpoint does not exercise the login path; test a real login.",
    "Prefer short-lived tokens over long sessions for administrative users.",
    "Nothing in this section requires a restart of the application.",
    "Write down which users were used for testing and remove them afterwards.",
    "When in doubt, stop and page the identity on-call engineer.",
    "Do not rely on the admin UI cache; reload the page after every change.",
]
# Inline code spans whose content looks like links and must be ignored.
CODE_SPAN_SENTENCES = [
    "Do not copy the old wiki syntax `[x](missing.md)` into new runbooks.",
    "The template placeholder `[label][undefined]` is expanded by the renderer, not by Markdown.",
    "Old pages used `![logo](gone.png)` for the banner; that image is gone.",
    "A literal `[text](#no-such-anchor)` in a code span is not a link.",
    "The exporter writes `[ref]: nowhere.md` lines that are never rendered.",
    "Escape it as `<a href=\"nope.md\">` only inside code.",
]
ESCAPED_SENTENCES = [
    "The form \\[not a link\\](missing.md) shows the syntax without creating a link.",
    "Write \\[label\\]\\[undefined\\] when you want the brackets to show literally.",
]
LINK_1 = [
    "See {0} before you start.",
    "The background is in {0}.",
    "Follow {0} for the IdP side.",
    "If this fails, continue with {0}.",
    "The expected values are listed in {0}.",
    "Compare the output with {0}.",
    "{0} explains why this matters.",
    "For the rollback path use {0}.",
    "The same procedure is described for another tenant in {0}.",
    "Escalate as described in {0} if the problem persists.",
    "Keep {0} open in a second tab.",
    "This replaces the older instructions in {0}.",
    "A worked example is in {0}, step by step.",
    "Check {0} for the exact claim names.",
]
LINK_2 = [
    "See {0} and {1} for the two halves of this change.",
    "Read {0} first, then {1}.",
    "Both {0} and {1} must be green before you continue.",
    "The IdP side is in {0}; the application side is in {1}.",
    "Background: {0}. Follow-up: {1}.",
]
LINK_TEXTS = [
    "the validation checklist", "this runbook", "the rollback steps", "the IdP notes",
    "the prerequisites", "the troubleshooting guide", "the canonical runbook",
    "the delta notes", "the key rotation guide", "the claim mapping table",
    "the escalation policy", "the earlier section", "the `groups` mapper notes",
    "the *break-glass* procedure", "the session settings", "the tenant list",
]
IMAGE_ALTS = ["sequence diagram", "login flow", "claim mapping", "architecture overview",
              "admin console screenshot", "token lifetime chart"]
EXTERNAL = [
    "https://example.com/docs/oidc", "https://example.com/status",
    "https://example.org/rfc/6749", "https://example.net/jwks.json",
    "https://example.com/changelog#2026-10", "https://example.org/support?topic=sso",
]
CODE_COMMENTS = [
    "rotate the signing key", "export the realm first", "check the issuer",
    "verify the jwks endpoint", "restart the gateway",
]

# --------------------------------------------------------------------------
# Documents and heading plans
# --------------------------------------------------------------------------


class Heading:
    __slots__ = ("level", "md", "rendered", "naive", "setext", "slug")

    def __init__(self, level: int, md: str, rendered: str, naive: list[str] | None = None,
                 setext: bool = False) -> None:
        self.level = level
        self.md = md            # Markdown source of the heading content
        self.rendered = rendered  # what GitHub renders (what the slug is computed from)
        self.naive = naive or []  # plausible-but-wrong fragments a naive slugger would produce
        self.setext = setext
        self.slug = ""


class Doc:
    def __init__(self, index: int, path: str) -> None:
        self.index = index
        self.path = path                      # relative to OUT_DIR, posix
        self.dir = posixpath.dirname(path)
        self.plan: list[tuple[str, object]] = []  # ("h", Heading) / ("a", html) / ("block", kind)
        self.anchors: list[str] = []          # valid fragments, in document order
        self.linkable: list[str] = []         # anchors we link to (all but the invisible-U+FE0F one)
        self.naive: list[str] = []            # GitHub-invalid fragments (case-insensitively)
        self.code_comments: list[str] = []
        self.idp = ""
        self.topic = ""


def area_dir(a: int) -> str:
    return f"docs/area-{a:02d}"


def make_paths(n: int) -> list[str]:
    areas = min(N_AREAS, max(1, n))
    paths = []
    for i in range(n):
        a = i % areas
        if i < areas:
            name = "README.md"
        elif i < areas + max(1, areas // 2):
            name = f"incident notes {i:04d}.md"   # a space in the file name
        else:
            name = f"runbook-{i:04d}.md"
        paths.append(f"{area_dir(a)}/{name}")
    return paths


def special_headings(rng: random.Random, doc: Doc, readme_paths: list[str]) -> list[Heading]:
    """A random selection of headings exercising GitHub's slug rules."""
    cands: list[Heading] = []
    # emoji: "🚀 Launch" -> "-launch"
    emo = rng.choice(["🚀", "🔥", "✅", "🛑"])
    word = rng.choice(["Launch", "Go-live", "Cut-over", "Hotfix"])
    cands.append(Heading(2, f"{emo} {word}", f"{emo} {word}", [gh_base_slug(word)]))
    # superscripts / vulgar fractions are category No: dropped
    t = rng.choice([
        ("Rate limit: 10² requests per tenant", ["rate-limit-102-requests-per-tenant",
                                                  "rate-limit-10²-requests-per-tenant"]),
        ("Roll out to ½ the fleet", ["roll-out-to-12-the-fleet", "roll-out-to-the-fleet",
                                     "roll-out-to-½-the-fleet"]),
        ("Key size 2¹¹ bits", ["key-size-211-bits", "key-size-2¹¹-bits"]),
        ("Quota in m² and ½ steps", ["quota-in-m2-and-12-steps", "quota-in-m-and-steps",
                                     "quota-in-m²-and-½-steps"]),
    ])
    cands.append(Heading(2, t[0], t[0], t[1]))
    # TAB inside a heading is dropped, not turned into "-"
    a, b = rng.choice([("Rotate", "signing keys"), ("Step", "three: rebind"),
                       ("Drain", "old sessions"), ("Swap", "the issuer")])
    cands.append(Heading(3, f"{a}\t{b}", f"{a}\t{b}",
                         [gh_base_slug(f"{a} {b}"), gh_base_slug(f"{a}  {b}")]))
    # non-breaking space is dropped
    a, b = rng.choice([("Token", "lifetime limits"), ("Session", "cookie flags"),
                       ("Refresh", "window")])
    cands.append(Heading(3, f"{a}\u00a0{b}", f"{a}\u00a0{b}", [gh_base_slug(f"{a} {b}")]))
    # code span: text kept
    t = rng.choice([("The `full.path` trap", "The full.path trap"),
                    ("`client_id` versus `azp`", "client_id versus azp"),
                    ("Why `groups` is empty", "Why groups is empty")])
    cands.append(Heading(2, t[0], t[1]))
    # image: alt text dropped
    w1, alt, img, w2 = rng.choice([("Logo", "alt text", "a.png", "here"),
                                   ("Architecture", "broker diagram", "broker.png", "overview"),
                                   ("Flow", "sequence chart", "flow-01.png", "details")])
    cands.append(Heading(2, f"{w1} ![{alt}](../img/{img}) {w2}", f"{w1}  {w2}",
                         [gh_base_slug(f"{w1} {alt} {w2}"), gh_base_slug(f"{w1} {w2}")]))
    # HTML entities decoded
    t = rng.choice([
        ("Fish &amp; Chips", "Fish & Chips", ["fish-amp-chips", "fish-chips"]),
        ("Claims &amp; scopes", "Claims & scopes", ["claims-amp-scopes", "claims-scopes"]),
        ("Caf&eacute; Wi-Fi fallback", "Caf\u00e9 Wi-Fi fallback", ["cafeacute-wi-fi-fallback"]),
        ("&lt;tenant&gt; placeholders", "<tenant> placeholders", ["lttenantgt-placeholders"]),
        ("Phase 1 &#8211; discovery", "Phase 1 \u2013 discovery", ["phase-1-8211-discovery",
                                                                   "phase-1-discovery"]),
    ])
    cands.append(Heading(2, t[0], t[1], t[2]))
    # emphasis markers disappear
    t = rng.choice([("*Bold* move", "Bold move"), ("**Break-glass** access", "Break-glass access"),
                    ("_Emergency_ rollback", "Emergency rollback")])
    cands.append(Heading(2, t[0], t[1]))
    # " - " keeps all three hyphens; dashes other than "-" are dropped
    t = rng.choice([
        ("Rollback - fast path", ["rollback-fast-path", "rollback-fast-path"]),
        ("Primary \u2014 secondary failover", ["primary-secondary-failover"]),
        ("Blue - green cut-over", ["blue-green-cut-over"]),
    ])
    cands.append(Heading(2, t[0], t[0], t[1]))
    # link inside a heading: link text kept (the link itself must be valid)
    if readme_paths:
        rp = rng.choice(readme_paths)
        rel = posixpath.relpath(rp, doc.dir)
        cands.append(Heading(2, f"Escalate via [the on-call index]({rel})",
                             "Escalate via the on-call index"))
    # non-ASCII letters are kept
    t = rng.choice(["\u00dcberpr\u00fcfung der Tokens", "Configuraci\u00f3n del cliente",
                    "\u041f\u0440\u043e\u0432\u0435\u0440\u043a\u0430 \u0442\u043e\u043a\u0435\u043d\u0430",
                    "R\u00e9vocation des jetons"])
    cands.append(Heading(2, t, t))
    # punctuation dropped
    t = rng.choice(["What's new? (2026)", "Step 2/3: bind the client",
                    'FAQ: "invalid_grant" errors', "Q&A, part 1."])
    cands.append(Heading(2, t, t))
    # closing sequence of #'s is not part of the heading
    cands.append(Heading(2, "Notes ##", "Notes"))
    # setext heading
    cands.append(Heading(2, rng.choice(["Summary", "Background", "Scope"]), "", setext=True))
    # emoji followed by VS16 (U+FE0F, category Mn: kept!). Never linked to.
    cands.append(Heading(2, "\u26a0\ufe0f Known issues", "\u26a0\ufe0f Known issues"))
    for h in cands:
        if h.setext:
            h.rendered = h.md
    k = rng.randint(5, 8)
    return rng.sample(cands, k)


def build_plan(rng: random.Random, doc: Doc, readme_paths: list[str]) -> None:
    idp = rng.choice(IDPS)
    topic = rng.choice(TOPICS)
    app = rng.choice(APPS)
    doc.idp, doc.topic = idp, topic
    title = f"{idp} {topic} runbook {doc.index:04d}"
    if doc.path.endswith("README.md"):
        title = f"Area {doc.dir[-2:]} runbook index"
    headings: list[Heading] = [Heading(1, title, title)]
    headings.append(Heading(2, "Prerequisites", "Prerequisites"))
    headings.append(Heading(2, "IdP-side configuration", "IdP-side configuration"))
    steps = rng.sample(IDP_STEPS, rng.randint(3, 5))
    for n, s in enumerate(steps, 1):
        headings.append(Heading(3, f"{n}. {s}", f"{n}. {s}"))
    app_title = app[0].upper() + app[1:]
    headings.append(Heading(2, f"{app_title}-side configuration", f"{app_title}-side configuration"))
    headings.append(Heading(2, "Verification", "Verification"))
    headings.append(Heading(2, "Troubleshooting", "Troubleshooting"))
    for s in rng.sample(TROUBLE, rng.randint(2, 4)):
        headings.append(Heading(3, s, s))
    tail = Heading(2, "Validation checklist", "Validation checklist")

    # specials go at random positions after the H1 + Prerequisites
    for h in special_headings(rng, doc, readme_paths):
        headings.insert(rng.randint(2, len(headings)), h)
    # duplicates: X, X, X 1 -> x, x-1, x-1-1 (sometimes)
    if rng.random() < 0.6:
        x = rng.choice(["Rollback", "Smoke test", "Verification", "Cleanup"])
        trio = [Heading(3, x, x), Heading(3, x, x), Heading(3, f"{x} 1", f"{x} 1")]
        pos = sorted(rng.sample(range(2, len(headings) + 1), 3))
        for off, (p, h) in enumerate(zip(pos, trio)):
            headings.insert(p + off, h)
        base = gh_base_slug(x)
        trio[0].naive = [f"{base}-2", f"{base}-3"]
        trio[2].naive = [f"{base}-1-2"]
    headings.append(tail)

    slugger = Slugger()
    for h in headings:
        h.slug = slugger.slug(h.rendered)

    # explicit anchors (do not take part in numbering)
    explicit = []
    if rng.random() < 0.5:
        explicit.append(("a", '<a name="custom-anchor"></a>', "custom-anchor"))
    if rng.random() < 0.4:
        explicit.append(("div", '<div id="other-anchor"></div>', "other-anchor"))
    if rng.random() < 0.2:
        explicit.append(("a", '<a id="legacy-step-3"></a>', "legacy-step-3"))
    heading_slugs = [h.slug for h in headings]
    explicit = [e for e in explicit if e[2] not in heading_slugs]

    # plan: headings, each followed by content blocks; explicit anchors attached to random
    # sections. The first two headings are the H1 (then the review line) and Prerequisites.
    anchor_at: dict[int, list] = {}
    for e in explicit:
        anchor_at.setdefault(rng.randint(1, len(headings) - 2), []).append(e)
    for i, h in enumerate(headings):
        doc.plan.append(("h", h))
        for e in anchor_at.get(i, []):
            doc.plan.append(("anchor", e))
    doc.anchors = heading_slugs + [e[2] for e in explicit]
    doc.linkable = [a for a in doc.anchors if "\ufe0f" not in a]
    lower = {a.lower() for a in doc.anchors}
    naive: list[str] = []
    for h in headings:
        for f in h.naive:
            if f and f.lower() not in lower and f not in naive and "%" not in f:
                naive.append(f)
    doc.naive = naive
    doc.code_comments = [c for c in rng.sample(CODE_COMMENTS, 2)
                         if gh_base_slug(c) not in lower]


# --------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------


class Link:
    __slots__ = ("md", "err", "defn")

    def __init__(self, md: str, err: tuple[str, str] | None = None,
                 defn: str | None = None) -> None:
        self.md = md        # inline Markdown
        self.err = err      # (rule, target) if deliberately broken
        self.defn = defn    # reference definition line to append to the file


class Corpus:
    def __init__(self, n: int, seed: int, broken_rate: float = BROKEN_RATE) -> None:
        self.rng = random.Random(seed)
        self.broken_rate = broken_rate
        self.paths = make_paths(n)
        self.docs = [Doc(i, p) for i, p in enumerate(self.paths)]
        self.by_path = {d.path: d for d in self.docs}
        self.existing = set(self.paths)
        self.existing.update(f"docs/img/{i}" for i in IMAGES)
        self.existing.update(f"docs/assets/{a}" for a in ASSETS)
        self.dirs = {"docs", "docs/img", "docs/assets"} | {d.dir for d in self.docs}
        self.readmes = [d.path for d in self.docs if d.path.endswith("README.md")]
        self.space_docs = [d for d in self.docs if " " in d.path]
        self.n = n
        self.n_links = 0

    # ---- target spelling -------------------------------------------------

    def rel(self, src: Doc, target_path: str) -> str:
        r = posixpath.relpath(target_path, src.dir)
        if "/" not in r and self.rng.random() < 0.15:
            r = "./" + r
        return r

    def spell_path(self, src: Doc, target_path: str) -> tuple[str, bool]:
        """Return (destination as written, needs angle brackets)."""
        rng = self.rng
        root = rng.random() < 0.15
        p = "/" + target_path if root else self.rel(src, target_path)
        if " " in p:
            if rng.random() < 0.5:
                return quote(p, safe="/.-_~"), False
            return p, True
        return p, False

    @staticmethod
    def wrap(dest: str, angle: bool) -> str:
        return f"<{dest}>" if angle else dest

    def text(self) -> str:
        return self.rng.choice(LINK_TEXTS)

    # ---- valid links -------------------------------------------------------

    def valid_link(self, src: Doc, st: dict) -> Link:
        rng = self.rng
        k = rng.random()
        if k < 0.18:  # same-file fragment
            frag = rng.choice(src.linkable[1:] or src.linkable)
            return Link(f"[{self.text()}](#{frag})")
        if k < 0.42:  # cross-file markdown, maybe with fragment
            tgt = rng.choice(self.docs)
            dest, angle = self.spell_path(src, tgt.path)
            if tgt is not src and rng.random() < 0.6:
                dest += "#" + rng.choice(tgt.linkable)
            if rng.random() < 0.08:
                dest, angle = dest, True
            return Link(f"[{self.text()}]({self.wrap(dest, angle)})")
        if k < 0.47:  # explicitly spelled title
            tgt = rng.choice(self.docs)
            dest, angle = self.spell_path(src, tgt.path)
            title = rng.choice(['"Canonical runbook"', "'IdP deltas'", '"Checklist (v2)"'])
            return Link(f"[{self.text()}]({self.wrap(dest, angle)} {title})")
        if k < 0.52 and self.space_docs:  # file with a space in its name
            tgt = rng.choice(self.space_docs)
            p = self.rel(src, tgt.path) if rng.random() < 0.8 else "/" + tgt.path
            frag = "#" + rng.choice(tgt.linkable) if rng.random() < 0.3 else ""
            if rng.random() < 0.5:
                return Link(f"[{self.text()}]({quote(p, safe='/.-_~')}{frag})")
            return Link(f"[{self.text()}](<{p}{frag}>)")
        if k < 0.58:  # image
            img = rng.choice(IMAGES)
            dest, _ = self.spell_path(src, f"docs/img/{img}")
            return Link(f"![{rng.choice(IMAGE_ALTS)}]({dest})")
        if k < 0.61:  # directory link
            d = rng.choice(sorted(self.dirs - {"docs"}))
            dest = posixpath.relpath(d, src.dir)
            dest = "./" if dest == "." else dest + "/"
            return Link(f"[the {d.rsplit('/', 1)[-1]} folder]({dest})")
        if k < 0.65:  # non-Markdown file
            a = rng.choice(sorted(ASSETS))
            dest, _ = self.spell_path(src, f"docs/assets/{a}")
            return Link(f"[`{a}`]({dest})")
        if k < 0.68:  # explicit HTML anchor in another file
            cands = [d for d in rng.sample(self.docs, min(8, len(self.docs)))
                     if d is not src and any(a in ("custom-anchor", "other-anchor", "legacy-step-3")
                                             for a in d.anchors)]
            if cands:
                tgt = cands[0]
                frag = rng.choice([a for a in tgt.anchors
                                   if a in ("custom-anchor", "other-anchor", "legacy-step-3")])
                dest, angle = self.spell_path(src, tgt.path)
                return Link(f"[{self.text()}]({self.wrap(dest + '#' + frag, angle)})")
            return Link(f"[{self.text()}](#{rng.choice(src.linkable)})")
        if k < 0.81:  # reference-style: full, collapsed, shortcut
            st["ref"] += 1
            n = st["ref"]
            tgt = rng.choice(self.docs)
            if tgt is src:
                dest, angle = "#" + rng.choice(src.linkable), False
            else:
                dest, angle = self.spell_path(src, tgt.path)
                if rng.random() < 0.5:
                    dest += "#" + rng.choice(tgt.linkable)
            title = rng.choice(["", "", ' "Reference"', " (see also)"])
            form = rng.random()
            if form < 0.6:
                label = f"{rng.choice(['kc', 'okta', 'ref', 'runbook', 'delta'])}-{n}"
                md = f"[{self.text()}][{label}]"
            elif form < 0.85:
                label = f"{rng.choice(['Keycloak notes', 'Okta delta', 'rollback plan'])} {n}"
                md = f"[{label}][]"
            else:
                label = f"{rng.choice(['runbook index', 'tenant list', 'claim table'])} {n}"
                md = f"[{label}]"
            return Link(md, defn=f"[{label}]: {self.wrap(dest, angle)}{title}")
        if k < 0.97:  # external (never checked: no network)
            return Link(f"[{rng.choice(['the vendor docs', 'the status page', 'RFC 6749', 'the JWKS'])}]"
                        f"({rng.choice(EXTERNAL)})")
        return Link(f"<{rng.choice(EXTERNAL)}>")

    # ---- broken links -----------------------------------------------------

    def missing_path(self, src: Doc) -> tuple[str, str]:
        """(destination as written, target for expected.json)."""
        rng = self.rng
        while True:
            k = rng.randrange(8)
            if k == 0:
                p = posixpath.relpath(f"{area_dir(rng.randrange(N_AREAS))}/runbook-{self.n + rng.randrange(5000):04d}.md", src.dir)
                dest = angle_free = p
            elif k == 1:
                dest = angle_free = rng.choice(["retired-keycloak-notes.md", "missing-page.md",
                                                "okta-v1.md", "README-old.md"])
            elif k == 2:
                dest = angle_free = f"/docs/area-{rng.randrange(N_AREAS):02d}/decommissioned.md"
            elif k == 3:
                dest = angle_free = rng.choice(["../img/missing-diagram.png", "../img/logo-old.png"])
            elif k == 4:
                dest = angle_free = "old%20notes%20" + f"{rng.randrange(100):02d}.md"
            elif k == 5:
                angle_free = f"../area-{rng.randrange(N_AREAS):02d}/old notes.md"
                dest = f"<{angle_free}>"
            elif k == 6:
                dest = angle_free = (f"../area-{rng.randrange(N_AREAS):02d}/retired.md#"
                                     + rng.choice(["verification", "rollback", "prerequisites"]))
            else:
                dest = angle_free = rng.choice(["../assets/realm-export-v1.json",
                                                "/docs/assets/oidc-config.yml"])
            path_part = angle_free.split("#", 1)[0]
            if path_part.startswith("/"):
                resolved = path_part[1:]
            else:
                resolved = posixpath.normpath(posixpath.join(src.dir, unquote(path_part)))
            if unquote(resolved) not in self.existing:
                return dest, angle_free

    def broken_link(self, src: Doc, st: dict) -> Link:
        rng = self.rng
        text = self.text()
        while True:
            k = rng.random()
            if k < 0.25:
                dest, target = self.missing_path(src)
                if dest.endswith(".png"):
                    return Link(f"![{rng.choice(IMAGE_ALTS)}]({dest})", (RULE_FILE, target))
                return Link(f"[{text}]({dest})", (RULE_FILE, target))
            if k < 0.45:  # missing fragment, same file
                choices = ["no-such-section", "verificaton", "rollback-plan-v2", "step-0",
                           "troubleshooting-old", "checklist"]
                choices += [gh_base_slug(c) for c in src.code_comments]  # "headings" inside code
                lower = {a.lower() for a in src.anchors}
                choices = [c for c in choices if c not in lower]
                frag = rng.choice(choices)
                return Link(f"[{text}](#{frag})", (RULE_FRAG, "#" + frag))
            if k < 0.65:  # missing fragment, other file
                tgt = rng.choice(self.docs)
                if tgt is src:
                    continue
                lower = {a.lower() for a in tgt.anchors}
                choices = [c for c in ["validation", "rollback-plan", "known-issue",
                                       "prerequisite", "step-1-create-the-realm", "faq"]
                           if c not in lower]
                dest, angle = self.spell_path(src, tgt.path)
                dest += "#" + rng.choice(choices)
                return Link(f"[{text}]({self.wrap(dest, angle)})", (RULE_FRAG, dest))
            if k < 0.85:  # lychee/naive-slugger spelling of a real heading
                if rng.random() < 0.5 and src.naive:
                    frag = rng.choice(src.naive)
                    return Link(f"[{text}](#{frag})", (RULE_FRAG, "#" + frag))
                for _ in range(8):
                    tgt = rng.choice(self.docs)
                    if tgt is not src and tgt.naive:
                        break
                else:
                    continue
                dest, angle = self.spell_path(src, tgt.path)
                dest += "#" + rng.choice(tgt.naive)
                return Link(f"[{text}]({self.wrap(dest, angle)})", (RULE_FRAG, dest))
            # reference to a label that is never defined
            st["ref"] += 1
            label = f"{rng.choice(['kc', 'okta', 'runbook', 'old'])}-undefined-{st['ref']}"
            if rng.random() < 0.7:
                return Link(f"[{text}][{label}]", (RULE_REF, label))
            return Link(f"[{label}][]", (RULE_REF, label))

    def link(self, src: Doc, st: dict, allow_broken: bool = True) -> Link:
        self.n_links += 1
        if allow_broken and self.rng.random() < self.broken_rate:
            return self.broken_link(src, st)
        return self.valid_link(src, st)


# --------------------------------------------------------------------------
# Document body
# --------------------------------------------------------------------------


class Body:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.errors: list[tuple[int, str, str]] = []
        self.defs: list[str] = []

    def add(self, text: str, links: list[Link] = ()) -> None:
        self.lines.append(text)
        for ln in links:
            if ln.err:
                self.errors.append((len(self.lines), ln.err[0], ln.err[1]))
            if ln.defn:
                self.defs.append(ln.defn)

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")


def sentence(c: Corpus, doc: Doc, st: dict, p_link: float) -> tuple[str, list[Link]]:
    rng = c.rng
    r = rng.random()
    if r < p_link * 0.8:
        ln = c.link(doc, st)
        return rng.choice(LINK_1).format(ln.md), [ln]
    if r < p_link:
        l1 = c.link(doc, st)
        l2 = c.link(doc, st, allow_broken=l1.err is None)
        return rng.choice(LINK_2).format(l1.md, l2.md), [l1, l2]
    if r < p_link + 0.04:
        return rng.choice(CODE_SPAN_SENTENCES), []
    if r < p_link + 0.05:
        return rng.choice(ESCAPED_SENTENCES), []
    return rng.choice(PLAIN_SENTENCES), []


def block(c: Corpus, doc: Doc, b: Body, st: dict, kind: str) -> None:
    rng = c.rng
    b.blank()
    if kind == "para":
        for _ in range(rng.randint(2, 4)):
            t, links = sentence(c, doc, st, 0.20)
            b.add(t, links)
    elif kind == "list":
        for _ in range(rng.randint(3, 6)):
            t, links = sentence(c, doc, st, 0.30)
            b.add("- " + t, links)
    elif kind == "olist":
        for n in range(1, rng.randint(3, 6) + 1):
            t, links = sentence(c, doc, st, 0.25)
            b.add(f"{n}. {t}", links)
    elif kind == "table":
        b.add("| IdP | Tier | Group claim shape | Runbook |")
        b.add("|---|---|---|---|")
        for idp in rng.sample(IDPS, rng.randint(2, 4)):
            ln = c.link(doc, st)
            shape = rng.choice(["full path", "flat array", "object ids", "names"])
            b.add(f"| {idp} | {rng.randint(1, 3)} | {shape} | {ln.md} |", [ln])
    elif kind == "quote":
        ln = c.link(doc, st)
        b.add(f"> **Note:** {rng.choice(LINK_1).format(ln.md)}", [ln])
        b.add(f"> {rng.choice(PLAIN_SENTENCES)}")
    elif kind == "fence":
        if rng.random() < 0.5:
            b.add("```bash")
            for cmt in doc.code_comments:
                b.add(f"# {cmt}")
                b.add(rng.choice([
                    "kcadm.sh get realms/ops/keys | jq '.keys[] | {kid, algorithm}'",
                    "curl -fsS https://sso.example.com/realms/ops/.well-known/openid-configuration | jq .issuer",
                    "kubectl -n sso rollout restart deployment/gateway",
                    "grep -n '[y](nope.md#z)' docs/*.md || true",
                ]))
            b.add("```")
        else:
            fence = rng.choice(["```", "~~~", "````"])
            b.add(fence + "markdown")
            b.add("Example of what NOT to write: [y](nope.md#z) and ![img](gone.png).")
            b.add("See [the old page][undefined-in-code] for details.")
            if fence == "````":
                b.add("```")
                b.add("[nested](still-code.md)")
                b.add("```")
            b.add("[z]: nowhere.md")
            b.add(fence)
    elif kind == "yaml":
        b.add("```yaml")
        b.add("oidc:")
        b.add("  issuer: https://sso.example.com/realms/ops")
        b.add(f"  client_id: {rng.choice(['certctl', 'grafana', 'argocd'])}")
        b.add("  groups_claim: groups   # [groups](groups.md) is not a link here")
        b.add("```")
    elif kind == "indented":
        # paragraph, blank line, indented code block (not inside a list)
        b.add(rng.choice(PLAIN_SENTENCES))
        b.add("")
        b.add("    [legacy](legacy-page.md)  # indented code, not a link")
        b.add("    [ref]: also-not-a-definition.md")
    elif kind == "comment":
        b.add("<!-- TODO: restore [the old link](removed-page.md#gone) once the page is back -->")
    elif kind == "tasks":
        for item in rng.sample(CHECKLIST, 3):
            b.add(f"- [{rng.choice([' ', 'x'])}] {item}")


def render_doc(c: Corpus, doc: Doc) -> tuple[str, list[tuple[int, str, str]]]:
    rng = c.rng
    b = Body()
    st = {"ref": 0}
    weights = [("para", 5), ("list", 3), ("olist", 1), ("table", 1), ("quote", 1),
               ("fence", 1), ("yaml", 0.5), ("indented", 0.3), ("comment", 0.3), ("tasks", 0.3)]
    kinds = [k for k, _ in weights]
    wts = [w for _, w in weights]
    for kind, item in doc.plan:
        if kind == "anchor":
            tag, html, _name = item
            b.blank()
            if tag == "a":
                b.add(html + rng.choice(PLAIN_SENTENCES))
            else:
                b.add(html)
            continue
        h: Heading = item
        b.blank()
        if h.setext:
            b.add(h.md)
            b.add("-" * max(3, len(h.md)))
        else:
            b.add("#" * h.level + " " + h.md)
        if h.level == 1:
            b.add("")
            b.add(REVIEW_LINE)
            block(c, doc, b, st, "para")
            continue
        if h.rendered == "Validation checklist":
            b.blank()
            for item2 in rng.sample(CHECKLIST, rng.randint(4, 6)):
                b.add(f"- [ ] {item2}")
            b.blank()
            b.add("Sign-off: _______________ (operator) on _______________ (date).")
            continue
        nblocks = rng.choices([1, 2, 3], [6, 3, 1])[0]
        for kb in rng.choices(kinds, wts, k=nblocks):
            block(c, doc, b, st, kb)
    if b.defs:
        b.blank()
        for d in b.defs:
            b.lines.append(d)
    text = "\n".join(b.lines).rstrip("\n") + "\n"
    return text, b.errors


# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--files", type=int, default=2000, help="number of Markdown files (default 2000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--clean", action="store_true", help="no broken links (expected.json is empty)")
    args = ap.parse_args(argv)
    if args.files < 1:
        ap.error("--files must be at least 1")

    out = os.path.abspath(args.out_dir)
    if os.path.isdir(out) and os.listdir(out):
        if not os.path.exists(os.path.join(out, "ssoproof.yaml")):
            print(f"error: {out} exists, is not empty and is not a generated corpus", file=sys.stderr)
            return 2
        for name in ("docs", "expected.json", "ssoproof.yaml"):
            p = os.path.join(out, name)
            if os.path.isdir(p):
                shutil.rmtree(p)
            elif os.path.exists(p):
                os.remove(p)
    os.makedirs(out, exist_ok=True)

    c = Corpus(args.files, args.seed, 0.0 if args.clean else BROKEN_RATE)
    for doc in c.docs:
        build_plan(c.rng, doc, [r for r in c.readmes if r != doc.path])

    expected = []
    n_lines = 0
    for doc in c.docs:
        text, errors = render_doc(c, doc)
        n_lines += text.count("\n")
        full = os.path.join(out, *doc.path.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        for line, rule, target in errors:
            expected.append({"file": doc.path, "line": line, "rule": rule, "target": target})

    os.makedirs(os.path.join(out, "docs", "img"), exist_ok=True)
    for img in IMAGES:
        with open(os.path.join(out, "docs", "img", img), "wb") as f:
            f.write(PNG_BYTES)
    os.makedirs(os.path.join(out, "docs", "assets"), exist_ok=True)
    for name, content in ASSETS.items():
        with open(os.path.join(out, "docs", "assets", name), "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
    with open(os.path.join(out, "ssoproof.yaml"), "w", encoding="utf-8", newline="\n") as f:
        f.write(CONFIG_TEXT)

    expected.sort(key=lambda e: (e["file"], e["line"], e["rule"], e["target"]))
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")
    by_rule: dict[str, int] = {}
    for e in expected:
        by_rule[e["rule"]] = by_rule.get(e["rule"], 0) + 1
    print(f"wrote {len(c.docs)} Markdown files ({n_lines} lines, {c.n_links} links) to {out}; "
          f"{len(expected)} expected errors: "
          + ", ".join(f"{k}={v}" for k, v in sorted(by_rule.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
