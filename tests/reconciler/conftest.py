"""Fixtures the reconciler's end-to-end tests share."""

from __future__ import annotations

import pytest

from canonical.store import Store
from tests.support.receivables import Book


@pytest.fixture(params=["scoped", "whole"])
def book_loading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a case twice: with the book loaded for the new remittances only, and whole
    (modules opt in with ``pytestmark = pytest.mark.usefixtures("book_loading")``)."""
    import reconciler.engine

    if request.param == "whole":
        monkeypatch.setattr(reconciler.engine, "SCOPED_LOAD_LIMIT", 0)


@pytest.fixture
def book(store: Store) -> Book:
    return Book(store)
