"""Intacct's readByQuery answers a page in ``<data listtype count totalcount numremaining
resultId>``; the rest is read with ``readMore`` and that ``resultId``. An answer saying records
remain but carrying no ``resultId`` cannot be read on: it is an error naming the object and
how many remained, never a read that looks complete (a full read would then mark the records
it never saw deleted)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from connectors.base import MemoryTokenStore
from connectors.errors import ErrorKind, TransientError
from connectors.http import RetryPolicy
from connectors.intacct import IntacctConfig, IntacctConnector
from connectors.intacct.client import ENDPOINT_KEY, SESSION_KEY

API = "https://gw.example.test/ia/xml/api/xmlgw.phtml"
OK_CONTROL = "<control><status>success</status><senderid>arsync</senderid></control>"
OK_AUTH = "<authentication><status>success</status><userid>api</userid></authentication>"


def page(function: str, keys: list[str], total: int, remaining: int, result_id: str | None) -> str:
    """One page as Intacct answers readByQuery/readMore (``resultId`` left out when None)."""
    rows = "".join(
        f"<ARINVOICE><RECORDNO>{k}</RECORDNO>"
        "<WHENMODIFIED>05/01/2024 10:00:00</WHENMODIFIED></ARINVOICE>"
        for k in keys
    )
    rid = "" if result_id is None else f' resultId="{result_id}"'
    return (
        f"<response>{OK_CONTROL}<operation>{OK_AUTH}<result><status>success</status>"
        f"<function>{function}</function><controlid>c</controlid>"
        f'<data listtype="arinvoice" count="{len(keys)}" totalcount="{total}" '
        f'numremaining="{remaining}"{rid}>{rows}</data></result></operation></response>'
    )


@pytest.fixture
def conn() -> Iterator[tuple[IntacctConnector, responses.RequestsMock]]:
    config = IntacctConfig(
        sender_id="arsync",
        sender_password="s",  # type: ignore[arg-type]
        company_id="ACME",
        user_id="api",
        user_password="u",  # type: ignore[arg-type]
        endpoint_url="https://gw.example.test/ia/xml/xmlgw.phtml",
    )
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield IntacctConnector(config, tokens, policy=RetryPolicy(sleep=lambda _: None)), mock


@pytest.mark.parametrize("result_id", [None, ""])
def test_records_remaining_without_a_result_id_is_an_error_naming_them(
    conn: tuple[IntacctConnector, responses.RequestsMock], result_id: str | None
) -> None:
    connector, mock = conn
    mock.post(API, body=page("readByQuery", ["1", "2"], 5, 3, result_id))
    pages = connector.client.read_by_query("ARINVOICE", "", page_size=2)
    assert [row["RECORDNO"] for row in next(pages)] == ["1", "2"]
    with pytest.raises(TransientError) as raised:
        next(pages)
    assert raised.value.kind is ErrorKind.RETRY
    assert str(raised.value) == (
        "intacct: readByQuery of ARINVOICE: 3 records remain but the answer gave no resultId "
        "to read them with; the read is incomplete"
    )


def test_records_remaining_are_read_with_read_more(
    conn: tuple[IntacctConnector, responses.RequestsMock],
) -> None:
    connector, mock = conn
    mock.post(API, body=page("readByQuery", ["1", "2"], 3, 1, "7765623330WEQuF2uKZ4NiqQWtBSLa"))
    mock.post(API, body=page("readMore", ["3"], 3, 0, "7765623330WEQuF2uKZ4NiqQWtBSLa"))
    pages = list(connector.client.read_by_query("ARINVOICE", "", page_size=2))
    assert [[row["RECORDNO"] for row in p] for p in pages] == [["1", "2"], ["3"]]
    assert b"<resultId>7765623330WEQuF2uKZ4NiqQWtBSLa</resultId>" in (
        mock.calls[1].request.body or b""
    )
