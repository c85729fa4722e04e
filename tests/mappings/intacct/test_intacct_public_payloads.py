"""Intacct readByQuery answers in the shape a production integration reads them (Invoiced's
Intacct sync tests, github.com/chriscouch/invoiced-mcp ``tests/Integrations/Intacct/xml``):
related fields come flat, ``<DISPLAYCONTACT.EMAIL1>``, not nested. Values are our own."""

from __future__ import annotations

from typing import Any

from canonical.enums import CustomerStatus
from connectors.base import RawRecord
from connectors.intacct.client import IntacctClient
from connectors.intacct.xmlwire import parse, to_dict
from mappings.base import MappingContext
from mappings.intacct import MAPPERS

CTX = MappingContext(system="intacct", home_currency="USD")


def read_by_query(listtype: str, records: str) -> list[dict[str, Any]]:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<response>
  <control><status>success</status><senderid>s</senderid><controlid>c</controlid>
    <uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>
  <operation>
    <authentication><status>success</status><userid>u</userid><companyid>c</companyid>
      <locationid></locationid><sessiontimestamp>2026-05-01T10:00:00-07:00</sessiontimestamp>
    </authentication>
    <result><status>success</status><function>readByQuery</function><controlid>r</controlid>
      <data listtype="{listtype}" count="2" totalcount="2" numremaining="0" resultId="">
        {records}</data>
    </result>
  </operation>
</response>"""
    return [to_dict(row) for row in IntacctClient._data(parse(body.encode()), listtype)]


CUSTOMERS = """<customer>
  <NAME>Harbor Supply Co</NAME><RECORDNO>41</RECORDNO><CUSTOMERID>C-0410</CUSTOMERID>
  <CURRENCY>CAD</CURRENCY><STATUS>active</STATUS><ONHOLD>true</ONHOLD>
  <BILLTO.EMAIL1>ap@harbor.example</BILLTO.EMAIL1><BILLTO.MAILADDRESS.CITY>Halifax</BILLTO.MAILADDRESS.CITY>
  <DISPLAYCONTACT.EMAIL1>billing@harbor.example</DISPLAYCONTACT.EMAIL1>
  <DISPLAYCONTACT.EMAIL2></DISPLAYCONTACT.EMAIL2><DISPLAYCONTACT.PHONE1></DISPLAYCONTACT.PHONE1>
  <TAXID>12345 6789 RT0001</TAXID>
</customer>
<customer>
  <NAME>Quiet Lane Ltd</NAME><RECORDNO>42</RECORDNO><CUSTOMERID>C-0411</CUSTOMERID>
  <CURRENCY></CURRENCY><STATUS>inactive</STATUS>
  <DISPLAYCONTACT.EMAIL1></DISPLAYCONTACT.EMAIL1><TAXID></TAXID>
</customer>"""


def mapped(row: dict[str, Any]) -> Any:
    return MAPPERS["customers"](RawRecord("customers", "CUSTOMER", row["CUSTOMERID"], row), CTX)


def test_flat_display_contact_email_of_read_by_query_is_read() -> None:
    first, second = (mapped(row) for row in read_by_query("customer", CUSTOMERS))
    assert (first.remote_id, first.number, first.name) == ("C-0410", "C-0410", "Harbor Supply Co")
    assert first.email == "billing@harbor.example"  # DISPLAYCONTACT, not the bill-to contact
    assert (first.currency, first.tax_id) == ("CAD", "12345 6789 RT0001")
    assert first.status is CustomerStatus.ACTIVE and first.credit_hold is True
    assert second.email is None and second.currency == "USD"  # empty: home currency
    assert second.status is CustomerStatus.INACTIVE and second.credit_hold is None


def test_nested_display_contact_of_read_still_works() -> None:
    row = {"CUSTOMERID": "C-0412", "NAME": "Nested Co", "DISPLAYCONTACT": {"EMAIL1": "n@x.example"}}
    assert mapped(row).email == "n@x.example"
