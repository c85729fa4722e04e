"""QuickBooks Online: OAuth2 with rotating refresh tokens, CDC + query streams, a sandbox."""

from connectors.quickbooks.config import QuickBooksConfig
from connectors.quickbooks.connector import QuickBooksConnector
from connectors.quickbooks.sandbox import QuickBooksSandbox

__all__ = ["QuickBooksConfig", "QuickBooksConnector", "QuickBooksSandbox"]
