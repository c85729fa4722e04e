"""Sage Intacct: XML gateway with API sessions, readByQuery streams, a sandbox."""

from connectors.intacct.config import IntacctConfig
from connectors.intacct.connector import IntacctConnector
from connectors.intacct.sandbox import IntacctSandbox

__all__ = ["IntacctConfig", "IntacctConnector", "IntacctSandbox"]
