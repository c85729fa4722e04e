from decimal import Decimal

from connectors.processors.stripe_events import parse_event


def test_zero_decimal_currency_charge_with_old_invoice_field() -> None:
    event = {
        "id": "evt_1",
        "type": "charge.succeeded",
        "created": 1_700_000_000,
        "data": {
            "object": {
                "id": "ch_1",
                "amount": 5000,
                "amount_captured": 5000,
                "currency": "jpy",
                "payment_intent": "pi_1",
                "invoice": "in_1",
                "metadata": {"invoice_number": "INV-1001"},
                "billing_details": {"name": "Acme KK", "email": "ap@acme.jp"},
            }
        },
    }
    record = parse_event(event)
    assert record is not None
    assert record.amount is not None
    assert record.amount.amount == Decimal("5000")
    assert record.amount.currency == "JPY"
    assert record.payment_id == "pi_1"
    assert record.invoice_refs == ("INV-1001", "in_1")
    assert record.payer_name == "Acme KK"


def test_invoice_payment_shape_2025_03_31() -> None:
    event = {
        "id": "evt_2",
        "type": "invoice_payment.paid",
        "created": 1_743_500_000,
        "data": {
            "object": {
                "id": "inpay_1",
                "object": "invoice_payment",
                "invoice": "in_9",
                "amount_paid": 12345,
                "currency": "usd",
                "payment": {"type": "payment_intent", "payment_intent": "pi_9"},
            }
        },
    }
    record = parse_event(event)
    assert record is not None
    assert record.amount is not None
    assert record.amount.amount == Decimal("123.45")
    assert record.payment_id == "pi_9"
    assert record.invoice_refs == ("in_9",)
    assert record.kind == "payment"


def test_refund_is_its_own_kind_and_unknown_events_ignored() -> None:
    event = {
        "id": "evt_3",
        "type": "charge.refunded",
        "created": 1_700_000_000,
        "data": {"object": {"id": "ch_3", "amount_refunded": 250, "currency": "eur"}},
    }
    record = parse_event(event)
    assert record is not None
    assert record.kind == "refund"
    assert record.amount is not None and record.amount.amount == Decimal("2.50")
    assert parse_event({"id": "e", "type": "customer.created", "data": {"object": {}}}) is None


def invoice_event(obj: dict[str, object], kind: str = "invoice.paid") -> dict[str, object]:
    return {"id": "evt_inv_1", "type": kind, "created": 1_767_000_000, "data": {"object": obj}}


def test_only_money_through_stripe_is_a_payment() -> None:
    uncaptured = {
        "id": "evt_4",
        "type": "charge.succeeded",
        "created": 1_767_000_000,
        "data": {
            "object": {
                "id": "ch_4",
                "amount": 5000,
                "amount_captured": 0,
                "captured": False,
                "currency": "usd",
                "payment_intent": "pi_4",
            }
        },
    }
    assert parse_event(uncaptured) is None  # authorised only
    out_of_band = {"id": "in_5", "amount_paid": 5000, "currency": "usd", "paid_out_of_band": True}
    assert parse_event(invoice_event(out_of_band)) is None
    credit_only = {"id": "in_6", "amount_paid": 0, "currency": "usd", "payment_intent": None}
    assert parse_event(invoice_event(credit_only)) is None
    recorded = {
        "id": "inpay_7",
        "object": "invoice_payment",
        "invoice": "in_7",
        "amount_paid": 5000,
        "currency": "usd",
        "payment": {"type": "payment_record", "payment_record": "pr_7"},
    }
    assert parse_event(invoice_event(recorded, "invoice_payment.paid")) is None


def test_invoice_paid_names_its_payment_in_the_old_shape_only() -> None:
    old = {"id": "in_8", "amount_paid": 4200, "currency": "eur", "payment_intent": "pi_8"}
    record = parse_event(invoice_event(old))
    assert record is not None and record.payment_id == "pi_8" and "in_8" in record.invoice_refs
    # 2025-03-31: no payment_intent/charge on the invoice; keying it by the invoice id would
    # count the cash of payment_intent.succeeded a second time: its references only, found
    # again by the invoice id that invoice_payment.paid names
    basil = {
        "id": "in_9",
        "object": "invoice",
        "number": "STR-0009",
        "amount_paid": 4200,
        "currency": "eur",
        "metadata": {"invoice_number": "ERP-9"},
    }
    record = parse_event(invoice_event(basil))
    assert record is not None and record.kind == "references" and record.payment_id == ""
    assert record.invoice_id == "in_9"
    assert record.invoice_refs == ("ERP-9", "in_9", "STR-0009")
    out_of_band = {**basil, "paid_out_of_band": True}
    assert parse_event(invoice_event(out_of_band)) is None  # no money through Stripe


def dispute_event(kind: str, **dispute: object) -> dict[str, object]:
    """A dispute event as Stripe documents it (the Dispute object in ``data.object``)."""
    return {
        "id": f"evt_{kind}",
        "type": kind,
        "created": 1_764_000_000,
        "data": {
            "object": {
                "id": "dp_1QkDispute",
                "object": "dispute",
                "amount": 125000,
                "currency": "usd",
                "charge": "ch_1QkCharge",
                "payment_intent": "pi_1QkPaid",
                "reason": "fraudulent",
                "status": "needs_response",
                **dispute,
            }
        },
    }


def test_a_dispute_takes_cash_back_only_when_stripe_withdraws_the_funds() -> None:
    withdrawal = {"id": "txn_1", "object": "balance_transaction", "amount": -125000}
    created = parse_event(dispute_event("charge.dispute.created"))
    listed = parse_event(dispute_event("charge.dispute.created", balance_transactions=[withdrawal]))
    withdrawn = parse_event(dispute_event("charge.dispute.funds_withdrawn"))
    for record in (created, listed, withdrawn):
        assert record is not None and record.kind == "dispute"
        assert (record.payment_id, record.subject_id) == ("pi_1QkPaid", "dp_1QkDispute")
        assert record.amount is not None and record.amount.amount == Decimal("1250.00")
    # an inquiry (retrieval request) and a dispute that has not taken the money move nothing
    for status in ("warning_needs_response", "warning_under_review"):
        inquiry = dispute_event("charge.dispute.created", status=status)
        assert parse_event(inquiry) is None
    assert parse_event(dispute_event("charge.dispute.created", balance_transactions=[])) is None
    # the escalated inquiry announces the withdrawal itself
    escalated = dispute_event("charge.dispute.funds_withdrawn", status="needs_response")
    assert parse_event(escalated) is not None
    back = parse_event(dispute_event("charge.dispute.funds_reinstated", status="won"))
    assert back is not None and (back.kind, back.subject_id) == ("reinstatement", "dp_1QkDispute")
