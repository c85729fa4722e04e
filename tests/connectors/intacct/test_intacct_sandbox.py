"""The Intacct connector end to end against its sandbox over real loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr
from sqlmodel import select

from canonical.enums import ApplicationStatus, RunStatus
from canonical.models import Application, ExternalRef, Quarantine
from canonical.store import Store
from connectors.base import MemoryTokenStore, RawRecord
from connectors.errors import AuthError, DataError
from connectors.http import RetryPolicy
from connectors.intacct import IntacctConnector, IntacctSandbox
from connectors.intacct.errors import FUNCTION_FAILED
from connectors.intacct.sandbox import API_PATH, GATEWAY_PATH
from connectors.intacct.xmlwire import function
from connectors.sandbox.world import World
from mappings.base import MappingContext, MappingError
from mappings.intacct import MAPPERS
from mappings.intacct.invoice import to_canonical as invoice_to_canonical
from mappings.intacct.payment import to_canonical as payment_to_canonical
from sync.engine import SyncEngine

PAGE = 25
CTX = MappingContext(system="intacct")


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(11, customers=30, invoices=240)


@pytest.fixture
def sandbox(world: World) -> Iterator[IntacctSandbox]:
    box = IntacctSandbox(world=world)
    box.start()
    yield box
    box.stop()


def make(sandbox: IntacctSandbox, **changes: object) -> IntacctConnector:
    config = sandbox.config().model_copy(update={"page_size": PAGE, **changes})
    return IntacctConnector(
        config, MemoryTokenStore(sandbox.initial_tokens()), policy=RetryPolicy(sleep=lambda _: None)
    )


def pull(
    connector: IntacctConnector, stream: str, since: datetime | None = None
) -> list[RawRecord]:
    pages = connector.streams()[stream].pages(since, datetime.now(UTC))
    return [record for page in pages for record in page.records]


def test_full_pull_reads_every_stream_to_the_last_page(sandbox: IntacctSandbox) -> None:
    connector = make(sandbox)
    connector.check()
    for stream in ("customers", "invoices", "credit_memos", "payments"):
        records = pull(connector, stream)
        assert sorted(r.remote_id for r in records) == sorted(sandbox.remote_ids(stream))
        for record in records:
            MAPPERS[stream](record, CTX)
    assert len(sandbox.remote_ids("invoices")) > PAGE * 3
    # the login went to the gateway, everything else to the endpoint getAPISession returned
    assert sandbox.log.count(("POST", GATEWAY_PATH)) == 1
    assert set(sandbox.session_paths) == {API_PATH}


def test_payments_carry_their_applications_read_in_bulk(sandbox: IntacctSandbox) -> None:
    connector = make(sandbox)
    records = pull(connector, "payments")
    requests_made = connector.session.stats.total
    payment_pages = -(-len(records) // PAGE)
    # one readByQuery/readMore per payment page, plus detail reads per page (never per payment)
    assert requests_made <= payment_pages * 3 + 1 < len(records)
    mapped = [payment_to_canonical(r, CTX) for r in records]
    assert sum(len(p.applied) for p in mapped) >= len(records)
    credits = [p for p in mapped if any(a.target == "credit_memo" for a in p.applied)]
    assert credits, "credit memo applications are rendered"
    for payment in credits:
        assert payment.amount.is_zero()
        memo = next(a for a in payment.applied if a.target == "credit_memo")
        assert any(a.target == "invoice" and a.amount == memo.amount for a in payment.applied)


def test_whenmodified_is_read_in_the_company_zone_and_stored_utc(sandbox: IntacctSandbox) -> None:
    records = pull(make(sandbox), "invoices")
    record = records[0]
    assert record.modified_at == sandbox.stamps["ARINVOICE"][record.remote_id]
    assert record.modified_at is not None and record.modified_at.tzinfo is not None


def test_incremental_returns_exactly_touched_created_and_deleted(sandbox: IntacctSandbox) -> None:
    connector = make(sandbox)
    since = datetime.now(UTC) - timedelta(seconds=5)
    assert pull(connector, "invoices", since) == []
    ids = sandbox.remote_ids("invoices")
    sandbox.touch("invoices", ids[3])
    created = sandbox.create("invoices")
    sandbox.remove("invoices", ids[7])
    records = pull(connector, "invoices", since)
    assert {(r.remote_id, r.deleted) for r in records} == {
        (ids[3], False),
        (created, False),
        (ids[7], True),
    }
    deleted = next(r for r in records if r.deleted)
    assert MAPPERS["invoices"](deleted, CTX).deleted
    assert pull(connector, "customers", since) == []


def test_void_keeps_the_record_with_status_void(sandbox: IntacctSandbox) -> None:
    connector = make(sandbox)
    since = datetime.now(UTC) - timedelta(seconds=5)
    target = sandbox.remote_ids("invoices")[2]
    sandbox.void("invoices", target)
    [record] = pull(connector, "invoices", since)
    mapped = invoice_to_canonical(record, CTX)
    assert record.payload["STATE"] == "Reversed" and not record.deleted
    assert mapped.status == "void" and mapped.balance.is_zero()
    assert target in sandbox.remote_ids("invoices")


def test_rate_limits_and_server_errors_are_survived(sandbox: IntacctSandbox) -> None:
    sandbox.faults.rate_limit_every = 3
    sandbox.faults.fail_next = 2
    connector = make(sandbox)
    records = pull(connector, "invoices")
    assert len(records) == len(sandbox.remote_ids("invoices"))
    assert connector.session.stats.retries >= 3


def test_expired_session_is_refreshed_once_and_the_pull_continues(
    sandbox: IntacctSandbox,
) -> None:
    sandbox.faults.expire_tokens_after = 3
    connector = make(sandbox)
    records = pull(connector, "invoices")
    assert len(records) == len(sandbox.remote_ids("invoices"))
    assert connector.session.stats.refreshes >= 1


@pytest.mark.parametrize("secret", ["sender_password", "user_password"])
def test_bad_credentials_raise_auth_error_without_the_secret(
    sandbox: IntacctSandbox, secret: str
) -> None:
    wrong = "definitely-wrong-secret"
    connector = make(sandbox, **{secret: SecretStr(wrong)})
    with pytest.raises(AuthError) as caught:
        connector.check()
    assert "intacct" in str(caught.value) and wrong not in str(caught.value)


def test_malformed_record_is_served_and_its_mapping_names_the_field(
    sandbox: IntacctSandbox,
) -> None:
    bad = sandbox.remote_ids("invoices")[5]
    sandbox.corrupt("invoices", bad)
    records = {r.remote_id: r for r in pull(make(sandbox), "invoices")}
    with pytest.raises(MappingError) as caught:
        MAPPERS["invoices"](records[bad], CTX)
    assert caught.value.field == "TRX_TOTALENTERED"


def test_bad_query_is_a_function_level_failure(sandbox: IntacctSandbox) -> None:
    connector = make(sandbox)
    with pytest.raises(DataError, match="XL03000003: cannot parse") as caught:
        next(connector.client.read_by_query("ARINVOICE", "WHENMODIFIED LIKE 'x'"))
    assert caught.value.code == FUNCTION_FAILED


def test_a_stored_session_is_reused_without_logging_in_again(sandbox: IntacctSandbox) -> None:
    tokens = MemoryTokenStore()
    config = sandbox.config()
    first = IntacctConnector(config, tokens, policy=RetryPolicy(sleep=lambda _: None))
    first.check()
    second = IntacctConnector(config, tokens, policy=RetryPolicy(sleep=lambda _: None))
    second.check()
    assert sandbox.log.count(("POST", GATEWAY_PATH)) == 1
    assert second.client.auth.session.stats.total == 0 and second.api_calls == 1


def test_unknown_result_id_is_a_data_error(sandbox: IntacctSandbox) -> None:
    connector = make(sandbox)
    more = function("more-1", "readMore", resultId="no-such-result")
    with pytest.raises(DataError, match="XL03000007"):
        connector.client.call([more])


# debit memos: receivables in the invoices stream -------------------------------------------------


def debit_memo_ids(sandbox: IntacctSandbox) -> list[str]:
    return [k for k in sandbox.remote_ids("invoices") if k in sandbox.records["ARADJUSTMENT"]]


def test_debit_memos_come_with_the_invoices_and_credit_memos_stay_apart(
    sandbox: IntacctSandbox,
) -> None:
    connector = make(sandbox)
    invoices = pull(connector, "invoices")
    memos = pull(connector, "credit_memos")
    debit = {r.remote_id: r for r in invoices if r.object_type == "ARADJUSTMENT"}
    assert set(debit) == set(debit_memo_ids(sandbox)) and len(debit) >= 4
    # the query kept every credit memo out of the invoices stream and every debit memo out
    # of the credit memos: nothing of the other kind was sent
    assert not set(debit) & {r.remote_id for r in memos}
    assert all(Decimal(r.payload["TOTALENTERED"]) < 0 for r in memos)
    mapped = {key: invoice_to_canonical(record, CTX) for key, record in debit.items()}
    statuses = sorted(str(m.status) for m in mapped.values())
    assert statuses.count("void") == 2  # the reversed debit memo and its Reversal entry
    assert "paid" in statuses
    for memo in memos:
        MAPPERS["credit_memos"](memo, CTX)  # never refused as a debit memo


def test_filters_carry_the_reversal_sign_rule(sandbox: IntacctSandbox) -> None:
    connector = make(sandbox)
    # a credit memo's Reversal entry (a positive total) stays a credit memo
    key = sandbox.take_record_no()
    credit = next(r for r in sandbox.records["ARADJUSTMENT"].values() if r["RECORDID"] < "DM")
    entry = {**credit, "RECORDNO": key, "STATE": "Reversal"}
    for name in ("TOTALENTERED", "TRX_TOTALENTERED"):
        entry[name] = str(-Decimal(credit[name]))
    sandbox.put("ARADJUSTMENT", key, entry, datetime.now(UTC))
    assert key in {r.remote_id for r in pull(connector, "credit_memos")}
    assert key not in {r.remote_id for r in pull(connector, "invoices")}
    assert key in sandbox.remote_ids("credit_memos")


def test_sandbox_queries_group_and_negate_as_documented(sandbox: IntacctSandbox) -> None:
    connector = make(sandbox)

    def keys(query: str) -> set[str]:
        pages = connector.client.read_by_query("ARADJUSTMENT", query)
        return {row["RECORDNO"] for page in pages for row in page}

    everything = keys("")
    positive = keys("TOTALENTERED > 0")
    assert keys("NOT TOTALENTERED > 0") == everything - positive
    assert keys("(TOTALENTERED > 0 OR STATE = 'Reversal') AND STATE NOT IN ('Reversal')") == (
        positive - keys("STATE IN ('Reversal')")
    )
    assert keys("TOTALENTERED > 0 AND STATE = 'x' OR STATE = 'Reversal'") == keys(
        "STATE = 'Reversal'"
    )
    with pytest.raises(DataError, match="XL03000003"):
        next(connector.client.read_by_query("ARADJUSTMENT", "(TOTALENTERED > 0"))


def test_incremental_sees_a_changed_debit_memo_in_the_invoices_stream_only(
    sandbox: IntacctSandbox,
) -> None:
    connector = make(sandbox)
    since = datetime.now(UTC) - timedelta(seconds=5)
    target = debit_memo_ids(sandbox)[-1]
    sandbox.touch("invoices", target)
    assert [r.remote_id for r in pull(connector, "invoices", since)] == [target]
    assert [r for r in pull(connector, "credit_memos", since) if not r.deleted] == []
    sandbox.void("invoices", target)
    [record] = pull(connector, "invoices", since)
    assert invoice_to_canonical(record, CTX).status == "void"
    sandbox.remove("invoices", target)
    assert [(r.remote_id, r.deleted) for r in pull(connector, "invoices", since)] == [
        (target, True)
    ]
    assert target not in sandbox.remote_ids("invoices")


def test_sync_links_a_payment_to_the_debit_memo_it_pays(
    sandbox: IntacctSandbox, sqlite_store: Store
) -> None:
    result = SyncEngine(sqlite_store).sync(make(sandbox))
    assert result.status == RunStatus.OK, result.error
    paid = [d["POSADJKEY"] for d in sandbox.details.values() if d.get("POSADJKEY")]
    assert paid
    with sqlite_store.session() as session:
        refs = {
            ref.remote_id: ref
            for ref in session.exec(select(ExternalRef).where(ExternalRef.system == "intacct"))
        }
        for key in paid:
            ref = refs[key]
            assert (ref.canonical_type, ref.object_type) == ("invoice", "ARADJUSTMENT")
            applied = session.exec(
                select(Application).where(Application.invoice_id == ref.canonical_id)
            ).all()
            assert applied and all(a.status == ApplicationStatus.APPLIED for a in applied)
        memos = session.exec(select(ExternalRef).where(ExternalRef.canonical_type == "credit_memo"))
        assert {r.remote_id for r in memos} == set(sandbox.remote_ids("credit_memos"))
        assert session.exec(select(Quarantine)).all() == []
