"""Salesforce: OAuth, SOQL on SystemModstamp + getDeleted, sObject Collections writes."""

from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceSandbox

__all__ = ["SalesforceConfig", "SalesforceConnector", "SalesforceSandbox"]
