#!/usr/bin/env python3
"""API abuse suite: schemathesis and hand-written hostile requests against a fresh `presso serve`.

What a green run proves, for the HTTP API in docs/api/openapi.json as served by presso locally:

1. No request made a server error. Every operation of the OpenAPI document is fuzzed with
   schemathesis (`st run`: examples, coverage and fuzzing phases, fixed seed) as each of four
   roles: anonymous (no Authorization header), customer A, customer B and the barista (admin).
   Generated cases are aimed at real resources: A's real order id, event `default`, the current
   QR code, the real action and state words (as `examples` in a spec copy and, in the fuzzing
   phase, via hooks.py), so they reach the handlers' logic and the owner/admin checks.
2. Responses match the document: status codes, content types, response schemas and headers
   (schemathesis' conformance checks). Mismatches that are the document's fault and already
   known are listed as such in the summary (KNOWN_DOC_MISMATCHES) and do not fail the run unless
   --strict-doc; any other mismatch fails it.
3. No state changed by a rejected request: for every POST/PUT/DELETE/PATCH answered 4xx, generated
   or hand-written, every DynamoDB table of the stack (order, config, validator, counting) is
   identical before and after (DynamoDB Scan on presso's port; one schemathesis worker, so the
   snapshots are exact). Whole-run invariants too: the anonymous run changes nothing, the
   customers' runs never touch the config table, and customer B's run never touches A's order.
   No field is ignored: nothing in these tables moves on a read.
4. Hand-written abuse is refused properly: forged, tampered, `alg: none`, HS256 key-confusion,
   wrong-issuer (another pool's validly signed token), wrong-audience and genuinely expired
   tokens (presso's clock moved past `exp`) get 401; large bodies under the HTTP API's 10 MB
   reach the function and get a problem document (400 or 422, never quoting them back), and
   11 MB bodies get the gateway's 413; malformed, deeply nested, empty, mistyped or non-UTF-8 JSON gets 400; other users'
   orders and admin routes are refused to customers (IDOR), and a second order over the
   per-user limit consumes no QR token.

presso runs with `--time-scale 0.01` (workflow timers at 1/100 speed) so no order timeout or
other timer fires between two snapshots; the expired-token case moves the clock forward at the
very end with `POST /_presso/clock`.

Usage (from the repository root, after `pip install -r tools/abuse/requirements.txt`):

    python3 tools/abuse/run.py                  # 200 examples per operation and role
    python3 tools/abuse/run.py --examples 25    # quick run, well under 2 minutes

Exit status: 0 when nothing failed, 1 on any failure, 2 when the suite could not run.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from snapshots import Tables, diff, only  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PASSWORD = "Passw0rd!abuse"
BARISTA = "barista@example.com"
CUSTOMER_A = "customer-a@example.com"
CUSTOMER_B = "customer-b@example.com"
ROBOT_CLIENT = "serverlesspresso-robot"
MUTATING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
OVERRIDES = [
    f"AdminEmail={BARISTA}",
    "SesIdentityArn=arn:aws:ses:us-east-1:000000000000:identity/example.com",
    "SesFromAddress=coffee@example.com",
]
# API Gateway's own answers (the HTTP API's authorizer, router and body cap): the only 4xx bodies
# that are not problem documents (crates/presso-core/src/api.rs: every error is one).
GATEWAY_BODIES = {
    400: b'{"message":"Bad Request"}',
    401: b'{"message":"Unauthorized"}',
    403: b'{"message":"Forbidden"}',
    404: b'{"message":"Not Found"}',
    413: b'{"message":"Request Entity Too Large"}',
}
ORDER_TABLE = "serverlesspresso-order-table"
CONFIG_TABLE = "serverlesspresso-config-table"

# Checks run by schemathesis. Left out, on purpose:
# - positive_data_acceptance: the document's parameter schemas are bare strings (no pattern for
#   ids, no enum for state/action), so "schema-valid" includes ids that cannot exist; 400/404/422
#   are the right answers there.
# - unsupported_method: an HTTP API answers 404 {"message":"Not Found"} for a method that has no
#   route (as API Gateway does), not 405.
# - stateful checks (use_after_free, ensure_resource_availability, object_level_authorization):
#   the document has no links; A-versus-B object access is covered by the roles and the IDOR cases.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "ignored_auth",
    "no_state_change_on_rejection",
]
DOC_CHECKS = frozenset(
    {
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    }
)


@dataclass(frozen=True)
class Seen:
    """One failed check as schemathesis recorded it."""

    check: str
    operation: str
    status: int
    content_type: str
    url: str
    body: str
    message: str


@dataclass(frozen=True)
class DocMismatch:
    """A check failure that is the document's fault, known and reported (never silently)."""

    check: str
    operations: frozenset[str] | None  # None: any operation
    why: str
    test: Any  # Callable[[Seen], bool]

    def matches(self, seen: Seen) -> bool:
        return (
            seen.check == self.check
            and (self.operations is None or seen.operation in self.operations)
            and bool(self.test(seen))
        )


KNOWN_DOC_MISMATCHES = [
    DocMismatch(
        "negative_data_rejection",
        frozenset({"PUT /api/orders/{orderId}"}),
        "PUT /api/orders/{orderId} takes the owner's DrinkRequest without `action`, and no body "
        "with ?action=make|unmake|complete|cancel, where whatever bytes come are not read. The "
        "document makes the body optional, but OpenAPI cannot tie a body's schema to a query "
        "parameter, so an invalid DrinkRequest sent along with an action succeeds",
        lambda s: "in body - " in s.message and ("?action=" in s.url or "&action=" in s.url),
    ),
]


def known_doc_mismatch(seen: Seen) -> DocMismatch | None:
    return next((m for m in KNOWN_DOC_MISMATCHES if m.matches(seen)), None)


# ------------------------------------------------------------------ results


@dataclass
class Finding:
    kind: str  # 5xx, state change, auth, status, validation, doc mismatch, transport, tool error
    role: str
    where: str
    request: str
    response: str
    expected: str
    counted: bool = True
    count: int = 1


@dataclass
class RoleStats:
    operations: set[str] = field(default_factory=set)
    requests: int = 0
    scenarios: int = 0
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    state_compared: int = 0


class Results:
    def __init__(self) -> None:
        self.roles: dict[str, RoleStats] = {}
        self.manual_total = 0
        self.manual_failed = 0
        self.observations: list[str] = []
        # (operation, schema name) -> top-level fields answered but not in the schema
        self.undocumented: dict[tuple[str, str], set[str]] = {}

    def role(self, name: str) -> RoleStats:
        return self.roles.setdefault(name, RoleStats())

    def add(self, finding: Finding) -> None:
        stats = self.role(finding.role)
        for f in stats.findings:
            if (f.kind, f.where, f.request.split(" ")[0], f.response[:60], f.expected) == (
                finding.kind,
                finding.where,
                finding.request.split(" ")[0],
                finding.response[:60],
                finding.expected,
            ):
                f.count += 1
                return
        stats.findings.append(finding)

    def counted(self) -> list[Finding]:
        return [f for s in self.roles.values() for f in s.findings if f.counted]


# ------------------------------------------------------------------ HTTP


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    note: str = ""

    def text(self, limit: int = 300) -> str:
        body = self.body.decode("utf-8", "replace")
        if len(body) > limit:
            body = body[:limit] + f"... ({len(self.body)} bytes)"
        return f"{self.status} {self.headers.get('content-type', '-')} {body}{self.note}"

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Http:
    """A tiny client on http.client: raw bytes in, any method, no redirects, no retries."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str | bytes] | None = None,
        timeout: float = 60.0,
    ) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        note = ""
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("content-length", str(len(body)))
            conn.endheaders()
            if body:
                try:
                    view = memoryview(body)
                    for i in range(0, len(body), 1 << 16):
                        conn.send(view[i : i + (1 << 16)])
                except (BrokenPipeError, ConnectionResetError):
                    note = " (the server closed the connection before the whole body was sent)"
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, note)
        finally:
            conn.close()

    def json_request(
        self, method: str, path: str, payload: Any, headers: dict[str, str] | None = None
    ) -> Response:
        return self.request(
            method,
            path,
            json.dumps(payload).encode(),
            {"content-type": "application/json", **(headers or {})},
        )

    def aws(self, target: str, payload: dict[str, Any], version: str = "1.1") -> dict[str, Any]:
        resp = self.request(
            "POST",
            "/",
            json.dumps(payload).encode(),
            {"x-amz-target": target, "content-type": f"application/x-amz-json-{version}"},
        )
        out = resp.json() or {}
        if resp.status >= 300:
            raise AwsError(target, resp.status, out)
        return out

    def cognito(self, op: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.aws(f"AWSCognitoIdentityProviderService.{op}", payload)


class AwsError(Exception):
    def __init__(self, target: str, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{target}: {status} {body}")
        self.type = str(body.get("__type", ""))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------ presso


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Presso:
    """One `presso serve --in-memory` child process, killed on stop (also on failure)."""

    def __init__(self, binary: Path, work: Path, time_scale: float) -> None:
        self.binary = binary
        self.port = free_port()
        self.log_path = work / "presso.log"
        self.time_scale = time_scale
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float = 90.0) -> Http:
        cmd = [
            str(self.binary),
            "serve",
            "--template",
            "template.yaml",
            "--port",
            str(self.port),
            "--in-memory",
            "--time-scale",
            str(self.time_scale),
            "--parameter-overrides",
            *OVERRIDES,
        ]
        log = open(self.log_path, "wb")
        env = {**os.environ, "NO_COLOR": "1"}
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        log.close()
        client = Http(self.port)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"presso exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if client.request("GET", "/config.json", timeout=2).status == 200:
                    return client
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"presso did not answer /config.json within {ready_timeout}s")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


# ------------------------------------------------------------------ JWT tinkering


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    h, p, s = token.split(".")
    return json.loads(unb64u(h)), json.loads(unb64u(p)), s


def jwt(header: dict[str, Any], payload: dict[str, Any], signature: str) -> str:
    return ".".join(
        [b64u(json.dumps(header).encode()), b64u(json.dumps(payload).encode()), signature]
    )


def der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + der_len(len(content)) + content


def der_int(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    return der(0x02, raw)


def rsa_pems(jwk: dict[str, Any]) -> list[bytes]:
    """The JWK's public key as SubjectPublicKeyInfo and PKCS#1 PEM (for HS256 key confusion)."""
    n = int.from_bytes(unb64u(jwk["n"]), "big")
    e = int.from_bytes(unb64u(jwk["e"]), "big")
    pkcs1 = der(0x30, der_int(n) + der_int(e))
    rsa_oid = bytes.fromhex("06092a864886f70d010101") + bytes.fromhex("0500")
    spki = der(0x30, der(0x30, rsa_oid) + der(0x03, b"\x00" + pkcs1))

    def pem(label: str, blob: bytes) -> bytes:
        b = base64.b64encode(blob).decode()
        lines = [b[i : i + 64] for i in range(0, len(b), 64)]
        return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()

    return [pem("PUBLIC KEY", spki), pem("RSA PUBLIC KEY", pkcs1)]


def hs256(header: dict[str, Any], payload: dict[str, Any], key: bytes) -> str:
    signing = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(payload).encode())
    sig = hmac.new(key, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64u(sig)


# ------------------------------------------------------------------ the stack's users


@dataclass
class World:
    http: Http
    tables: Tables
    manual_log: Path
    pool_id: str
    tokens: dict[str, str]  # role -> ID token
    extra_tokens: dict[str, str]  # name -> other tokens (access, refresh, other pool, ...)
    order_a: str
    jwk: dict[str, Any]

    def qr_code(self) -> str:
        resp = self.http.request("GET", "/api/qr-code?eventId=default", None, bearer(self.tokens["barista"]))
        if resp.status != 200:
            raise RuntimeError(f"GET /api/qr-code as the barista: {resp.text()}")
        return str(resp.json()["bucket"]["code"])


def make_user(
    http: Http, pool: str, client: str, email: str, admin: bool = False
) -> dict[str, Any]:
    try:
        http.cognito(
            "AdminCreateUser",
            {
                "UserPoolId": pool,
                "Username": email,
                "MessageAction": "SUPPRESS",
                "UserAttributes": [
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "given_name", "Value": "Ann"},
                ],
            },
        )
    except AwsError as e:
        if "UsernameExists" not in e.type:
            raise
    http.cognito(
        "AdminSetUserPassword",
        {"UserPoolId": pool, "Username": email, "Password": PASSWORD, "Permanent": True},
    )
    if admin:
        http.cognito("AdminAddUserToGroup", {"UserPoolId": pool, "Username": email, "GroupName": "admin"})
    return http.cognito(
        "AdminInitiateAuth",
        {
            "UserPoolId": pool,
            "ClientId": client,
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD},
        },
    )["AuthenticationResult"]


def setup(http: Http, work: Path) -> World:
    settings = http.request("GET", "/config.json").json()
    pool = settings["userPoolId"]
    clients = http.cognito("ListUserPoolClients", {"UserPoolId": pool, "MaxResults": 60})
    robot = next(c["ClientId"] for c in clients["UserPoolClients"] if c["ClientName"] == ROBOT_CLIENT)
    barista = make_user(http, pool, robot, BARISTA, admin=True)
    a = make_user(http, pool, robot, CUSTOMER_A)
    b = make_user(http, pool, robot, CUSTOMER_B)
    tokens = {"barista": barista["IdToken"], "customer-a": a["IdToken"], "customer-b": b["IdToken"]}

    flows = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    # A client of the same pool that the HTTP API's authorizer does not list as an audience.
    third = http.cognito(
        "CreateUserPoolClient", {"UserPoolId": pool, "ClientName": "abuse-outsider", "ExplicitAuthFlows": flows}
    )["UserPoolClient"]["ClientId"]
    # Another pool on the same presso: its tokens are validly signed, but by another issuer.
    other_pool = http.cognito("CreateUserPool", {"PoolName": "abuse-other", "UsernameAttributes": ["email"]})[
        "UserPool"
    ]["Id"]
    other_client = http.cognito(
        "CreateUserPoolClient", {"UserPoolId": other_pool, "ClientName": "abuse-other", "ExplicitAuthFlows": flows}
    )["UserPoolClient"]["ClientId"]
    http.cognito("CreateGroup", {"UserPoolId": other_pool, "GroupName": "admin"})
    extra = {
        "access": a["AccessToken"],
        "refresh": a["RefreshToken"],
        "outsider-client": make_user(http, pool, third, CUSTOMER_A)["IdToken"],
        "other-pool": make_user(http, other_pool, other_client, BARISTA, admin=True)["IdToken"],
    }
    jwks = http.request("GET", f"/{pool}/.well-known/jwks.json").json()
    kid = jwt_parts(tokens["customer-a"])[0].get("kid")
    jwk = next((k for k in jwks["keys"] if k.get("kid") == kid), jwks["keys"][0])

    (work / "manual.jsonl").unlink(missing_ok=True)
    tables = Tables(http.base_url, Tables(http.base_url, []).list_tables())
    world = World(http, tables, work / "manual.jsonl", pool, tokens, extra, "", jwk)
    code = world.qr_code()
    resp = http.request("POST", f"/api/qr-code?eventId=default&token={code}", None, bearer(tokens["customer-a"]))
    if resp.status != 200:
        raise RuntimeError(f"customer A's order: {resp.text()}")
    world.order_a = str(resp.json()["orderId"])
    canary_check(http, tables)
    return world


def canary_check(http: Http, tables: Tables) -> None:
    """Proves the snapshots see a write: a canary item put into the config table and removed."""
    before = tables.settled_snapshot()
    key = {"PK": {"S": "abuse-canary"}}
    http.aws("DynamoDB_20120810.PutItem", {"TableName": CONFIG_TABLE, "Item": {**key, "x": {"N": "1"}}}, "1.0")
    seen = diff(before, tables.snapshot())
    http.aws("DynamoDB_20120810.DeleteItem", {"TableName": CONFIG_TABLE, "Key": key}, "1.0")
    if CONFIG_TABLE not in seen or tables.snapshot() != before:
        raise RuntimeError(f"the table snapshots did not see a canary write: {seen}")


# ------------------------------------------------------------------ hand-written cases


@dataclass
class Manual:
    name: str
    role: str
    method: str
    path: str
    expect: frozenset[int] | None  # None: any non-5xx answer is recorded as an observation
    headers: dict[str, str | bytes] = field(default_factory=dict)
    body: bytes | None = None


def run_manual(world: World, results: Results, case: Manual) -> Response | None:
    """Sends one case; checks no 5xx, the expected status, and no state change on a 4xx write."""
    results.manual_total += 1
    mutating = case.method in MUTATING
    before = world.tables.settled_snapshot() if mutating else None
    request = f"{case.method} {case.path}"
    if case.body is not None:
        shown = case.body[:120].decode("utf-8", "replace")
        request += f" body[{len(case.body)} B]={shown!r}"

    def fail(kind: str, response: str, expected: str) -> None:
        results.manual_failed += 1
        results.add(Finding(kind, f"manual:{case.role}", case.name, request, response, expected))

    try:
        resp = world.http.request(case.method, case.path, case.body, case.headers)
    except OSError as e:
        fail("transport", f"no response: {e!r}", "an HTTP answer")
        return None
    expected = "any non-5xx" if case.expect is None else "one of " + "/".join(map(str, sorted(case.expect)))
    if resp.status >= 500:
        fail("5xx", resp.text(), expected)
    elif case.expect is not None and resp.status not in case.expect:
        kind = "auth" if 401 in case.expect and resp.status < 400 else "status"
        fail(kind, resp.text(), expected)
    elif case.expect is None:
        results.observations.append(f"{case.name}: {request[:160]} -> {resp.text(160)}")
    ctype = resp.headers.get("content-type", "")
    if 400 <= resp.status < 500 and not ctype.startswith("application/problem+json"):
        if not (ctype.startswith("application/json") and resp.body == GATEWAY_BODIES.get(resp.status)):
            fail("error format", resp.text(),
                 "an application/problem+json Problem (or API Gateway's own JSON message)")
    changes: dict[str, Any] = {}
    if mutating and before is not None and 400 <= resp.status < 500:
        changes = diff(before, world.tables.snapshot())
        if changes:
            fail("state change", resp.text() + " changed: " + json.dumps(changes)[:1500], "tables unchanged")
    with open(world.manual_log, "a", encoding="utf-8") as f:
        record = {"name": case.name, "role": case.role, "request": request[:300], "response": resp.text(300),
                  "expected": expected, "state_compared": mutating and 400 <= resp.status < 500, "diff": changes}
        f.write(json.dumps(record) + "\n")
    return resp


def auth_cases(world: World) -> Iterator[Manual]:
    a = world.tokens["customer-a"]
    header, payload, sig = jwt_parts(a)
    _, _, sig_b = jwt_parts(world.tokens["customer-b"])
    now = int(payload["iat"])
    order = f"/api/orders/{world.order_a}"
    drink = json.dumps({"drink": "americano", "modifiers": []}).encode()
    json_ct = {"content-type": "application/json"}
    admin_payload = {**payload, "cognito:groups": ["admin"]}
    other_iss = payload["iss"].rsplit("/", 1)[0] + "/us-east-1_AAAAAAAAA"
    forged: list[tuple[str, str]] = [
        ("random signature", jwt(header, payload, b64u(random.Random(7).randbytes(256)))),
        ("B's signature on A's header and payload", jwt(header, payload, sig_b)),
        ("expired: exp moved into the past, not re-signed", jwt(header, {**payload, "exp": now - 3600}, sig)),
        ("exp moved a year ahead, not re-signed", jwt(header, {**payload, "exp": now + 365 * 86400}, sig)),
        ("wrong issuer, not re-signed", jwt(header, {**payload, "iss": other_iss}, sig)),
        ("sub swapped to B's, not re-signed",
         jwt(header, {**payload, "sub": jwt_parts(world.tokens["customer-b"])[1]["sub"]}, sig)),
        ("alg none, empty signature", jwt({"alg": "none", "typ": "JWT"}, payload, "")),
        ("alg None, empty signature", jwt({"alg": "None", "typ": "JWT"}, payload, "")),
        ("alg none, original signature kept", jwt({"alg": "none", "typ": "JWT"}, payload, sig)),
        ("unknown kid, original signature", jwt({**header, "kid": "not-a-key"}, payload, sig)),
        ("no kid, original signature", jwt({k: v for k, v in header.items() if k != "kid"}, payload, sig)),
        ("another pool's validly signed ID token", world.extra_tokens["other-pool"]),
        ("ID token of a client outside the audience", world.extra_tokens["outsider-client"]),
        ("refresh token as bearer", world.extra_tokens["refresh"]),
        ("two segments", a.rsplit(".", 1)[0]),
        ("four segments", a + ".xyz"),
        ("truncated signature", a[:-10]),
        ("64 KiB of garbage", "a" * 65536),
        ("empty token", ""),
    ]
    for i, pem in enumerate(rsa_pems(world.jwk)):
        forged.append((f"HS256 signed with the JWKS public key as HMAC secret (PEM {i})",
                       hs256({**header, "alg": "HS256"}, payload, pem)))
    forged.append(("HS256 signed with the JWK JSON as HMAC secret",
                   hs256({**header, "alg": "HS256"}, payload, json.dumps(world.jwk).encode())))
    for name, token in forged:
        yield Manual(f"token: {name}", "forged", "GET", "/api/myOrders", frozenset({401}), bearer(token))
        yield Manual(f"token: {name} (write)", "forged", "PUT", order, frozenset({401}),
                     {**bearer(token), **json_ct}, drink)
    yield Manual("token: admin group added, not re-signed", "forged", "GET",
                 "/api/orders?eventId=default&state=pending", frozenset({401}), bearer(jwt(header, admin_payload, sig)))
    yield Manual("token: admin group added, not re-signed (write)", "forged", "PUT", "/api/events/default/store",
                 frozenset({401}), {**bearer(jwt(header, admin_payload, sig)), **json_ct}, b'{"state":"closed"}')
    yield Manual("token: another pool's admin (write)", "forged", "PUT", "/api/events/default/store",
                 frozenset({401}), {**bearer(world.extra_tokens["other-pool"]), **json_ct}, b'{"state":"closed"}')
    for name, value in [
        ("'Bearer' alone", "Bearer"),
        ("'Bearer ' and spaces", "Bearer    "),
        ("Basic credentials", "Basic " + base64.b64encode(b"barista@example.com:" + PASSWORD.encode()).decode()),
        ("two bearer tokens", f"Bearer {a} Bearer {a}"),
        ("non-ASCII bytes", b"Bearer \xff\xfe\xfd"),
    ]:
        yield Manual(f"authorization header: {name}", "forged", "GET", "/api/myOrders", frozenset({401}),
                     {"Authorization": value})
    yield Manual("authorization header: 16 KiB of garbage", "forged", "GET", "/api/myOrders",
                 frozenset({401, 431}), {"Authorization": "Bearer " + "x" * 16384})
    # Behaviour worth knowing rather than a rule: API Gateway's JWT authorizer also takes access
    # tokens whose client_id is an audience, and a token without the Bearer prefix.
    yield Manual("token: customer A's access token (observed)", "forged", "GET", "/api/myOrders", None,
                 bearer(world.extra_tokens["access"]))
    yield Manual("token: A's ID token without 'Bearer ' (observed)", "forged", "GET", "/api/myOrders", None,
                 {"Authorization": a})
    yield Manual("token: lower-case 'bearer' (observed)", "forged", "GET", "/api/myOrders", None,
                 {"Authorization": "bearer " + a})


def body_cases(world: World) -> Iterator[Manual]:
    a = bearer(world.tokens["customer-a"])
    barista = bearer(world.tokens["barista"])
    ct = {"content-type": "application/json"}
    order = f"/api/orders/{world.order_a}"
    big = 2 * 1024 * 1024 + 50_000
    huge = 11 * 1024 * 1024
    yield Manual("2 MiB+ JSON drink (PUT order)", "customer-a", "PUT", order, frozenset({400, 413, 422}),
                 {**a, **ct}, b'{"drink":"' + b"x" * big + b'","modifiers":[]}')
    yield Manual("2 MiB+ JSON modifiers list (PUT order)", "customer-a", "PUT", order, frozenset({400, 413, 422}),
                 {**a, **ct}, json.dumps({"drink": "americano", "modifiers": ["oat"] * (big // 6)}).encode())
    yield Manual("1.9 MB JSON drink, under 2 MiB (PUT order) (observed)", "customer-a", "PUT", order, None,
                 {**a, **ct}, b'{"drink":"' + b"x" * 1_900_000 + b'","modifiers":[]}')
    yield Manual("11 MB JSON (PUT order, over the HTTP API's 10 MB)", "customer-a", "PUT", order,
                 frozenset({413}), {**a, **ct}, b'{"drink":"' + b"x" * huge + b'"}')
    yield Manual("2 MiB+ JSON menu (PUT config)", "barista", "PUT", "/api/events/default/config",
                 frozenset({400, 413, 422}), {**barista, **ct},
                 json.dumps({"menu": {"drinks": [{"id": "x" * big, "name": "X"}]}}).encode())
    yield Manual("2 MiB+ JSON store state (PUT store)", "barista", "PUT", "/api/events/default/store",
                 frozenset({400, 413, 422}), {**barista, **ct}, json.dumps({"state": "x" * big}).encode())
    malformed = b'{"drink": "americano", "modifiers": [}'
    for role, headers, method, path in [
        ("customer-a", a, "PUT", order),
        ("barista", barista, "PUT", "/api/events/default/config"),
        ("barista", barista, "PUT", "/api/events/default/store"),
        ("barista", barista, "POST", "/api/events/abuse-new"),
    ]:
        yield Manual(f"malformed JSON ({method} {path.replace(world.order_a, '{A}')})", role, method, path,
                     frozenset({400}), {**headers, **ct}, malformed)
    for name, body, expect in [
        ("empty body", b"", {400}),
        ("JSON null", b"null", {400}),
        ("JSON array", b"[]", {400}),
        ("JSON string", b'"americano"', {400}),
        ("drink is a number", b'{"drink": 5}', {400}),
        ("modifiers is an object", b'{"drink": "americano", "modifiers": {"a": 1}}', {400}),
        ("invalid UTF-8", b'{"drink": "\xff\xfe"}', {400}),
        ("NUL in the drink", b'{"drink": "ameri\\u0000cano"}', {400, 422}),
        ("lone surrogate escape", b'{"drink": "\\ud800"}', {400, 422}),
        ("100k nested arrays", b"[" * 100_000 + b"]" * 100_000, {400}),
        ("100k nested objects", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, {400}),
        ("trailing garbage", b'{"drink": "americano"} xx', {400}),
        # serde's derived Deserialize also takes a struct as a JSON array of its fields in order;
        # the document says object. An unknown drink keeps A's order as it is either way.
        ("DrinkRequest as a JSON array", b'["no-such-drink", []]', {400}),
    ]:
        yield Manual(f"body: {name} (PUT order)", "customer-a", "PUT", order, frozenset(expect), {**a, **ct}, body)
    for name, body in [
        ("maxOrdersPerUser is a string", b'{"maxOrdersPerUser": "many"}'),
        ("secondsPerDrink beyond i64", b'{"secondsPerDrink": 99999999999999999999999999}'),
        ("secondsPerDrink 1e400", b'{"secondsPerDrink": 1e400}'),
        ("menu is a list", b'{"menu": []}'),
        ("drinks is a string", b'{"menu": {"drinks": "all"}}'),
    ]:
        yield Manual(f"body: {name} (PUT config)", "barista", "PUT", "/api/events/default/config",
                     frozenset({400, 422}), {**barista, **ct}, body)
    yield Manual("body: ConfigUpdate as a JSON array (PUT config)", "barista", "PUT",
                 "/api/events/default/config", frozenset({400}), {**barista, **ct}, b"[null]")
    for name, body in [("unknown state", b'{"state": "melted"}'), ("state is a number", b'{"state": 1}'),
                       ("no state", b"{}")]:
        yield Manual(f"body: {name} (PUT store)", "barista", "PUT", "/api/events/default/store",
                     frozenset({400, 422}), {**barista, **ct}, body)
    yield Manual("body: JSON sent as text/plain (observed)", "customer-a", "PUT", order, None,
                 {**a, "content-type": "text/plain"}, b'{"drink": "no-such-drink"}')


def access_cases(world: World) -> Iterator[Manual]:
    a = bearer(world.tokens["customer-a"])
    b = bearer(world.tokens["customer-b"])
    barista = bearer(world.tokens["barista"])
    ct = {"content-type": "application/json"}
    order = f"/api/orders/{world.order_a}"
    drink = json.dumps({"drink": "americano", "modifiers": []}).encode()
    code = world.qr_code()
    denied = frozenset({403, 404})
    yield Manual("B reads A's order", "customer-b", "GET", order, denied, b)
    yield Manual("B reads A's journey", "customer-b", "GET", order + "/journey", denied, b)
    yield Manual("B gives A's drink", "customer-b", "PUT", order, denied, {**b, **ct}, drink)
    for action in ("cancel", "make", "complete", "unmake"):
        yield Manual(f"B {action}s A's order", "customer-b", "PUT", f"{order}?action={action}", denied, {**b, **ct}, drink)
    yield Manual("B: duplicate action (make, cancel) on A's order", "customer-b", "PUT",
                 f"{order}?action=make&action=cancel", frozenset({400, 403, 404}), {**b, **ct}, drink)
    yield Manual("B reads A's order through another event", "customer-b", "GET",
                 f"/api/myOrders?eventId=default&eventId=other", frozenset({200, 400}), b)
    for action in ("make", "complete", "unmake"):
        yield Manual(f"A {action}s own order (barista action)", "customer-a", "PUT", f"{order}?action={action}",
                     frozenset({403}), {**a, **ct}, drink)
    yield Manual("A lists the queue", "customer-a", "GET", "/api/orders?eventId=default&state=pending",
                 frozenset({403}), a)
    yield Manual("A asks for the QR code", "customer-a", "GET", "/api/qr-code?eventId=default", frozenset({403}), a)
    yield Manual("A changes the config", "customer-a", "PUT", "/api/events/default/config", frozenset({403}),
                 {**a, **ct}, b'{"open": false}')
    yield Manual("A closes the store", "customer-a", "PUT", "/api/events/default/store", frozenset({403}),
                 {**a, **ct}, b'{"state": "closed"}')
    yield Manual("A creates an event", "customer-a", "POST", "/api/events/abuse-new", frozenset({403}),
                 {**a, **ct}, b"{}")
    yield Manual("A orders a second time over the per-user limit", "customer-a", "POST",
                 f"/api/qr-code?eventId=default&token={code}", frozenset({409, 429}), a)
    yield Manual("B uses the code for another event", "customer-b", "POST",
                 f"/api/qr-code?eventId=abuse-nowhere&token={code}", frozenset({400, 404, 409}), b)
    yield Manual("B uses a wrong code", "customer-b", "POST",
                 f"/api/qr-code?eventId=default&token={code}x", frozenset({400, 404, 409}), b)
    yield Manual("B: code with a NUL", "customer-b", "POST",
                 f"/api/qr-code?eventId=default&token={code}%00", frozenset({400, 404, 409}), b)
    yield Manual("anonymous gives A's drink", "anonymous", "PUT", order, frozenset({401}), ct, drink)
    yield Manual("anonymous closes the store", "anonymous", "PUT", "/api/events/default/store",
                 frozenset({401}), ct, b'{"state": "closed"}')
    yield Manual("barista re-creates event default", "barista", "POST", "/api/events/default", frozenset({409}),
                 {**barista, **ct}, b"{}")
    for name, event in [("slash", "a%2Fb"), ("dot-dot", ".."), ("unicode", "caf%C3%A9"), ("NUL", "a%00b"),
                        ("1 KiB", "e" * 1024)]:
        yield Manual(f"barista creates an event with a {name} id", "barista", "POST", f"/api/events/{event}",
                     frozenset({400, 404}), {**barista, **ct}, b"{}")
    for name, path in [
        ("traversal", "/api/orders/..%2F..%2Fconfig.json"),
        ("NUL", "/api/orders/a%00b"),
        ("10 KiB id", "/api/orders/" + "o" * 10240),
        ("percent-encoded garbage", "/api/orders/%ff%fe%fd"),
    ]:
        yield Manual(f"order id: {name}", "customer-a", "GET", path, frozenset({400, 404}), a)
        yield Manual(f"order id: {name} (write)", "customer-a", "PUT", path, frozenset({400, 404}), {**a, **ct}, drink)
    yield Manual("event id: invalid UTF-8 (GET config)", "anonymous", "GET", "/api/events/%ff%fe/config",
                 frozenset({400, 404}))
    yield Manual("event id: invalid UTF-8 (PUT store)", "barista", "PUT", "/api/events/%ff%fe/store",
                 frozenset({400, 404}), {**barista, **ct}, b'{"state": "closed"}')
    yield Manual("query: invalid UTF-8 eventId (myOrders)", "customer-a", "GET", "/api/myOrders?eventId=%ff%fe",
                 frozenset({400}), a)
    yield Manual("query: invalid UTF-8 action (PUT order)", "customer-a", "PUT", f"{order}?action=%ff%fe",
                 frozenset({400}), {**a, **ct}, drink)
    yield Manual("query: broken percent-encoding (orders)", "barista", "GET",
                 "/api/orders?eventId=default&state=%zz", frozenset({400}), barista)
    for limit in ("-1", "0", "abc", "99999999999999999999999", "1e3", "%00"):
        yield Manual(f"limit={limit}", "barista", "GET", f"/api/orders?eventId=default&state=queued&limit={limit}",
                     frozenset({200, 400}), barista)
    yield Manual("unknown state", "barista", "GET", "/api/orders?eventId=default&state=melted", frozenset({400}),
                 barista)
    yield Manual("duplicate eventId (QR code)", "barista", "GET", "/api/qr-code?eventId=default&eventId=other",
                 None, barista)


def expiry_cases(world: World) -> list[Manual]:
    ct = {"content-type": "application/json"}
    drink = json.dumps({"drink": "americano", "modifiers": []}).encode()
    return [
        Manual("genuine token past exp (clock moved 2 h)", "expired", "GET", "/api/myOrders", frozenset({401}),
               bearer(world.tokens["customer-a"])),
        Manual("genuine token past exp (write)", "expired", "PUT", f"/api/orders/{world.order_a}", frozenset({401}),
               {**bearer(world.tokens["customer-a"]), **ct}, drink),
        Manual("genuine admin token past exp (write)", "expired", "PUT", "/api/events/default/store",
               frozenset({401}), {**bearer(world.tokens["barista"]), **ct}, b'{"state": "closed"}'),
    ]


# ------------------------------------------------------------------ schemathesis


def spec_with_examples(spec: dict[str, Any], known: dict[str, list[Any]]) -> dict[str, Any]:
    """A copy of the document whose parameters and bodies carry the known values as examples."""
    out = copy.deepcopy(spec)
    bodies = {
        "DrinkRequest": {"drink": "americano", "modifiers": []},
        "ConfigUpdate": {"open": True},
        "StoreStateRequest": {"state": "open"},
    }
    for item in out["paths"].values():
        for method, op in item.items():
            if method not in {"get", "put", "post", "delete", "patch"}:
                continue
            for param in op.get("parameters", []):
                values = known.get(param["name"])
                if values:
                    param["examples"] = {f"known{i}": {"value": v} for i, v in enumerate(values)}
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                ref = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                if ref in bodies:
                    content["examples"] = {"known": {"value": bodies[ref]}}
    return out


def known_values(world: World) -> dict[str, list[Any]]:
    return {
        "orderId": [world.order_a],
        "eventId": ["default", "abuse-fresh"],
        "token": [world.qr_code()],
        "action": ["make", "unmake", "complete", "cancel"],
        "state": ["pending", "submitted", "queued", "inProgress", "completed", "cancelled", "timedOut"],
        "limit": ["1", "50"],
    }


def st_command(spec: Path, base_url: str, token: str | None, examples: int, seed: int, ndjson: Path,
               phases: str) -> list[str]:
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", str(spec),
        "--url", base_url,
        "--workers", "1",
        "--max-examples", str(examples),
        "--seed", str(seed),
        "--phases", phases,
        "--checks", ",".join(CHECKS),
        "--continue-on-failure",
        "--generation-database", "none",
        "--suppress-health-check", "all",
        "--request-timeout", "30",
        "--report", "ndjson",
        "--report-ndjson-path", str(ndjson),
        "--output-truncate", "false",
        "--no-color",
    ]
    if token:
        cmd += ["--header", f"Authorization: Bearer {token}"]
    return cmd


def decode(blob: Any) -> str:
    if isinstance(blob, dict) and "$base64" in blob:
        return base64.b64decode(blob["$base64"]).decode("utf-8", "replace")
    return "" if blob is None else str(blob)


def documented_fields(spec: dict[str, Any], operation: str, status: int) -> tuple[str, set[str]] | None:
    """The schema name and top-level properties the document gives a JSON answer."""
    method, _, path = operation.partition(" ")
    op = spec.get("paths", {}).get(path, {}).get(method.lower())
    if not op:
        return None
    schema = (
        op.get("responses", {}).get(str(status), {}).get("content", {}).get("application/json", {}).get("schema")
    )
    if not schema:
        return None
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    resolved = spec.get("components", {}).get("schemas", {}).get(name, schema)
    return name or "inline", set(resolved.get("properties", {}))


def note_undocumented(spec: dict[str, Any], operation: str, status: int, content: str, results: Results) -> None:
    documented = documented_fields(spec, operation, status)
    if documented is None:
        return
    try:
        value = json.loads(content)
    except ValueError:
        return
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):
            extra = set(item) - documented[1]
            if extra:
                results.undocumented.setdefault((operation, documented[0]), set()).update(extra)


def digest_ndjson(path: Path, role: str, results: Results, strict_doc: bool, spec: dict[str, Any]) -> None:
    stats = results.role(role)
    if not path.exists():
        results.add(Finding("tool error", role, "st run", "-", "no NDJSON report written", "a report"))
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if "NonFatalError" in event:
            err = event["NonFatalError"]
            label = err.get("label") or err.get("related_to_operation") or "?"
            results.add(Finding("tool error", role, str(label), "-", json.dumps(err)[:600], "no error"))
            continue
        done = event.get("ScenarioFinished")
        if not done:
            continue
        recorder = done.get("recorder", {})
        label = recorder.get("label", "?")
        interactions = recorder.get("interactions", {})
        stats.scenarios += 1
        stats.requests += len(interactions)
        stats.operations.add(label)
        for case_id, checks in recorder.get("checks", {}).items():
            inter = interactions.get(case_id, {})
            req = inter.get("request", {})
            resp = inter.get("response") or {}
            status = int(resp.get("status_code") or 0)
            ctype = ",".join(resp.get("headers", {}).get("content-type", ["-"]))
            body = decode(req.get("body"))
            request = f"{req.get('method', '?')} {req.get('uri', '?')}" + (f" body={body[:300]!r}" if body else "")
            content = decode(resp.get("content"))
            response = f"{status} {ctype} {content[:400]}"
            if 200 <= status < 300 and ctype.startswith("application/json"):
                note_undocumented(spec, label, status, content, results)
            for check in checks:
                if check.get("status") != "failure":
                    continue
                name = check.get("name", "?")
                failure = (check.get("failure_info") or {}).get("failure", {})
                message = f"{failure.get('code', '')} {failure.get('title', '')}: {failure.get('message', '')}"
                kind = {
                    "not_a_server_error": "5xx",
                    "no_state_change_on_rejection": "state change",
                    "ignored_auth": "auth",
                }.get(name, "doc mismatch" if name in DOC_CHECKS else "validation")
                seen = Seen(name, label, status, ctype, str(req.get("uri", "")), body, message)
                known = known_doc_mismatch(seen)
                results.add(
                    Finding(
                        "known doc mismatch" if known else kind,
                        role,
                        f"{label} [{name}]",
                        request,
                        response,
                        known.why if known else message.strip()[:600],
                        counted=strict_doc or known is None,
                    )
                )


def run_schemathesis(world: World, role: str, spec: dict[str, Any], args: argparse.Namespace, work: Path,
                     results: Results) -> None:
    known = known_values(world)
    spec_path = work / f"openapi-{role}.json"
    spec_path.write_text(json.dumps(spec_with_examples(spec, known), indent=1), encoding="utf-8")
    ndjson = work / f"st-{role}.ndjson"
    log = work / f"hooks-{role}.jsonl"
    out = work / f"st-{role}.txt"
    for stale in (ndjson, log, out):
        stale.unlink(missing_ok=True)
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(HERE / "hooks.py"),
        "ABUSE_BASE_URL": world.http.base_url,
        "ABUSE_ROLE": role,
        "ABUSE_KNOWN": json.dumps(known),
        "ABUSE_TABLES": json.dumps(world.tables.tables),
        "ABUSE_LOG": str(log),
        "NO_COLOR": "1",
    }
    cmd = st_command(spec_path, world.http.base_url, world.tokens.get(role), args.examples, args.seed, ndjson,
                     args.phases)
    started = time.monotonic()
    with open(out, "wb") as f:
        proc = subprocess.run(cmd, cwd=work, env=env, stdout=f, stderr=subprocess.STDOUT, timeout=args.role_timeout)
    results.role(role).seconds = time.monotonic() - started
    if proc.returncode not in (0, 1):
        results.add(Finding("tool error", role, "st run", " ".join(cmd[:6]), f"exit {proc.returncode}; see {out}",
                            "exit 0 or 1"))
    digest_ndjson(ndjson, role, results, args.strict_doc, spec)
    if log.exists():
        records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
        results.role(role).state_compared = sum(1 for r in records if r.get("state_checked"))


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--presso", type=Path, default=REPO / "target/debug/presso", help="the presso binary")
    p.add_argument("--examples", type=int, default=200, help="schemathesis --max-examples per operation and role")
    p.add_argument("--seed", type=int, default=20261207, help="schemathesis/hypothesis seed")
    p.add_argument("--phases", default="examples,coverage,fuzzing", help="schemathesis phases")
    p.add_argument("--roles", default="anonymous,customer-b,customer-a,barista",
                   help="comma-separated roles to fuzz, in this order")
    p.add_argument("--time-scale", type=float, default=0.01, help="presso --time-scale (slow timers)")
    p.add_argument("--work-dir", type=Path, default=None, help="where reports go (default: a new temp dir)")
    p.add_argument("--role-timeout", type=float, default=3600.0, help="seconds one role's st run may take")
    p.add_argument("--strict-doc", action="store_true", help="count known doc mismatches as failures too")
    p.add_argument("--skip-manual", action="store_true", help="only the schemathesis runs")
    return p.parse_args(argv)


def print_summary(results: Results, timings: dict[str, float], work: Path) -> None:
    print("\n" + "=" * 78)
    print("API abuse suite: summary")
    print("=" * 78)
    for role, stats in results.roles.items():
        if role.startswith("manual:") or role.startswith("invariant"):
            continue
        counted = [f for f in stats.findings if f.counted]
        print(
            f"{role:11s} {len(stats.operations):2d} operations x {stats.scenarios // max(1, len(stats.operations))}"
            f" phases: {stats.requests:5d} requests ({stats.state_compared} rejected writes state-compared), "
            f"{sum(f.count for f in counted)} failures ({len(counted)} distinct), {stats.seconds:.1f}s"
        )
    print(f"hand-written  {results.manual_total:3d} cases, {results.manual_failed} failures")
    for name, secs in timings.items():
        print(f"  time {name:22s} {secs:7.1f}s")
    print(f"reports and logs: {work}")
    known = [f for s in results.roles.values() for f in s.findings if f.kind == "known doc mismatch"]
    if known:
        print("\nKNOWN DOC MISMATCHES (reported, " + ("counted: --strict-doc" if known[0].counted else "not counted")
              + "):")
        for m in KNOWN_DOC_MISMATCHES:
            hits = [f for f in known if f.expected.startswith(m.why[:40])]
            if hits:
                ops = sorted({f.where.split(" [")[0] + f" ({f.role})" for f in hits})
                print(f"- {m.check} ({sum(f.count for f in hits)} responses): {m.why}")
                print(f"  where: {', '.join(ops[:12])}{' ...' if len(ops) > 12 else ''}")
                print(f"  e.g. {hits[0].request[:200]} -> {hits[0].response[:160]}")
    if results.undocumented:
        print("\nDOC GAPS (answered but not in the response schema; schemas are open, so no check fails):")
        for (operation, schema), names in sorted(results.undocumented.items()):
            print(f"- {operation} ({schema}): {', '.join(sorted(names))}")
    if results.observations:
        print("\nOBSERVED (no rule, recorded):")
        for o in results.observations:
            print(f"- {o}")
    failures = results.counted()
    if failures:
        print(f"\nFAILURES ({len(failures)} distinct):")
        for f in failures:
            print(f"- [{f.kind}] {f.role}: {f.where}" + (f" (x{f.count})" if f.count > 1 else ""))
            print(f"    request:  {f.request[:700]}")
            print(f"    response: {f.response[:900]}")
            print(f"    expected: {f.expected}")
    print("\nRESULT: " + ("FAIL" if failures else "PASS"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="presso-abuse-"))
    work.mkdir(parents=True, exist_ok=True)
    binary = args.presso if args.presso.is_absolute() else (Path.cwd() / args.presso)
    if not binary.exists():
        binary = REPO / args.presso
    if not binary.exists():
        print(f"no presso binary at {args.presso}", file=sys.stderr)
        return 2
    spec = json.loads((REPO / "docs/api/openapi.json").read_text(encoding="utf-8"))
    results = Results()
    timings: dict[str, float] = {}
    presso = Presso(binary, work, args.time_scale)

    def on_signal(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        t = time.monotonic()
        http = presso.start()
        world = setup(http, work)
        timings["presso start + setup"] = time.monotonic() - t
        print(f"presso on {http.base_url}; tables {world.tables.tables}; A's order {world.order_a}", flush=True)

        if not args.skip_manual:
            t = time.monotonic()
            for case in [*auth_cases(world), *body_cases(world), *access_cases(world)]:
                run_manual(world, results, case)
            timings["hand-written cases"] = time.monotonic() - t
            print(f"hand-written cases: {results.manual_total} run, {results.manual_failed} failed", flush=True)

        roles = [r.strip() for r in args.roles.split(",") if r.strip()]
        for role in roles:
            if role not in ("anonymous", *world.tokens):
                print(f"unknown role {role}", file=sys.stderr)
                return 2
            before = world.tables.settled_snapshot()
            run_schemathesis(world, role, spec, args, work, results)
            after = world.tables.settled_snapshot()
            if role == "anonymous" and before != after:
                results.add(Finding("state change", "invariant", "the anonymous run changed tables", "st run (anonymous)",
                                    json.dumps(diff(before, after))[:1500], "no change"))
            if role.startswith("customer") and before.get(CONFIG_TABLE) != after.get(CONFIG_TABLE):
                results.add(Finding("state change", "invariant", f"the {role} run changed the config table",
                                    f"st run ({role})", json.dumps(diff(before, after))[:1500], "no change"))
            if role == "customer-b":
                prefix = f"ORDER#{world.order_a}"
                if only(before, ORDER_TABLE, prefix) != only(after, ORDER_TABLE, prefix):
                    results.add(Finding("state change", "invariant", "customer B's run changed A's order",
                                        "st run (customer-b)", json.dumps(diff(before, after))[:1500], "no change"))
            stats = results.role(role)
            timings[f"schemathesis {role}"] = stats.seconds
            print(f"schemathesis {role}: {stats.requests} requests, "
                  f"{sum(f.count for f in stats.findings if f.counted)} failures, {stats.seconds:.1f}s", flush=True)
            if not presso.alive():
                results.add(Finding("5xx", role, "presso", "-", f"presso died; see {presso.log_path}", "alive"))
                break

        if not args.skip_manual and presso.alive():
            t = time.monotonic()
            moved = http.json_request("POST", "/_presso/clock", {"advanceSeconds": 7200})
            if moved.status != 200:
                results.add(Finding("tool error", "manual:expired", "POST /_presso/clock", "-", moved.text(), "200"))
            else:
                for case in expiry_cases(world):
                    run_manual(world, results, case)
            timings["expiry cases"] = time.monotonic() - t
    except (RuntimeError, AwsError, OSError, subprocess.TimeoutExpired) as e:
        print(f"the suite could not run: {e}", file=sys.stderr)
        presso.stop()
        return 2
    finally:
        presso.stop()
        timings["total"] = time.monotonic() - started
    print_summary(results, timings, work)
    return 1 if results.counted() else 0


if __name__ == "__main__":
    sys.exit(main())
