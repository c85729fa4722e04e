"""Constants and helpers shared by the QuickBooks connector tests."""

from __future__ import annotations

from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.quickbooks import QuickBooksConnector, QuickBooksSandbox

API = "https://qbo.test"
TOKEN_URL = "https://oauth.test/oauth2/v1/tokens/bearer"
REALM = "4620816365"
COMPANY = f"{API}/v3/company/{REALM}"


class Sleeps(list[float]):
    """A RetryPolicy sleep that records the waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def sandbox_connector(
    box: QuickBooksSandbox, sleeps: Sleeps | None = None, **update: object
) -> tuple[QuickBooksConnector, MemoryTokenStore]:
    tokens = MemoryTokenStore(box.initial_tokens())
    config = box.config().model_copy(update={"page_size": 25, **update})
    policy = RetryPolicy(sleep=sleeps if sleeps is not None else (lambda s: None))
    return QuickBooksConnector(config, tokens, policy=policy), tokens
