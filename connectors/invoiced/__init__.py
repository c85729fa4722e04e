"""Invoiced: the AR platform connector."""

from connectors.invoiced.config import InvoicedConfig
from connectors.invoiced.connector import InvoicedConnector
from connectors.invoiced.sandbox import InvoicedSandbox

__all__ = ["InvoicedConfig", "InvoicedConnector", "InvoicedSandbox"]
