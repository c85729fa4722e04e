"""Secrets never appear in logs, reports, errors or test recordings.

Every system is configured with distinctive secrets, then driven through its failure paths
against the sandboxes: 5xx bursts, 429s, access tokens that expire mid-run, malformed records,
revoked refresh tokens, and servers whose error bodies echo the whole request back (headers,
form fields, the Intacct control and login blocks). Everything a person or a log shipper could
see is collected — log records of every logger at DEBUG (urllib3 included), exceptions and
their causes, the ``arsync`` CLI's output, the stored run/quarantine/outbox/webhook rows, the
report — and no secret may appear in it, raw, base64- or URL-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import subprocess
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import responses
from fastapi.testclient import TestClient
from pydantic import SecretStr
from requests import PreparedRequest
from sqlalchemy import select
from typer.testing import CliRunner
from werkzeug.wrappers import Request, Response

from canonical.models import OutboxCommand, Quarantine, SyncRun, WebhookEvent
from connectors.errors import ApiError, AuthError, UncertainWriteError, share_of_failed_call
from connectors.redact import MASK, redact, redact_text, register_secret, register_secrets_in
from connectors.registry import SYSTEMS, entry
from connectors.sandbox.server import Faults, SandboxServer
from connectors.sandbox.world import World
from reconciler.report import build_report, render_html
from sync.cli import app as cli_app
from sync.runtime import Runtime
from sync.sandboxes import SandboxFleet
from sync.serve import create_app
from tests.support.pipeline import FAST, decide, settings_for, write_toml

REPO = Path(__file__).parents[2]

QBO_CLIENT_SECRET = "SECRET-qbo-client-secret-7f3a"
QBO_REFRESH_TOKEN = "SECRET-qbo-refresh-token-2c9d"
INTACCT_SENDER_PASSWORD = "SECRET-intacct-sender-pw-4e1b"
INTACCT_USER_PASSWORD = "SECRET-intacct-user-pw-9a0c"
INVOICED_API_KEY = "SECRET-invoiced-api-key-d3f8"
SF_CLIENT_SECRET = "SECRET-sf-client-secret-11ab"
SF_PASSWORD = "SECRET-sf-password-5b6c"
SF_SECURITY_TOKEN = "SECRETsfSecTok77e2"
STRIPE_SECRET = "whsec_SECRET-stripe-signing-0d4a"
ADYEN_KEY = "5EC12E7A0D5EC12E7A0D5EC12E7A0D5EC12E7A0D5EC12E7A0D5EC12E7A0D0A0D"
GOCARDLESS_SECRET = "SECRET-gocardless-webhook-6f2e"
GOCARDLESS_TOKEN = "SECRET-gocardless-access-token-8c1d"
QBO_VERIFIER = "SECRET-qbo-verifier-token-3a7b"
INVOICED_WEBHOOK_SECRET = "SECRET-invoiced-webhook-secret-0e9f"

STATIC_SECRETS = [
    QBO_CLIENT_SECRET,
    QBO_REFRESH_TOKEN,
    INTACCT_SENDER_PASSWORD,
    INTACCT_USER_PASSWORD,
    INVOICED_API_KEY,
    SF_CLIENT_SECRET,
    SF_PASSWORD,
    SF_SECURITY_TOKEN,
    SF_PASSWORD + SF_SECURITY_TOKEN,  # how the password flow sends them
    STRIPE_SECRET,
    ADYEN_KEY,
    GOCARDLESS_SECRET,
    GOCARDLESS_TOKEN,
    QBO_VERIFIER,
    INVOICED_WEBHOOK_SECRET,
]


def forms(secret: str) -> set[str]:
    """A secret as it could show up: raw, URL-encoded, base64 (alone or as Basic ``key:``)."""
    raw = secret.encode()
    out = {secret, quote(secret, safe=""), quote_plus(secret)}
    for blob in (raw, raw + b":"):
        out.add(base64.b64encode(blob).decode().rstrip("="))
        out.add(base64.urlsafe_b64encode(blob).decode().rstrip("="))
    return out


# the sandboxes, with known secrets and a switch that makes every reply echo the request -----
class Echo:
    """When ``status`` is set, every request is answered with an error that echoes it."""

    def __init__(self) -> None:
        self.status: int | None = None


def echo_text(request: Request) -> str:
    body = request.get_data(cache=True, as_text=True)
    headers = "; ".join(f"{k}: {v}" for k, v in request.headers.items())
    form = ", ".join(f"{k}={v!r}" for k, v in request.form.items()) if request.form else ""
    return (
        f"could not process {request.method} {request.full_path} "
        f"(headers {headers}) (form {form}) (body {body})"
    )


def install_echo(server: SandboxServer, echo: Echo) -> None:
    original = server.wsgi

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if echo.status is None:
            return original(environ, start_response)
        request = Request(environ)
        text = echo_text(request)
        response: Response
        if "oauth2" in request.path:  # token endpoints answer in OAuth's own shape
            response = Response(
                json.dumps({"error": "invalid_grant", "error_description": text}),
                status=400 if echo.status < 500 else echo.status,
                mimetype="application/json",
            )
        else:
            code = {401: "INVALID_SESSION_ID", 400: "INVALID_FIELD"}.get(echo.status, "echo")
            if server.system == "intacct" and echo.status == 401:
                response = server.error(200, "XL03000006", text)  # a control failure, HTTP 200
            else:
                response = server.error(echo.status, code, text)
        return response(environ, start_response)

    server.wsgi = wsgi  # type: ignore[method-assign]


def known_secrets(server: SandboxServer) -> None:
    """Replace the sandbox's random credentials with the distinctive ones above."""
    system = server.system
    if system == "quickbooks":
        server.client_secret = QBO_CLIENT_SECRET  # type: ignore[attr-defined]
        server.refresh_tokens.add(QBO_REFRESH_TOKEN)  # type: ignore[attr-defined]
    elif system == "intacct":
        server.sender_password = INTACCT_SENDER_PASSWORD  # type: ignore[attr-defined]
        server.user_password = INTACCT_USER_PASSWORD  # type: ignore[attr-defined]
    elif system == "invoiced":
        server.api_key = INVOICED_API_KEY  # type: ignore[attr-defined]
    elif system == "salesforce":
        server.client_secret = SF_CLIENT_SECRET  # type: ignore[attr-defined]
        server.password = SF_PASSWORD  # type: ignore[attr-defined]
        server.security_token = SF_SECURITY_TOKEN  # type: ignore[attr-defined]


class Issued:
    """Every access token / session id a sandbox hands out (secrets too)."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def watch(self, server: SandboxServer) -> None:
        original = server.issue_token

        def issue() -> str:
            token = original()
            self.values.add(token)
            return token

        server.issue_token = issue  # type: ignore[method-assign]


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def issued() -> Issued:
    return Issued()


@pytest.fixture
def fleet(echo: Echo, issued: Issued) -> Iterator[SandboxFleet]:
    world = World.generate()
    servers: dict[str, SandboxServer] = {}
    out = SandboxFleet(world=world, servers=servers)
    try:
        for system in SYSTEMS:
            extra: dict[str, Any] = {"auth_flow": "password"} if system == "salesforce" else {}
            server = entry(system).sandbox(world=world, faults=Faults(), **extra)
            known_secrets(server)
            install_echo(server, echo)
            issued.watch(server)
            server.start()
            servers[system] = server
        yield out
    finally:
        out.stop()


@pytest.fixture
def runtime(fleet: SandboxFleet, tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(settings_for(fleet, tmp_path / "arsync.db"), policy=FAST)
    rt.seed_tokens("quickbooks", {"refresh_token": QBO_REFRESH_TOKEN})
    yield rt
    rt.close()


# collecting what anyone could see ----------------------------------------------------------
class Exposure:
    """Text that left the process or was stored where people read it."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: Any) -> None:
        self.texts.append((where, text if isinstance(text, str) else json.dumps(text, default=str)))

    def error(self, where: str, exc: BaseException) -> None:
        chain: BaseException | None = exc
        while chain is not None:
            self.add(f"{where}: str", str(chain))
            self.add(f"{where}: repr", repr(chain))
            chain = chain.__cause__ or chain.__context__
        self.add(f"{where}: traceback", "".join(traceback.format_exception(exc)))

    def call(self, where: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # every error a caller could print or log
            self.error(where, exc)
            return None

    def stored(self, runtime: Runtime) -> None:
        with runtime.store.session() as session:
            for model in (SyncRun, Quarantine, OutboxCommand, WebhookEvent):
                for row in session.execute(select(model)).scalars():
                    self.add(f"table {model.__name__}", row.model_dump(mode="json"))
        report = build_report(runtime.store, tenant=runtime.settings.tenant)
        self.add("report.json", report)
        self.add("report.html", render_html(report))

    def logs(self) -> None:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for record in self.caplog.records:
            self.add(f"log {record.name}", formatter.format(record))
            self.add(f"log {record.name} args", repr(record.args))

    def assert_clean(self, secrets: set[str]) -> None:
        self.logs()
        needles = {form for secret in secrets if len(secret) >= 8 for form in forms(secret)}
        leaks = [
            (where, needle, text[max(0, text.find(needle) - 80) : text.find(needle) + 80])
            for where, text in self.texts
            for needle in needles
            if needle in text
        ]
        assert not leaks, "secrets leaked:\n" + "\n".join(map(repr, leaks[:20]))
        assert self.texts  # something was looked at


@pytest.fixture
def exposure(caplog: pytest.LogCaptureFixture) -> Exposure:
    caplog.set_level(logging.DEBUG)  # every logger: arsync, urllib3, requests, the SDKs
    for name in ("urllib3", "requests", "simple_salesforce", "quickbooks"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return Exposure(caplog)


def all_secrets(runtime: Runtime, fleet: SandboxFleet, issued: Issued) -> set[str]:
    """The configured secrets plus every token the sandboxes issued or rotated."""
    found = set(STATIC_SECRETS) | issued.values
    qbo = fleet.servers["quickbooks"]
    found |= set(qbo.refresh_tokens)  # type: ignore[attr-defined]
    from canonical.models import Credential

    with runtime.store.session() as session:
        found |= {row.value for row in session.execute(select(Credential)).scalars()}
    found -= {fleet.servers[s].base_url for s in fleet.servers}  # instance URLs are stored too
    return {value for value in found if value and not value.startswith("http")}


# the redaction itself ---------------------------------------------------------------------
def test_known_secrets_are_masked_in_every_encoding() -> None:
    register_secret(SecretStr("SECRET-unit-known-value-1234"))
    for form in forms("SECRET-unit-known-value-1234"):
        assert form not in redact_text(f"the server said: {form}!")
    assert MASK in redact_text("x SECRET-unit-known-value-1234 y")
    # a Salesforce access token carries a '!': the whole token is masked, not its org prefix
    masked = redact_text("Authorization: Bearer 00D000000000001!AQ8AQJk9tail")
    assert "AQ8AQJk9tail" not in masked
    assert redact_text("postgresql://arsync:hunter2pw@db:5432/ar") == (
        f"postgresql://arsync:{MASK}@db:5432/ar"
    )
    # a request's credentials are learnt from its shapes: Basic with an API key as user name,
    # form fields, the XML login
    register_secrets_in("Basic " + base64.b64encode(b"unit-api-key-5678:").decode())
    register_secrets_in("grant_type=password&password=unit-form-pw%2B99&client_id=app")
    register_secrets_in("<login><userid>me</userid><password>unit-xml-pw&amp;1</password></login>")
    for value in ("unit-api-key-5678", "unit-form-pw+99", "unit-xml-pw&1"):
        assert value not in redact_text(f"echo: {value}")
    # error messages keep naming the record, field and system
    assert redact_text("invoice INV-1001: TotalAmt (element Line)") == (
        "invoice INV-1001: TotalAmt (element Line)"
    )
    assert redact({"client_secret": "x", "nested": [{"api_key": "y", "id": "7"}]}) == {
        "client_secret": MASK,
        "nested": [{"api_key": MASK, "id": "7"}],
    }


def test_every_api_error_is_redacted_wherever_it_is_made() -> None:
    register_secret("SECRET-made-elsewhere-42ab")
    exc = UncertainWriteError("intacct", "reply echoed SECRET-made-elsewhere-42ab")
    share = share_of_failed_call(exc, "payment P-1")
    for err in (exc, share, AuthError("quickbooks", "token SECRET-made-elsewhere-42ab bad")):
        assert "SECRET-made-elsewhere-42ab" not in f"{err} {err!r} {err.message}"
    assert "payment P-1" in str(share) and "intacct" in str(share)


# the failure paths, against the sandboxes --------------------------------------------------
@pytest.mark.parametrize("system", SYSTEMS)
def test_sync_failure_paths_leak_no_secret(
    system: str,
    fleet: SandboxFleet,
    runtime: Runtime,
    echo: Echo,
    issued: Issued,
    exposure: Exposure,
    tmp_path: Path,
) -> None:
    server = fleet.servers[system]
    stream = "invoices"
    victim = server.remote_ids(stream)[0]
    server.corrupt(stream, victim)  # a malformed record: quarantined with its payload
    server.faults.fail_next = 2  # a 5xx burst
    server.faults.rate_limit_every = 4  # and throttling
    server.faults.expire_tokens_after = 3  # the access token / session dies mid-run
    results = exposure.call("first sync", lambda: runtime.sync([system]))
    assert results and results[0].error is None, results
    server.faults = Faults()

    # a server that echoes the request, with each status the HTTP layer treats differently
    for status in (401, 400, 503):
        echo.status = status
        server.expire_tokens()  # the next call must refresh or log in again
        for result in exposure.call(f"echo {status}", lambda: runtime.sync([system])) or []:
            assert result.error, f"{system} echo {status} did not fail"
            assert system in result.error  # still names the system
        connector = runtime.connector(system)
        exposure.call(f"check echo {status}", connector.check)
    echo.status = None

    # revoked credentials: the token endpoint / login refuses
    if system == "quickbooks":
        server.refresh_tokens.clear()  # type: ignore[attr-defined]
    elif system == "intacct":
        server.user_password = "a-new-password-nobody-told-us"  # type: ignore[attr-defined]
    elif system == "salesforce":
        server.password = "a-new-password-nobody-told-us"  # type: ignore[attr-defined]
    elif system == "invoiced":
        server.api_key = "sk_rotated_" + "0" * 24  # type: ignore[attr-defined]
    server.expire_tokens()
    [refused] = exposure.call("revoked", lambda: runtime.sync([system]))
    assert refused.error and system in refused.error

    # the CLI, as an operator would run it (verbose), and what it shows afterwards
    config = write_toml(fleet, tmp_path / "arsync.db", tmp_path / "arsync.toml")
    runner = CliRunner()
    echo.status = 401
    for args in (
        ["-v", "sync", "-c", str(config), "--system", system],
        ["status", "-c", str(config)],
        ["outbox", "-c", str(config)],
        ["report", "-c", str(config), "--format", "json", "-o", str(tmp_path / "r.json")],
        ["report", "-c", str(config), "--format", "html", "-o", str(tmp_path / "r.html")],
    ):
        outcome = runner.invoke(cli_app, args)
        exposure.add(f"cli {args[:2]} output", outcome.output)
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            exposure.error(f"cli {args[:2]}", outcome.exception)
    echo.status = None
    for name in ("r.json", "r.html"):
        if (tmp_path / name).exists():
            exposure.add(f"cli report {name}", (tmp_path / name).read_text())

    with runtime.store.session() as session:
        assert session.execute(select(Quarantine)).first() is not None
    exposure.stored(runtime)
    exposure.assert_clean(all_secrets(runtime, fleet, issued))


def test_push_failures_leak_no_secret(
    fleet: SandboxFleet,
    runtime: Runtime,
    echo: Echo,
    issued: Issued,
    exposure: Exposure,
    tmp_path: Path,
) -> None:
    decide(runtime, tmp_path)  # sync, a bank file paying invoices, reconcile: the outbox fills
    for server in fleet.servers.values():
        server.faults.drop_reply_next = 1  # a write lands, its reply is lost
    exposure.call("push, dropped replies", runtime.push)
    for status in (503, 400, 401):
        echo.status = status
        for server in fleet.servers.values():
            server.expire_tokens()
        exposure.call(f"push echo {status}", lambda: runtime.push(dry_run=False))
        with runtime.store.session() as session:
            session.execute(OutboxCommand.__table__.update().values(next_attempt_at=None))  # type: ignore[attr-defined]
    echo.status = None
    with runtime.store.session() as session:
        errors = [
            c.last_error for c in session.execute(select(OutboxCommand)).scalars() if c.last_error
        ]
    assert errors, "no push failed: the echo paths were not exercised"
    exposure.stored(runtime)
    exposure.assert_clean(all_secrets(runtime, fleet, issued))


# webhooks ----------------------------------------------------------------------------------
@responses.activate
def test_webhooks_with_bad_signatures_or_failing_reads_leak_no_secret(
    tmp_path: Path, exposure: Exposure
) -> None:
    from sync.settings import load_settings

    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'hooks.db'}",
        webhooks={
            "stripe_secrets": [STRIPE_SECRET],
            "adyen_hmac_key": ADYEN_KEY,
            "gocardless_secret": GOCARDLESS_SECRET,
            "gocardless_access_token": GOCARDLESS_TOKEN,
            "gocardless_base_url": "https://api.gocardless.test",
            "quickbooks_verifier": QBO_VERIFIER,
            "invoiced_secret": INVOICED_WEBHOOK_SECRET,
        },
    )
    runtime = Runtime.open(settings)
    client = TestClient(create_app(runtime, schedule=False))
    fixtures = REPO / "tests" / "fixtures" / "processors"
    try:
        stripe_raw = (fixtures / "stripe_payment_intent_succeeded.json").read_bytes()
        forged = f"t={int(time.time())},v1={'0' * 64}"
        bad = {
            "stripe": (stripe_raw, {"Stripe-Signature": forged}),
            "adyen": ((fixtures / "adyen_capture_jpy.json").read_bytes(), {}),
            "gocardless": (
                (fixtures / "gocardless_payments_confirmed.json").read_bytes(),
                {"Webhook-Signature": "0" * 64},
            ),
            "quickbooks": (b'{"eventNotifications": []}', {"intuit-signature": "AAAA"}),
            "invoiced": (b'{"id": 1, "type": "invoice.updated"}', {"X-Invoiced-Signature": "00"}),
        }
        for source, (raw, headers) in bad.items():
            answer = client.post(f"/webhooks/{source}", content=raw, headers=headers)
            assert 400 <= answer.status_code < 600, (source, answer.status_code)
            exposure.add(f"webhook {source} answer", answer.text)

        # a signed Stripe event whose object carries a client_secret: stored redacted
        body = json.loads(stripe_raw)
        body["data"]["object"]["client_secret"] = "pi_SECRET_client_secret_77aa"
        raw = json.dumps(body).encode()
        stamp = str(int(time.time()))
        digest = hmac.new(STRIPE_SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256)
        headers = {"Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}"}
        answer = client.post("/webhooks/stripe", content=raw, headers=headers)
        assert answer.status_code == 200, answer.text

        # GoCardless answers the payment read with an error that echoes the Authorization header
        raw = (fixtures / "gocardless_payments_confirmed.json").read_bytes()
        signature = hmac.new(GOCARDLESS_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        for status in (401, 500):

            def echo_headers(
                request: PreparedRequest, status: int = status
            ) -> tuple[int, dict[str, str], str]:
                return (
                    status,
                    {"Content-Type": "application/json"},
                    json.dumps(
                        {
                            "error": {
                                "type": "invalid_api_usage",
                                "message": f"bad request, headers {dict(request.headers)}",
                                "code": status,
                            }
                        }
                    ),
                )

            responses.reset()
            responses.add_callback(
                responses.GET,
                "https://api.gocardless.test/payments/PM0001TEST",
                callback=echo_headers,
            )
            answer = client.post(
                "/webhooks/gocardless", content=raw, headers={"Webhook-Signature": signature}
            )
            exposure.add(f"gocardless {status} answer", answer.text)
        exposure.stored(runtime)
    finally:
        runtime.close()
    exposure.assert_clean(set(STATIC_SECRETS) | {"pi_SECRET_client_secret_77aa"})


# recordings -------------------------------------------------------------------------------
CREDENTIAL_SHAPES = (
    r"sk_live_[0-9A-Za-z]{8,}",
    r"rk_live_[0-9A-Za-z]{8,}",
    r"whsec_[0-9A-Za-z]{20,}",
    r"AB11[0-9A-Za-z_-]{30,}",  # an Intuit refresh token
    r"eyJ[0-9A-Za-z_-]{10,}\.eyJ[0-9A-Za-z_-]{10,}",  # a JWT
    r"00D[0-9A-Za-z]{12,15}![0-9A-Za-z._]{20,}",  # a Salesforce session id
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"(?i)authorization:\s*(bearer|basic)\s+[0-9A-Za-z]",
    r"(?i)<password>[^<]+</password>",
    r"(?i)\"(client_secret|api_key|access_token|refresh_token|password)\"\s*:\s*\"[^\"]+\"",
)


def test_recorded_fixtures_hold_no_credential() -> None:
    pattern = "|".join(f"(?:{p})" for p in CREDENTIAL_SHAPES)
    found = subprocess.run(
        ["git", "grep", "-n", "-I", "-P", "-e", pattern, "--", "tests/fixtures"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode in (0, 1), found.stderr  # 1: nothing matched
    assert found.stdout == "", found.stdout


def test_an_api_error_keeps_naming_what_failed() -> None:
    error = ApiError("invoiced", "POST /payments: amount (param amount)", status=400, code="x")
    assert str(error) == "invoiced: POST /payments: amount (param amount) (HTTP 400, code x)"


def test_webhook_signing_secrets_of_the_settings_are_masked(tmp_path: Path) -> None:
    from connectors.redact import redact_text
    from sync.runtime import Runtime
    from sync.settings import load_settings

    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path}/w.db",
        webhooks={"stripe_secrets": ["whsec_SECRET-stripe-9c1d"]},
    )
    Runtime.open(settings).close()
    assert "SECRET-stripe" not in redact_text("echo: whsec_SECRET-stripe-9c1d")
