"""Salesforce Outbound Messages exactly as Salesforce documents them, through the parser.

Sources (shapes; every value here is our own):
* developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl:
  ``notifications`` in ``http://soap.sforce.com/2005/09/outbound`` holds OrganizationId,
  ActionId, SessionId (nillable), EnterpriseUrl, PartnerUrl, then up to 100 Notification
  elements, each an Id (the same on every redelivery) and an ``sObject`` typed with
  ``xsi:type="sf:<Object>"`` in ``urn:sobject.enterprise.soap.sforce.com``; the reply is
  ``notificationsResponse`` with ``Ack`` true, else the message is resent.
* The outbound WSDL's ``ID`` type: 18 characters ``[a-zA-Z0-9]{18}``.

arsync's HTTP intake does not take outbound messages yet (no configured org id to check them
against); these tests hold the connector's side to the documented shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select

from canonical.models import WebhookEvent
from connectors.salesforce.webhooks import ACK, OUTBOUND_NS, OutboundMessageError, parse, verify
from sync.runtime import Runtime
from sync.serve import create_app
from sync.settings import load_settings
from sync.webhooks import Rejected, receive

ORG = "00D8d000004ArSyEAK"


def notification(note_id: str, sobject: str, fields: str) -> str:
    return f"""
   <Notification>
    <Id>{note_id}</Id>
    <sObject xsi:type="sf:{sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
{fields}
    </sObject>
   </Notification>"""


def message(*notifications: str, org: str = ORG) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k8d000000ArSyAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://arsync-test.my.salesforce.com/services/Soap/c/62.0/00D8d000004ArSy</EnterpriseUrl>
   <PartnerUrl>https://arsync-test.my.salesforce.com/services/Soap/u/62.0/00D8d000004ArSy</PartnerUrl>{"".join(notifications)}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


ACCOUNT = notification(
    "04l8d00000ArSy1AAF",
    "Account",
    """     <sf:Id>0018d00000ArSy1AAF</sf:Id>
     <sf:Name>Harbor Optics</sf:Name>
     <sf:Credit_Hold__c>false</sf:Credit_Hold__c>
     <sf:Phone xsi:nil="true"/>""",
)
INVOICE = notification(
    "04l8d00000ArSy2AAF",
    "Invoice__c",
    """     <sf:Id>a0B8d00000ArSy2EAF</sf:Id>
     <sf:Balance__c>125.40</sf:Balance__c>
     <sf:Status__c>Partially Paid</sf:Status__c>""",
)


def test_a_documented_message_with_two_notifications() -> None:
    raw = message(ACCOUNT, INVOICE)
    assert verify(raw, {"Content-Type": "text/xml; charset=utf-8"}, ORG)
    parsed = parse(raw)
    assert (parsed.organization_id, parsed.action_id) == (ORG, "04k8d000000ArSyAAK")
    assert [(e.event_id, e.sobject, e.record_id) for e in parsed.events] == [
        ("04l8d00000ArSy1AAF", "Account", "0018d00000ArSy1AAF"),
        ("04l8d00000ArSy2AAF", "Invoice__c", "a0B8d00000ArSy2EAF"),
    ]
    assert parsed.events[0].fields == {
        "Id": "0018d00000ArSy1AAF",
        "Name": "Harbor Optics",
        "Credit_Hold__c": "false",
        "Phone": None,  # xsi:nil
    }
    assert parsed.events[1].fields["Balance__c"] == "125.40"  # text, never a float


def test_a_redelivery_carries_the_same_notification_ids() -> None:
    first = parse(message(INVOICE))
    again = parse(message(INVOICE))
    assert [e.event_id for e in first.events] == [e.event_id for e in again.events]


def test_the_org_check_reads_the_raw_bytes_in_either_id_length() -> None:
    raw = message(ACCOUNT)
    assert verify(raw, {}, ORG) and verify(raw, {}, ORG[:15])
    assert not verify(raw, {}, "00D8d000009ZzZzEAK")
    assert not verify(message(ACCOUNT, org="00D8d000009ZzZzEAK"), {}, ORG)
    assert not verify(raw, {}, ORG[:14])  # too short to be an org id


def test_the_acknowledgement_is_the_documented_notifications_response() -> None:
    root = etree.fromstring(ACK)
    response = root.find(f".//{{{OUTBOUND_NS}}}notificationsResponse")
    assert response is not None
    assert response.findtext(f"{{{OUTBOUND_NS}}}Ack") == "true"


def test_a_notification_without_its_record_id_names_it() -> None:
    broken = notification(
        "04l8d00000ArSy3AAF", "Invoice__c", "     <sf:Status__c>Paid</sf:Status__c>"
    )
    with pytest.raises(OutboundMessageError, match=r"^Notification\[1\]\.sObject\.Id is missing$"):
        parse(message(ACCOUNT, broken))


def test_entities_in_the_body_are_not_expanded() -> None:
    raw = (
        message(INVOICE)
        .replace(
            b'<?xml version="1.0" encoding="UTF-8"?>',
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/hostname">]>',
        )
        .replace(b"Partially Paid", b"&secret;")
    )
    parsed = parse(raw)
    assert parsed.events[0].fields["Status__c"] is None  # the file is never read


# through the intake and the server -----------------------------------------------------------


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'outbound.db'}",
        salesforce={"client_id": "cid", "client_secret": "secret-value-1"},
        webhooks={"salesforce_org_id": ORG},
    )
    rt = Runtime.open(settings)
    yield rt
    rt.close()


def stored(rt: Runtime) -> dict[str, WebhookEvent]:
    with rt.store.session() as s:
        return {e.event_id: e for e in s.execute(select(WebhookEvent)).scalars()}


OPPORTUNITY = notification(
    "04l8d00000ArSy3AAF", "Opportunity", "     <sf:Id>0068d00000ArSy3AAF</sf:Id>"
)


def test_an_outbound_message_marks_salesforce_due_once_per_notification(
    runtime: Runtime,
) -> None:
    intake = receive(runtime.store, runtime.settings, "salesforce", message(INVOICE, ACCOUNT), {})
    assert (intake.events, intake.duplicates, intake.sync_due) == (2, 0, "salesforce")
    again = receive(runtime.store, runtime.settings, "salesforce", message(INVOICE), {})
    assert (again.events, again.duplicates, again.sync_due) == (0, 1, None)  # a redelivery
    events = stored(runtime)
    assert events["04l8d00000ArSy2AAF"].payload == {
        "sobject": "Invoice__c",
        "id": "a0B8d00000ArSy2EAF",
    }
    assert {e.status for e in events.values()} == {"processed"}


def test_an_object_arsync_does_not_sync_is_noted_and_triggers_nothing(runtime: Runtime) -> None:
    intake = receive(runtime.store, runtime.settings, "salesforce", message(OPPORTUNITY), {})
    assert intake.sync_due is None
    assert intake.ignored == [
        "salesforce event 04l8d00000ArSy3AAF: not read: arsync does not sync Opportunity"
    ]


def test_a_message_naming_another_org_is_refused_and_nothing_stored(runtime: Runtime) -> None:
    with pytest.raises(Rejected) as refused:
        receive(
            runtime.store,
            runtime.settings,
            "salesforce",
            message(INVOICE, org="00D8d000009OtHeRAB"),
            {},
        )
    assert refused.value.status == 401
    assert stored(runtime) == {}


def test_the_server_answers_the_soap_acknowledgement(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime, schedule=False))
    answer = client.post(
        "/webhooks/salesforce",
        content=message(ACCOUNT),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
    )
    assert answer.status_code == 200 and answer.content == ACK
    assert answer.headers["content-type"].startswith("text/xml")
