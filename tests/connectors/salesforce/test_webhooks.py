"""Outbound Messages: org check before parsing, notifications parsed for de-duplication."""

from __future__ import annotations

import pytest

from connectors.salesforce.webhooks import ACK, OutboundMessageError, parse, verify

ORG = "00D5e000000AbCdEAF"
BODY = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{ORG}</OrganizationId>
   <ActionId>04k5e000000AbCdAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/00D5e000000AbCd</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/00D5e000000AbCd</PartnerUrl>
   <Notification>
    <Id>04l5e00000AbCdEAAV</Id>
    <sObject xsi:type="sf:Invoice__c" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>a015e00000XyZ12AAB</sf:Id>
     <sf:Balance__c>0.00</sf:Balance__c>
     <sf:Status__c>Paid</sf:Status__c>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


def test_verify_accepts_the_configured_org_in_either_id_length() -> None:
    assert verify(BODY, {}, ORG)
    assert verify(BODY, {}, ORG[:15])


def test_verify_rejects_another_org_or_garbage() -> None:
    assert not verify(BODY, {}, "00D5e000000ZzZzEAF")
    assert not verify(b"<notifications/>", {}, ORG)
    assert not verify(BODY, {}, "")


def test_parse_yields_notification_ids_and_records() -> None:
    message = parse(BODY)
    assert message.organization_id == ORG
    (event,) = message.events
    assert event.event_id == "04l5e00000AbCdEAAV"
    assert event.sobject == "Invoice__c"
    assert event.record_id == "a015e00000XyZ12AAB"
    assert event.fields["Status__c"] == "Paid"
    assert b"<Ack>true</Ack>" in ACK


def test_parse_names_what_is_missing() -> None:
    broken = BODY.replace(b"<Id>04l5e00000AbCdEAAV</Id>", b"")
    with pytest.raises(OutboundMessageError, match=r"Notification\[0\]"):
        parse(broken)
    with pytest.raises(OutboundMessageError, match="not XML"):
        parse(b"<oops")
