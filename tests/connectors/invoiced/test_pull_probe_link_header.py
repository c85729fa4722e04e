"""Invoiced pull probe: the ``Link`` header read as RFC 5988 (which Invoiced cites) writes it.

A link may name several relation types at once (``rel="next last"`` on the page before the
last) and its target may be relative to the page that sent it. Either way the pull must go
on to the next page: stopping after the first page ends an incremental read as if complete
(its bookmark passes the records never read), and a relative URL sent as it is fails with a
bare ``requests`` error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import responses
from responses import matchers

from connectors.base import MemoryTokenStore
from connectors.errors import ApiError
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConfig, InvoicedConnector

BASE = "https://api.invoiced.test"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def connector() -> InvoicedConnector:
    config = InvoicedConfig(api_key="sk_test", base_url=BASE, page_size=2)  # type: ignore[arg-type]
    return InvoicedConnector(config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None))


def two_pages(mocked: responses.RequestsMock, link: str) -> None:
    mocked.get(
        f"{BASE}/customers",
        match=[
            matchers.query_param_matcher({"sort": "updated_at ASC", "per_page": "2", "page": "1"})
        ],
        json=[{"id": 1, "name": "A", "updated_at": 10}, {"id": 2, "name": "B", "updated_at": 20}],
        headers={"Link": link, "X-Total-Count": "3"},
    )
    mocked.get(
        f"{BASE}/customers",
        match=[
            matchers.query_param_matcher({"sort": "updated_at ASC", "per_page": "2", "page": "2"})
        ],
        json=[{"id": 3, "name": "C", "updated_at": 30}],
        headers={
            "Link": f'<{BASE}/customers?sort=updated_at+ASC&per_page=2&page=1>; rel="first"',
            "X-Total-Count": "3",
        },
    )


def read(conn: InvoicedConnector) -> list[list[str]]:
    pages = conn.streams()["customers"].pages(None, datetime.now(UTC))
    return [[r.remote_id for r in page.records] for page in pages]


@pytest.mark.parametrize(
    "link",
    [
        # one link, two relation types (RFC 5988 5.3), on the page before the last
        f'<{BASE}/customers?sort=updated_at+ASC&per_page=2&page=2>; rel="next last"',
        f'<{BASE}/customers?sort=updated_at+ASC&per_page=2&page=2>; rel="Next"',
        # a target relative to the page that sent it
        '</customers?sort=updated_at+ASC&per_page=2&page=2>; rel="next", '
        '</customers?sort=updated_at+ASC&per_page=2&page=1>; rel="first"',
    ],
    ids=["next-and-last", "case", "relative"],
)
def test_the_next_page_is_read_whatever_form_the_link_takes(
    mocked: responses.RequestsMock, link: str
) -> None:
    two_pages(mocked, link)
    assert read(connector()) == [["1", "2"], ["3"]]


@pytest.mark.parametrize(
    "link",
    [
        '<//other.example/customers?page=2>; rel="next"',  # scheme-relative: another host
        '<https://other.example/customers?page=2>; rel="next"',
        '<http://api.invoiced.test/customers?page=2>; rel="next"',  # the key in clear text
    ],
    ids=["scheme-relative", "other-host", "plain-http"],
)
def test_a_next_link_leading_off_the_api_is_refused_before_the_key_goes_there(
    mocked: responses.RequestsMock, link: str
) -> None:
    mocked.get(
        f"{BASE}/customers",
        json=[{"id": 1, "name": "A", "updated_at": 10}],
        headers={"Link": link, "X-Total-Count": "2"},
    )
    with pytest.raises(ApiError, match=r"the next link leads off https://api\.invoiced\.test"):
        read(connector())
