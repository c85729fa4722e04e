"""The exact XML arsync sends to Intacct for each write, and how it reads the answers.

Shapes from developer.intacct.com: ``create`` of ARPYMT (api/accounts-receivable/ar-payments),
legacy ``create_aradjustment`` (ar-adjustments) and ``apply_arpayment``; the envelope and
``uniqueid`` (web-services/requests: with uniqueid true each function's ``controlid`` is
checked, and one already executed and completed is refused, only that function failing).
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from connectors.errors import DataError
from connectors.intacct import IntacctConnector, IntacctSandbox
from connectors.intacct.sandbox import DUPLICATE_ERRNO
from connectors.intacct.writes import (
    AdjustmentCreate,
    ArPaymentCreate,
    CreditApply,
    PaymentLine,
    request_control_id,
)
from connectors.intacct.xmlwire import parse
from tests.connectors.intacct.test_intacct_writes import DAY, make


def xml(connector: IntacctConnector, write: object) -> str:
    return etree.tostring(connector.writer._function(write)).decode()  # type: ignore[arg-type]


def open_invoice(sandbox: IntacctSandbox, skip: int = 0) -> dict[str, str]:
    rows = [
        r
        for r in sandbox.records["ARINVOICE"].values()
        if Decimal(r["TRX_TOTALDUE"]) > 10 and r["STATE"] != "Reversed" and r["CURRENCY"] == "USD"
    ]
    return rows[skip]


def test_apply_cash_arpymt_is_exactly_the_documented_create(sandbox: IntacctSandbox) -> None:
    write = ArPaymentCreate(
        "k" * 32,
        "C-100",
        DAY,
        (
            PaymentLine("501", Decimal("120")),
            PaymentLine("777", Decimal("5.5"), debit_memo=True),
        ),
        "USD",
        reference="  WIRE\nref\t" + "9" * 60,
    )
    assert xml(make(sandbox), write) == (
        f'<function controlid="{"k" * 32}"><create><ARPYMT>'
        "<FINANCIALENTITY>BOA-CHECKING</FINANCIALENTITY>"
        "<PAYMENTMETHOD>EFT</PAYMENTMETHOD>"
        "<CUSTOMERID>C-100</CUSTOMERID>"
        f"<DOCNUMBER>{('WIRE ref ' + '9' * 60)[:45]}</DOCNUMBER>"
        f"<DESCRIPTION>arsync:{'k' * 32}</DESCRIPTION>"
        "<RECEIPTDATE>11/02/2026</RECEIPTDATE>"
        "<PAYMENTDATE>11/02/2026</PAYMENTDATE>"
        "<CURRENCY>USD</CURRENCY>"
        "<ARPYMTDETAILS>"
        "<ARPYMTDETAIL><RECORDKEY>501</RECORDKEY><TRX_PAYMENTAMOUNT>120.00</TRX_PAYMENTAMOUNT>"
        "</ARPYMTDETAIL>"
        "<ARPYMTDETAIL><POSADJKEY>777</POSADJKEY><TRX_PAYMENTAMOUNT>5.50</TRX_PAYMENTAMOUNT>"
        "</ARPYMTDETAIL>"
        "</ARPYMTDETAILS></ARPYMT></create></function>"
    )


def test_undeposited_funds_account_when_no_bank_account(sandbox: IntacctSandbox) -> None:
    connector = make(sandbox, deposit_account=None, undeposited_account="1010")
    write = ArPaymentCreate("u1", "C-1", DAY, (PaymentLine("5", Decimal("1")),), "EUR")
    text = xml(connector, write)
    assert "<create><ARPYMT><UNDEPOSITEDACCOUNTNO>1010</UNDEPOSITEDACCOUNTNO>" in text
    assert "FINANCIALENTITY" not in text and "<CURRENCY>EUR</CURRENCY>" in text


def test_apply_credit_arpymt_names_the_adjustment(sandbox: IntacctSandbox) -> None:
    write = ArPaymentCreate(
        "c1", "C-1", DAY, (PaymentLine("501", Decimal("30"), adjustment_key="9001"),), "USD"
    )
    assert (
        "<ARPYMTDETAILS><ARPYMTDETAIL><RECORDKEY>501</RECORDKEY>"
        "<ADJUSTMENTKEY>9001</ADJUSTMENTKEY><TRX_ADJUSTMENTAMOUNT>30.00</TRX_ADJUSTMENTAMOUNT>"
        "</ARPYMTDETAIL></ARPYMTDETAILS>"
    ) in xml(make(sandbox), write)


def test_write_off_adjustment_is_the_legacy_create_aradjustment(sandbox: IntacctSandbox) -> None:
    write = AdjustmentCreate(
        "w:m", "C-1", Decimal("12.3"), DAY, "Deduction\x00 freight " + "x" * 1200, "CAD"
    )
    assert xml(make(sandbox), write) == (
        '<function controlid="w:m"><create_aradjustment>'
        "<customerid>C-1</customerid>"
        "<datecreated><year>2026</year><month>11</month><day>02</day></datecreated>"
        "<description>arsync:w:m</description>"
        "<currency>CAD</currency>"
        "<aradjustmentitems><lineitem>"
        "<glaccountno>4900</glaccountno>"
        "<amount>-12.30</amount>"
        f"<memo>{('Deduction freight ' + 'x' * 1200)[:1000]}</memo>"
        "</lineitem></aradjustmentitems>"
        "</create_aradjustment></function>"
    )


def test_apply_arpayment_is_the_documented_legacy_shape(sandbox: IntacctSandbox) -> None:
    write = CreditApply("a1", "9001", (PaymentLine("501", Decimal("7")),), DAY)
    assert xml(make(sandbox), write) == (
        '<function controlid="a1"><apply_arpayment>'
        "<arpaymentkey>9001</arpaymentkey>"
        "<paymentdate><year>2026</year><month>11</month><day>02</day></paymentdate>"
        "<arpaymentitems><arpaymentitem><invoicekey>501</invoicekey><amount>7.00</amount>"
        "</arpaymentitem></arpaymentitems>"
        "</apply_arpayment></function>"
    )


def test_the_envelope_sends_uniqueid_true_and_each_write_keyed(sandbox: IntacctSandbox) -> None:
    invoice = open_invoice(sandbox)
    write = ArPaymentCreate(
        "env1", invoice["CUSTOMERID"], DAY, (PaymentLine(invoice["RECORDNO"], Decimal("1")),), "USD"
    )
    connector = make(sandbox)
    bodies: list[bytes] = []
    connector.client.session.hooks["response"].append(
        lambda r, *a, **k: bodies.append(r.request.body)
    )
    [result] = connector.write([write])
    assert result.ok
    root = parse(bodies[-1])
    control = root.find("control")
    assert control is not None
    assert [child.tag for child in control] == [
        "senderid",
        "password",
        "controlid",
        "uniqueid",
        "dtdversion",
        "includewhitespace",
    ]
    assert control.findtext("uniqueid") == "true" and control.findtext("dtdversion") == "3.0"
    assert control.findtext("controlid") == request_control_id([write])
    assert root.findtext("operation/authentication/sessionid")
    [function] = root.findall("operation/content/function")
    assert function.get("controlid") == "env1"


def test_a_function_already_recorded_is_done_not_failed(sandbox: IntacctSandbox) -> None:
    first_invoice, other = open_invoice(sandbox), open_invoice(sandbox, 1)
    customer = first_invoice["CUSTOMERID"]
    first = ArPaymentCreate(
        "once", customer, DAY, (PaymentLine(first_invoice["RECORDNO"], Decimal("2")),), "USD"
    )
    connector = make(sandbox)
    [made] = connector.write([first])
    due = Decimal(first_invoice["TRX_TOTALDUE"])
    second = ArPaymentCreate(
        "new", other["CUSTOMERID"], DAY, (PaymentLine(other["RECORDNO"], Decimal("3")),), "USD"
    )
    # another batch (so another request control id): Intacct checks the function's controlid
    again, fresh = connector.write([first, second])
    assert again.ok and again.remote_id == made.remote_id
    assert fresh.ok and fresh.remote_id != made.remote_id
    assert Decimal(first_invoice["TRX_TOTALDUE"]) == due  # not applied twice
    assert {"once", "new"} <= sandbox.processed_controls


def test_the_sandbox_answers_a_repeated_controlid_as_intacct_does(
    sandbox: IntacctSandbox,
) -> None:
    invoice = open_invoice(sandbox)
    write = ArPaymentCreate(
        "rep", invoice["CUSTOMERID"], DAY, (PaymentLine(invoice["RECORDNO"], Decimal("1")),), "USD"
    )
    connector = make(sandbox)
    connector.write([write])
    root = connector.client.call(
        [connector.writer._function(write)], unique=True, raise_for_error=False
    )
    assert root.findtext("control/status") == "success"
    result = root.find("operation/result")
    assert result is not None and result.findtext("status") == "failure"
    assert result.findtext("errormessage/error/errorno") == DUPLICATE_ERRNO
    assert "A successful transaction has already been recorded with the control id rep" in (
        result.findtext("errormessage/error/description2") or ""
    )
    # uniqueid false: the same function may run again
    again = connector.client.call(
        [connector.writer._function(write)], unique=False, raise_for_error=False
    )
    assert again.findtext("operation/result/status") == "success"


def test_a_failed_function_can_be_sent_again_with_its_key(sandbox: IntacctSandbox) -> None:
    invoice = open_invoice(sandbox)
    too_much = Decimal(invoice["TRX_TOTALDUE"]) + 1
    connector = make(sandbox)
    line = PaymentLine(invoice["RECORDNO"], too_much)
    [refused] = connector.write(
        [ArPaymentCreate("retry", invoice["CUSTOMERID"], DAY, (line,), "USD")]
    )
    assert isinstance(refused.error, DataError) and "exceeds" in str(refused.error)
    fixed = PaymentLine(invoice["RECORDNO"], Decimal("1"))
    [ok] = connector.write([ArPaymentCreate("retry", invoice["CUSTOMERID"], DAY, (fixed,), "USD")])
    assert ok.ok  # only completed functions are remembered


def test_a_write_that_cannot_be_built_fails_alone(sandbox: IntacctSandbox) -> None:
    invoice = open_invoice(sandbox)
    connector = make(sandbox, write_off_account=None)
    good = ArPaymentCreate(
        "g1", invoice["CUSTOMERID"], DAY, (PaymentLine(invoice["RECORDNO"], Decimal("1")),), "USD"
    )
    bad = AdjustmentCreate("b1", invoice["CUSTOMERID"], Decimal("1"), DAY, "short")
    no_currency = ArPaymentCreate(
        "n1", invoice["CUSTOMERID"], DAY, (PaymentLine(invoice["RECORDNO"], Decimal("1")),)
    )
    results = connector.write([bad, good, no_currency])
    assert [r.ok for r in results] == [False, True, False]
    assert "write_off_account" in str(results[0].error)
    assert "CURRENCY is required" in str(results[2].error)
    assert all(isinstance(r.error, DataError) for r in (results[0], results[2]))


def _raw(connector: IntacctConnector, body: str) -> etree._Element:
    function = etree.fromstring(f'<function controlid="raw-{len(body)}">{body}</function>')
    return connector.client.call([function], unique=False, raise_for_error=False)


def test_the_sandbox_refuses_what_intacct_documents_otherwise(sandbox: IntacctSandbox) -> None:
    invoice = open_invoice(sandbox)
    connector = make(sandbox)
    customer, key = invoice["CUSTOMERID"], invoice["RECORDNO"]
    detail = (
        f"<ARPYMTDETAILS><ARPYMTDETAIL><RECORDKEY>{key}</RECORDKEY>"
        "<TRX_PAYMENTAMOUNT>1.00</TRX_PAYMENTAMOUNT></ARPYMTDETAIL></ARPYMTDETAILS>"
    )
    cases = {
        "no generic create of ARADJUSTMENT": (
            f"<create><ARADJUSTMENT><CUSTOMERID>{customer}</CUSTOMERID></ARADJUSTMENT></create>",
            "not supported",
        ),
        "ARPYMT without CURRENCY": (
            "<create><ARPYMT><FINANCIALENTITY>B</FINANCIALENTITY><PAYMENTMETHOD>EFT"
            f"</PAYMENTMETHOD><CUSTOMERID>{customer}</CUSTOMERID><RECEIPTDATE>11/02/2026"
            f"</RECEIPTDATE>{detail}</ARPYMT></create>",
            "CURRENCY",
        ),
        "an undocumented PAYMENTMETHOD": (
            "<create><ARPYMT><FINANCIALENTITY>B</FINANCIALENTITY><PAYMENTMETHOD>Wire"
            f"</PAYMENTMETHOD><CUSTOMERID>{customer}</CUSTOMERID><RECEIPTDATE>11/02/2026"
            f"</RECEIPTDATE><CURRENCY>USD</CURRENCY>{detail}</ARPYMT></create>",
            "PAYMENTMETHOD",
        ),
        "a date not MM/DD/YYYY": (
            "<create><ARPYMT><FINANCIALENTITY>B</FINANCIALENTITY><PAYMENTMETHOD>EFT"
            f"</PAYMENTMETHOD><CUSTOMERID>{customer}</CUSTOMERID><RECEIPTDATE>2026-11-02"
            f"</RECEIPTDATE><CURRENCY>USD</CURRENCY>{detail}</ARPYMT></create>",
            "MM/DD/YYYY",
        ),
        "create_aradjustment out of DTD order": (
            "<create_aradjustment><datecreated><year>2026</year><month>11</month><day>2</day>"
            f"</datecreated><customerid>{customer}</customerid><aradjustmentitems><lineitem>"
            "<glaccountno>6420</glaccountno><amount>-1.00</amount></lineitem>"
            "</aradjustmentitems></create_aradjustment>",
            "out of order",
        ),
    }
    for name, (body, words) in cases.items():
        result = _raw(connector, body).find("operation/result")
        assert result is not None and result.findtext("status") == "failure", name
        assert words in (result.findtext("errormessage/error/description2") or ""), name
