"""The finance-ops report: what was applied, suggested or left as an exception, and why.

``build_report`` returns the documented JSON model (docs/report-format.md);
``write_report`` renders it as JSON, CSV, a self-contained HTML page or an XLSX workbook.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlmodel import col

from canonical.bulk import select_in
from canonical.enums import (
    ApplicationKind,
    ApplicationStatus,
    CommandStatus,
    DocumentStatus,
    FindingStatus,
    RemittanceStatus,
)
from canonical.keys import name_key, other_spelling_key
from canonical.models import (
    Adjustment,
    Application,
    CreditMemo,
    Customer,
    Decision,
    DriftFinding,
    ExternalRef,
    Invoice,
    OutboxCommand,
    Payment,
    Quarantine,
    Remittance,
)
from canonical.money import Money, minor_digits
from canonical.store import Store
from canonical.types import utcnow
from reconciler.apply import RULES
from reconciler.dismiss import DISMISSED
from reconciler.dismiss import RULE as DISMISSAL_RULE
from reconciler.engine import (
    ADVICE_CONTRADICTS,
    ALREADY_PAID,
    INVOICE_VOID,
    NOT_INCOMING_CASH,
    RETURN_EXCEEDS_PAYMENT,
    REVERSAL_RULE,
)
from reconciler.payer_names import payer_name_scores
from reconciler.reverse import RULE as REVERSE_RULE
from reconciler.reverse import UNDONE
from sync.outbox.adapter import REVERSED_BY
from sync.outbox.control import OPEN as WAITING
from sync.outbox.plan import PAYMENT_SYSTEMS, STATE_SYSTEMS
from sync.outbox.plan import not_planned as not_planned_decisions

# outbox commands a person must look at: out of attempts, refused, or no longer valid
NEEDS_A_PERSON = (CommandStatus.DEAD, CommandStatus.CONFLICT, CommandStatus.FAILED)

ReportFormat = Literal["json", "csv", "html", "xlsx"]
EXCEPTION_KINDS = (
    "unidentified_payer",
    "no_matching_invoice",
    "ambiguous",
    "short_pay_over_tolerance",
    "over_payment",
    "duplicate_payment",
    ALREADY_PAID,  # the invoice named is paid: its evidence names what paid it
    INVOICE_VOID,
    "currency_mismatch",
    "returned_payment",
    RETURN_EXCEEDS_PAYMENT,
    NOT_INCOMING_CASH,
    ADVICE_CONTRADICTS,
)
TEMPLATES = Path(__file__).with_name("templates")
# the person in the commands the report prints: the reader puts their own name
PERSON = "person:NAME"
# a payer whose name scores this high against a customer's is taken to be that customer
PAYER_IS_CUSTOMER = 90


_ADVICE = frozenset({RemittanceStatus.ADVICE, RemittanceStatus.ADVICE_USED})


def _amount(minor: int, currency: str) -> dict[str, str]:
    return Money.from_minor(minor, currency).to_json()


def build_report(store: Store, tenant: str = "default") -> dict[str, Any]:
    """The report model: remittances, exceptions by kind, unapplied cash to act on, credit
    memos, drift, totals."""
    now = utcnow()
    with store.session() as session:
        decisions = {
            (d.source_kind, d.source_id): d
            for d in session.execute(
                select(Decision)
                .where(col(Decision.tenant) == tenant, col(Decision.superseded).is_(False))
                .order_by(col(Decision.created_at))
            ).scalars()
        }
        # whose cash a person's undone decision is: the customer identified before any person
        # named invoices (the undo keeps the undone invoices' customer, for the outbox)
        payers = _payers_of_undone(session, tenant, decisions)
        invoices = {
            i.id: i
            for i in session.execute(select(Invoice).where(col(Invoice.tenant) == tenant)).scalars()
        }
        customers = {
            c.id: c.name
            for c in session.execute(
                select(Customer).where(col(Customer.tenant) == tenant)
            ).scalars()
        }
        applications: dict[str, list[Application]] = defaultdict(list)
        for app in session.execute(
            select(Application).where(
                col(Application.tenant) == tenant,
                col(Application.origin) == "reconciler",
                col(Application.status) != ApplicationStatus.REVERSED,
            )
        ).scalars():
            applications[app.decision_id or ""].append(app)
        deductions: dict[str, list[Adjustment]] = defaultdict(list)
        for adj in session.execute(
            select(Adjustment).where(col(Adjustment.tenant) == tenant)
        ).scalars():
            deductions[adj.decision_id or ""].append(adj)
        remittances = list(
            session.execute(
                select(Remittance)
                .where(col(Remittance.tenant) == tenant)
                .order_by(col(Remittance.value_date), col(Remittance.id))
            ).scalars()
        )
        advice = [r for r in remittances if r.status in _ADVICE]
        remittances = [r for r in remittances if r.status not in _ADVICE]
        memos = {
            m.id: m
            for m in session.execute(
                select(CreditMemo).where(col(CreditMemo.tenant) == tenant)
            ).scalars()
        }
        drift = list(
            session.execute(
                select(DriftFinding).where(
                    col(DriftFinding.tenant) == tenant,
                    col(DriftFinding.status) == FindingStatus.OPEN,
                )
            ).scalars()
        )
        payments = {
            p.id: p
            for p in session.execute(
                select(Payment).where(
                    col(Payment.tenant) == tenant,
                    col(Payment.id).in_(
                        [f.canonical_id for f in drift if f.canonical_type == "payment"]
                    ),
                )
            ).scalars()
        }
        # each system's last view of the records an amount or a document's status finding
        # names (one batched lookup): where each is void, and the balance it shows
        views = _last_views(session, tenant, drift)
        quarantine = list(
            session.execute(
                select(Quarantine).where(
                    col(Quarantine.tenant) == tenant, col(Quarantine.resolved_at).is_(None)
                )
            ).scalars()
        )
        outbox_counts = session.execute(
            select(col(OutboxCommand.system), col(OutboxCommand.status), func.count())
            .where(col(OutboxCommand.tenant) == tenant)
            .group_by(col(OutboxCommand.system), col(OutboxCommand.status))
        ).all()
        # applied decisions whose cash stands in arsync and no write to any system was
        # planned for (decided while no system was configured to write to)
        not_planned = not_planned_decisions(session, tenant)
        stuck = list(
            session.execute(
                select(OutboxCommand)
                .where(
                    col(OutboxCommand.tenant) == tenant,
                    col(OutboxCommand.status).in_(NEEDS_A_PERSON),
                )
                .order_by(col(OutboxCommand.created_at))
            ).scalars()
        )
        # writes not yet landed that would change a drifting document's balance or status
        waiting = _waiting_writes(session, tenant, drift)

    def number(invoice_id: str) -> str:
        invoice = invoices.get(invoice_id)
        return invoice.number if invoice else invoice_id

    def closed_status(invoice_id: str) -> dict[str, str]:
        """``{"invoice_status": "void"}`` for an invoice void or deleted now, else nothing."""
        invoice = invoices.get(invoice_id)
        closed = invoice is not None and invoice.status in _CLOSED
        return {"invoice_status": str(invoice.status)} if invoice and closed else {}

    # the cash each decided remittance has applied; None for one a person dismissed (its
    # cash counts as dismissed, never as unapplied a return could net)
    cash_applied = {
        rem.id: (
            rem.currency,
            None if decision.status == DISMISSED else _cash_of(applications.get(decision.id, [])),
        )
        for rem in remittances
        if (decision := decisions.get(("remittance", rem.id))) is not None
    }
    # the payments a return takes back, and the return: no cash of theirs is applied again
    taken_back: dict[str, list[str]] = defaultdict(list)
    for rem in remittances:
        if found := _taken_back(rem, decisions.get(("remittance", rem.id))):
            taken_back[found].append(rem.id)
    rows: list[dict[str, Any]] = []
    left: dict[str, int] = {}  # each counted remittance's unapplied cash (minor)
    totals: dict[str, dict[str, int]] = {}
    matchable = 0  # decided remittances that are payments to match (the match rate's base)
    dismissed: list[dict[str, Any]] = []
    exceptions: dict[str, list[dict[str, Any]]] = {kind: [] for kind in EXCEPTION_KINDS}
    for rem in remittances:
        decision = decisions.get(("remittance", rem.id))
        status = decision.status if decision else "new"
        customer_id = payers.get(rem.id, decision.customer_id) if decision else None
        if rem.status == RemittanceStatus.REVERSED:
            status = RemittanceStatus.REVERSED.value  # taken back, and undone by a person
        lines = applications.get(decision.id, []) if decision else []
        apps = [a for a in lines if a.kind != ApplicationKind.CREDIT_MEMO]
        netted = [a for a in lines if a.kind == ApplicationKind.CREDIT_MEMO]
        deds = deductions.get(decision.id, []) if decision else []
        applied = sum(a.amount_minor for a in apps)
        deducted = sum(d.amount_minor for d in deds)
        unapplied = rem.amount_minor - applied
        row = {
            "id": rem.id,
            "source": rem.source,
            "source_file": rem.source_file,
            "value_date": rem.value_date.isoformat() if rem.value_date else None,
            "payer": rem.payer_name,
            "payer_iban": rem.payer_iban,
            "amount": _amount(rem.amount_minor, rem.currency),
            "status": status,
            "decision_id": decision.id if decision else None,
            "decided_by": decision.decided_by if decision else None,
            "exception_kind": decision.exception_kind if decision else None,
            "customer": customers.get(customer_id or ""),
            "applications": [
                {
                    "invoice_number": number(a.invoice_id),
                    "amount": _amount(a.amount_minor, a.currency),
                    **closed_status(a.invoice_id),
                }
                for a in apps
            ],
            "credits": [
                {
                    "credit_memo": memos[a.source_id].number
                    if a.source_id in memos
                    else a.source_id,
                    "invoice_number": number(a.invoice_id),
                    "amount": _amount(a.amount_minor, a.currency),
                }
                for a in netted
            ],
            "deductions": [
                {
                    "invoice_number": number(d.invoice_id),
                    "reason_code": d.reason_code,
                    "amount": _amount(d.amount_minor, d.currency),
                }
                for d in deds
            ],
            "unapplied": _amount(unapplied, rem.currency),
            "rule": decision.rule if decision else None,
            "ruleset_version": decision.ruleset_version if decision else None,
            "confidence": decision.confidence if decision else None,
            "evidence": _named_scores(decision.evidence, customers) if decision else {},
            "candidates": _voided(
                _named(decision.candidates, customers, own_shortfall=True), invoices
            )
            if decision and status != "auto_applied"
            else [],
            "reference": rem.free_text or ", ".join(str(r.get("ref")) for r in rem.structured_refs),
            "resolve": _resolve_with(
                decision,
                invoices,
                ", ".join(taken_back.get(rem.id, [])),
                customers,
                rem.payer_name,
                customer_id,
            )
            if status in ("exception", "suggested")
            else None,
        }
        rows.append(row)
        t = totals.setdefault(rem.currency, _cash_totals())
        if decision is not None and status == DISMISSED:
            # closed by a person with no cash movement: nothing applied, no receivable cash,
            # never an exception; an advice was never cash at all
            dismissed.append(_dismissal(decision, rem.payer_name, row["customer"], row["id"]))
            row["unapplied"] = _amount(0, rem.currency)  # closed: nothing is left to apply
            if decision.exception_kind != ADVICE_CONTRADICTS:
                t["dismissed"] += rem.amount_minor
            continue
        if decision is not None and decision.exception_kind == ADVICE_CONTRADICTS:
            row["unapplied"] = _amount(0, rem.currency)  # an advice: its cash is another row
            exceptions[ADVICE_CONTRADICTS].append(row)
            continue
        if status not in ("new", RemittanceStatus.REVERSED.value) and not _outgoing(rem, row):
            matchable += 1
        pending = _pending_return(rem, decision, status, cash_applied)
        if pending:
            row["unapplied"] = _amount(unapplied - pending, rem.currency)
        t["received"] += rem.amount_minor
        t["applied"] += applied
        t["deductions"] += deducted
        t["unapplied"] += unapplied - pending
        t["returns_pending"] += pending
        t["credited"] += sum(a.amount_minor for a in netted)
        left[rem.id] = unapplied - pending
        if status == "exception" or (status == "suggested" and row["exception_kind"]):
            exceptions.setdefault(row["exception_kind"] or "other", []).append(row)
    credit_memos = [
        {
            "credit_memo": memos[d.source_id].number if d.source_id in memos else d.source_id,
            "decision_id": d.id,
            "status": d.status,
            "rule": d.rule,
            "currency": d.currency,
            "customer": customers.get(d.customer_id or ""),
            "applications": [
                {
                    "invoice_number": number(a.invoice_id),
                    "amount": _amount(a.amount_minor, a.currency),
                    **closed_status(a.invoice_id),
                }
                for a in applications.get(d.id, [])
            ],
            "candidates": _voided(d.candidates, invoices),
            "evidence": d.evidence,
            "resolve": _resolve_with(d, invoices)
            if d.status in ("suggested", "exception")
            else None,
        }
        for (kind, _), d in decisions.items()
        if kind == "credit_memo"
    ]
    for memo in credit_memos:  # the memo pass's own applications are credited too
        for line in memo["applications"]:
            money = Money(line["amount"]["amount"], line["amount"]["currency"])
            totals.setdefault(money.currency, _cash_totals())["credited"] += money.minor
    _net_reversed(remittances, decisions, rows)
    _say_taken_back(dismissed, remittances, decisions)
    dismissed += [
        _dismissal(d, None, customers.get(d.customer_id or ""), None)
        for (kind, _), d in decisions.items()
        if kind == "credit_memo" and d.status == DISMISSED
    ]
    # applied by a rule; a person's confirmations are applied too, but are no match made
    auto = sum(1 for r in rows if r["status"] == "auto_applied" and r["decided_by"] == RULES)
    by_person = sum(1 for r in rows if r["status"] == "auto_applied" and r["decided_by"] != RULES)
    # what is no payment to match is neither matched nor missed, and stays out of the match rate
    # altogether: a dismissed item (a vendor refund, a duplicate, a wrong advice), cash going
    # out (a return, a fee), an advice, and a payment its bank took back once reversed
    rate = (Decimal(auto) * 100 / matchable).quantize(Decimal("0.1")) if matchable else Decimal(0)
    return {
        "generated_at": now.isoformat(timespec="seconds"),
        "tenant": tenant,
        "remittances": rows,
        "exceptions": {kind: items for kind, items in exceptions.items()},
        "unapplied_cash": _unapplied_cash(
            remittances,
            decisions,
            rows,
            left,
            {row["id"] for items in exceptions.values() for row in items},
            now.date(),
            payers,
            customers,
        ),
        "credit_memos": credit_memos,
        "dismissed": dismissed,
        "advice": [
            {
                "id": a.id,
                "source": a.source,
                "source_file": a.source_file,
                "value_date": a.value_date.isoformat() if a.value_date else None,
                "payer": a.payer_name,
                "amount": _amount(a.amount_minor, a.currency),
                "trace": a.bank_reference,
                "references": [str(r.get("ref")) for r in a.structured_refs],
                "status": "used" if a.status == RemittanceStatus.ADVICE_USED else "waiting",
            }
            for a in advice
        ],
        "drift": _drift(drift, views, invoices, memos, payments, customers, waiting),
        "quarantine": [
            {
                "system": q.system,
                "object": q.object_type,
                "id": q.remote_id,
                "reason": q.reason,
                "field": q.field,
                "next": _quarantine_next(q),
            }
            for q in sorted(quarantine, key=lambda q: (q.system, q.object_type, q.remote_id))
        ],
        "outbox": {
            "counts": {
                system: {str(st): n for sys2, st, n in outbox_counts if sys2 == system}
                for system in sorted({row[0] for row in outbox_counts})
            },
            "not_planned": len(not_planned),
            "not_planned_decisions": not_planned,
            "needs_attention": [
                {
                    "command_id": c.id,
                    "system": c.system,
                    "operation": c.operation,
                    "status": str(c.status),
                    "decision_id": c.decision_id,
                    "attempts": c.attempts,
                    "error": c.last_error,
                    "retry": f"arsync outbox retry {c.id}",
                    "cancel": f"arsync outbox cancel {c.id}",
                    "next": _next_step(c),
                }
                for c in stuck
            ],
        },
        "totals": {
            "remittances": len(rows),
            "auto_applied": auto,
            "applied_by_person": by_person,
            # as the sections list them: a suggestion given a kind is under exceptions
            "suggested": sum(
                1 for r in rows if r["status"] == "suggested" and not r["exception_kind"]
            ),
            "exceptions": sum(len(items) for items in exceptions.values()),
            "dismissed": sum(1 for r in rows if r["status"] == DISMISSED),
            # with the counts above, these make up remittances
            "reversed": sum(1 for r in rows if r["status"] == _REVERSED),
            "not_reconciled": sum(1 for r in rows if r["status"] == "new"),
            "match_rate": f"{rate}%",
            "cash": {cur: {k: _amount(v, cur) for k, v in t.items()} for cur, t in totals.items()},
        },
    }


def _cash_totals() -> dict[str, int]:
    return {
        "received": 0,
        "applied": 0,
        "deductions": 0,
        "unapplied": 0,
        "dismissed": 0,
        "returns_pending": 0,
        "credited": 0,  # credit memos applied: no cash
    }


def _net_reversed(
    remittances: list[Remittance],
    decisions: dict[tuple[str, str], Decision],
    rows: list[dict[str, Any]],
) -> None:
    """A reversed payment's row shows the cash its bank left it (none, for a whole return),
    its reversed return's none: the two net in the totals, and so they do on the rows."""
    by_id = {row["id"]: row for row in rows}
    for rem in remittances:
        if rem.status != RemittanceStatus.REVERSED:
            continue
        original = by_id.get(_taken_back(rem, decisions.get(("remittance", rem.id))) or "")
        back = by_id[rem.id]
        currency = rem.currency
        if original is None or original["unapplied"]["currency"] != currency:
            continue
        kept = (
            Money(original["unapplied"]["amount"], currency).minor
            + Money(back["unapplied"]["amount"], currency).minor
        )
        original["unapplied"] = _amount(kept, currency)
        back["unapplied"] = _amount(0, currency)


def _returns_of(
    remittances: list[Remittance], decisions: dict[tuple[str, str], Decision]
) -> dict[str, list[Remittance]]:
    """Each payment's returns (open, dismissed or reversed) in its own currency, by its id."""
    by_id = {rem.id: rem for rem in remittances}
    found: dict[str, list[Remittance]] = defaultdict(list)
    for rem in remittances:
        original = _taken_back(rem, decisions.get(("remittance", rem.id)))
        if original in by_id and by_id[original].currency == rem.currency:
            found[original].append(rem)
    return found


def _took_back_text(payment: Remittance, back: Remittance, returns: list[Remittance]) -> str:
    """What a return took back of what: ``took back 1500.00 USD of 4250.00 USD``, and what the
    payment kept after all its returns."""
    currency = payment.currency
    taken = -sum(r.amount_minor for r in returns)
    kept = payment.amount_minor - taken
    return (
        f"took back {_minor_text(-back.amount_minor, currency)} of "
        f"{_minor_text(payment.amount_minor, currency)}"
        + (
            f" ({_minor_text(taken, currency)} in all, by {len(returns)} returns)"
            if len(returns) > 1
            else ""
        )
        + f": {_minor_text(max(kept, 0), currency)} kept"
    )


def _say_taken_back(
    dismissed: list[dict[str, Any]],
    remittances: list[Remittance],
    decisions: dict[tuple[str, str], Decision],
) -> None:
    """Each dismissed return, and each dismissed payment a return took back in part, says
    what was taken back of what (``took_back``; null for any other)."""
    by_id = {rem.id: rem for rem in remittances}
    returns = _returns_of(remittances, decisions)
    payment_of = {back.id: pid for pid, backs in returns.items() for back in backs}
    for item in dismissed:
        rem = by_id.get(item["remittance_id"] or "")
        item["took_back"] = None
        if rem is None:
            continue
        if rem.id in payment_of:  # a return: what it took back of its payment
            payment = by_id[payment_of[rem.id]]
            item["took_back"] = (
                f"{_took_back_text(payment, rem, returns[payment.id])} "
                f"(payment remittance {payment.id})"
            )
        elif returns.get(rem.id):  # a payment: what its returns took back of it
            item["took_back"] = "; ".join(
                f"the bank {_took_back_text(rem, back, returns[rem.id])} (return remittance "
                f"{back.id})"
                for back in returns[rem.id]
            )


def _cash_of(lines: list[Application]) -> int:
    """The cash applied by a decision's applications (a credit memo's netting is no cash)."""
    return sum(a.amount_minor for a in lines if a.kind != ApplicationKind.CREDIT_MEMO)


def _outgoing(rem: Remittance, row: dict[str, Any]) -> bool:
    """Whether a remittance is no payment to match: cash taken back or going out, or an
    advice (its cash is another remittance)."""
    return bool(rem.reverses) or row["exception_kind"] in (
        "returned_payment",
        NOT_INCOMING_CASH,
        ADVICE_CONTRADICTS,
    )


def _pending_return(
    rem: Remittance,
    decision: Decision | None,
    status: str,
    cash_applied: dict[str, tuple[str, int | None]],
) -> int:
    """The part (minor, negative or 0) of an open exception's cash going out that is no
    unapplied cash but waits for a person: a return whose payment's cash still stands applied
    (or whose payment was not found, or was dismissed), or money out that reverses no payment.
    The part of a return that takes back its payment's own unapplied cash stays unapplied (it
    nets it). Money out not reconciled yet waits whole: its payment's cash stands applied
    until the reconciler takes it back (counting it unapplied netted another payer's unapplied
    cash against it, and could make the total negative)."""
    if rem.amount_minor >= 0:
        return 0
    if decision is None and status == "new":
        return rem.amount_minor
    if decision is None or status != "exception":
        return 0
    if decision.rule == NOT_INCOMING_CASH:
        return rem.amount_minor
    if decision.rule != REVERSAL_RULE:
        return 0
    original = (decision.evidence or {}).get("original") or {}
    if not original.get("remittance"):
        return rem.amount_minor  # its payment was not found: a person looks
    currency, applied = cash_applied.get(original["remittance"], (rem.currency, 0))
    if currency != rem.currency or applied is None:
        return rem.amount_minor
    return -min(applied, -rem.amount_minor)


# why cash is left unapplied (``reason``): besides these, an exception's own kind
OVER_PAYMENT = "over_payment"  # more than the invoices it pays owe
PARTIAL = "partial"  # applied in part: the rest left after the invoices applied to
NO_INVOICE_NAMED = "no_invoice_named"  # the customer is known; no open invoice fits
CUSTOMER_UNKNOWN = "customer_unknown"  # no customer, or several, could be the payer
TO_CONFIRM = "suggested"  # a suggestion waits for a person
NOT_RECONCILED = "not_reconciled"  # no decision yet
RETURNED_IN_PART = "returned_in_part"  # a return took back part of it: the rest pays nothing
_NAME_THEM = (NO_INVOICE_NAMED, CUSTOMER_UNKNOWN)  # a person names the invoices it pays


def _unapplied_cash(
    remittances: list[Remittance],
    decisions: dict[tuple[str, str], Decision],
    rows: list[dict[str, Any]],
    left: dict[str, int],
    under_exceptions: set[str],
    today: date,
    payers: dict[str, str | None],
    customers: dict[str, str],
) -> dict[str, Any]:
    """The cash received and left unapplied that a person acts on, per customer (oldest
    first), each with why, its age and the next step; totals per currency. Built from what
    the report read (no query): each remittance's ``left`` (minor) as the cash totals count
    it, less what a return waiting for a person nets of it, so the totals are the same cash
    as ``totals.cash.unapplied``. Cash whose applied decision a person undid is the payer's
    (``payers``: its customer, None when unknown), not that of the invoices undone."""
    by_id = {row["id"]: row for row in rows}
    cash = dict(left)
    # payment -> the returns taking (some of) it back whose cash nets its own (none of its
    # cash applied: a person applies none), and those a person dismissed (their cash counts
    # as dismissed, not netted)
    returns: dict[str, list[Remittance]] = defaultdict(list)
    closed_returns: dict[str, list[Remittance]] = defaultdict(list)
    for rem in remittances:
        decision = decisions.get(("remittance", rem.id))
        original = _taken_back(rem, decision)
        if original in cash and by_id[original]["amount"]["currency"] == rem.currency:
            # the return's part that takes back its payment's unapplied cash (0 or negative);
            # once reversed, all of the return: the payment applies nothing then
            netted = min(cash.get(rem.id, 0), 0)
            cash[original] += netted
            if netted and by_id[original]["status"] != "auto_applied":
                returns[original].append(rem)
            if decision is not None and decision.status == DISMISSED:
                closed_returns[original].append(rem)
    groups: dict[str | None, dict[str, Any]] = {}
    totals: dict[str, dict[str, int]] = {}
    for rem in remittances:
        row = by_id[rem.id]
        minor = cash.get(rem.id, 0)
        if minor <= 0 or rem.amount_minor <= 0 or row["status"] == DISMISSED:
            continue  # fully applied, cash going out or taken back, closed by a person
        decision = decisions.get(("remittance", rem.id))
        when = rem.value_date or rem.created_at.date()
        backs, closed = returns.get(rem.id, []), closed_returns.get(rem.id, [])
        reason = RETURNED_IN_PART if backs or closed else _unapplied_reason(decision, row["status"])
        customer_id = payers.get(rem.id, decision.customer_id) if decision else None
        # undone cash whose payer no one identified: a person names the invoices it pays
        unknown = reason == UNDONE and customer_id is None
        item = {
            "remittance_id": rem.id,
            "value_date": row["value_date"],
            "payer": rem.payer_name,
            "amount": row["amount"],
            "unapplied": _amount(minor, rem.currency),
            "reason": reason,
            "why": _returned_why(backs, closed, rem, row, minor)
            if reason == RETURNED_IN_PART
            else _unapplied_why(reason, decision, row, minor),
            "status": row["status"],
            "exception_kind": row["exception_kind"],
            "in_exceptions": rem.id in under_exceptions,
            "age_days": max((today - when).days, 0),
            "decision_id": row["decision_id"],
            # cash whose invoices a person names: the command that names them, as `next` says
            "resolve": _naming_invoices(row) if reason in _NAME_THEM or unknown else row["resolve"],
            "next": _returned_next(backs, closed, decisions, row, minor)
            if reason == RETURNED_IN_PART
            else _undone_next(decision, row, customers)
            if reason == UNDONE and decision is not None
            else _unapplied_next(reason, row, minor),
        }
        group = groups.setdefault(
            customer_id,
            {"customer": row["customer"], "customer_id": customer_id, "totals": {}, "items": []},
        )
        group["items"].append(item)
        group["totals"][rem.currency] = group["totals"].get(rem.currency, 0) + minor
        t = totals.setdefault(rem.currency, {"unapplied": 0, "in_exceptions": 0})
        t["unapplied"] += minor
        if item["in_exceptions"]:
            t["in_exceptions"] += minor
    ordered = sorted(
        groups.values(),
        key=lambda g: (g["customer_id"] is None, (g["customer"] or "").casefold()),
    )
    for group in ordered:
        group["items"].sort(key=lambda i: (-i["age_days"], i["remittance_id"]))
        group["totals"] = {cur: _amount(m, cur) for cur, m in sorted(group["totals"].items())}
    return {
        "as_of": today.isoformat(),
        "customers": ordered,
        "totals": {
            cur: {k: _amount(m, cur) for k, m in t.items()} for cur, t in sorted(totals.items())
        },
    }


_REVERSED = RemittanceStatus.REVERSED.value


def _taken_back(rem: Remittance, decision: Decision | None) -> str | None:
    """The payment a return takes back (its remittance id): an open return's, a dismissed
    one's (its cash is gone all the same), or one whose payment a person reversed; else None."""
    if decision is None or rem.amount_minor >= 0:
        return None
    if rem.status == RemittanceStatus.REVERSED:
        if decision.rule != REVERSE_RULE or decision.status != _REVERSED:
            return None
        found = (decision.evidence or {}).get("original_remittance")
        return str(found) if found else None
    dismissed_return = (
        decision.rule == DISMISSAL_RULE
        and (decision.evidence or {}).get("earlier_rule") == REVERSAL_RULE
    )
    if not dismissed_return and (decision.rule != REVERSAL_RULE or decision.status != "exception"):
        return None
    original = (decision.evidence or {}).get("original") or {}
    found = original.get("remittance")
    return str(found) if found else None


def _kept(closed: list[Remittance], row: dict[str, Any], minor: int) -> str:
    """The cash a payment keeps after all its returns: its unapplied cash (the open and
    reversed returns netted already) less what the returns a person dismissed took back."""
    return _minor_text(
        max(minor + sum(r.amount_minor for r in closed), 0), row["amount"]["currency"]
    )


def _returned_why(
    backs: list[Remittance],
    closed: list[Remittance],
    payment: Remittance,
    row: dict[str, Any],
    minor: int,
) -> str:
    """Why cash returns took back in part is unapplied, in plain words: each return, what
    they took back of what, and the one amount kept (a dismissed return's counts among
    dismissed, not here)."""
    currency = payment.currency
    every = sorted([*backs, *closed], key=lambda r: (r.value_date or date.min, r.id))
    taken = -sum(r.amount_minor for r in every)
    dismissed = -sum(r.amount_minor for r in closed)

    def named(back: Remittance) -> str:
        what = ", a return a person dismissed" if back in closed else ""
        return f"{_minor_text(-back.amount_minor, currency)} by remittance {back.id}{what}"

    counted = (
        f": {'their' if len(closed) > 1 else 'its'} {_minor_text(-dismissed, currency)} "
        f"{'count' if len(closed) > 1 else 'counts'} among dismissed"
        if closed
        else ""
    )
    how = f"{'; '.join(named(b) for b in every)}{counted}"
    reversed_ = " and a person reversed the payment" if row["status"] == _REVERSED else ""
    return (
        f"the bank took back {_minor_text(taken, currency)} of its "
        f"{_minor_text(payment.amount_minor, currency)} ({how}){reversed_}: the "
        f"{_kept(closed, row, minor)} kept is paid to no invoice"
    )


def _returned_next(
    backs: list[Remittance],
    closed: list[Remittance],
    decisions: dict[tuple[str, str], Decision],
    row: dict[str, Any],
    minor: int,
) -> str:
    """What a person does about cash returns took back in part (arsync applies none of it):
    the cash kept applied or refunded by hand, then the payment and each open return closed."""
    kept = _kept(closed, row, minor)
    if row["status"] == _REVERSED:
        return (
            f"the payment was voided in every system when it was reversed: apply the {kept} "
            "kept to the customer's invoices in the systems by hand, or refund it to the "
            "payer, or leave it on account as the customer's credit"
        )
    open_ = [
        found
        for back in backs
        if (found := decisions.get(("remittance", back.id))) is not None
        and found.status != DISMISSED
        and back.status != RemittanceStatus.REVERSED
    ]
    close = " and ".join(f"`arsync resolve {d.id} --by {PERSON} --dismiss REASON`" for d in open_)
    return (
        f"apply the {kept} kept to its invoices in the systems by hand (arsync applies no "
        f"cash a return takes back), or refund it; then close this with `arsync resolve "
        f"{row['decision_id']} --by {PERSON} --dismiss REASON`"
        + (
            f" and the return{'s' if len(open_) > 1 else ''} with {close}"
            if open_
            else f" (its return{'s are' if len(closed) > 1 else ' is'} closed already)"
            if closed
            else ""
        )
    )


def _unapplied_reason(decision: Decision | None, status: str) -> str:
    """Why a remittance's cash is (partly) unapplied, from its decision's evidence or kind."""
    if decision is None:
        return NOT_RECONCILED
    evidence = decision.evidence or {}
    kind = decision.exception_kind
    if status == "auto_applied":
        # a person who confirmed a suggestion whole applied what the payer's cash was for;
        # one who named other invoices, or whose suggestion was cut to balances since, in part
        whole = evidence.get("as_suggested") and not evidence.get("changed_since_suggested")
        return OVER_PAYMENT if OVER_PAYMENT in evidence or whole else PARTIAL
    if kind in ("unidentified_payer", "ambiguous"):
        return CUSTOMER_UNKNOWN
    if kind == "no_matching_invoice":
        return NO_INVOICE_NAMED
    if kind == OVER_PAYMENT or (kind is None and OVER_PAYMENT in evidence):
        return OVER_PAYMENT
    return kind or TO_CONFIRM


def _suggested_minor(row: dict[str, Any]) -> int:
    """The cash (minor) the top candidate applies, in the payment's currency (0 if none)."""
    currency = row["amount"]["currency"]
    top = row["candidates"][0] if row["candidates"] else {}
    if (top.get("currency") or currency) != currency:
        return 0
    return sum(Money(i["amount"], currency).minor for i in top.get("invoices") or [])


def _unapplied_why(reason: str, decision: Decision | None, row: dict[str, Any], minor: int) -> str:
    """Why the cash is unapplied, in plain words."""
    currency = row["amount"]["currency"]
    left = _minor_text(minor, currency)
    evidence = decision.evidence if decision and decision.evidence else {}
    numbers = ", ".join(a["invoice_number"] for a in row["applications"])
    if row["status"] == "auto_applied":
        if row["decided_by"] != RULES:
            applied = sum(Money(a["amount"]["amount"], currency).minor for a in row["applications"])
            return (
                f"{row['decided_by']} applied {_minor_text(applied, currency)} to "
                f"{numbers or 'no invoice'}; {left} left unapplied"
            )
        return str(evidence.get("unapplied_because") or f"{left} left after paying {numbers}")
    if reason == NOT_RECONCILED:
        return "not reconciled yet"
    if reason == CUSTOMER_UNKNOWN:
        if row["exception_kind"] == "ambiguous":
            names = [str(c.get("customer")) for c in row["candidates"] if c.get("customer")]
            return "several customers could be the payer" + (
                f": {', '.join(dict.fromkeys(names))}" if names else ""
            )
        return f"no customer is known as the payer ({row['payer'] or 'no name given'})"
    if reason == NO_INVOICE_NAMED:
        named = evidence.get("labelled_not_found")
        if named:
            return "the invoices named are not open: " + ", ".join(map(str, named))
        return f"{row['customer'] or 'the customer'} named no invoice, and no open one fits"
    if reason == OVER_PAYMENT:
        owed = _suggested_minor(row)
        if 0 < owed < minor:
            return (
                f"pays more than the invoices it would settle owe ({_minor_text(owed, currency)})"
            )
        over = evidence.get(OVER_PAYMENT)
        return f"over-payment: {f'{over} {currency}' if over else left} more than owed"
    if reason == TO_CONFIRM:
        top = row["candidates"][0] if row["candidates"] else {}
        return "a suggestion waits for a person" + (f": {top['why']}" if top.get("why") else "")
    if reason == UNDONE:
        return (
            f"{row['decided_by']} undid decision {evidence.get('undone')}, which applied it: "
            f"{evidence.get('reason') or 'no reason given'}"
        )
    return str(reason).replace("_", " ")


def _undone_next(decision: Decision, row: dict[str, Any], customers: dict[str, str]) -> str:
    """What a person does about cash whose applied decision was undone: apply it to the
    payer's invoices (``row['customer']``, the customer identified as the payer), saying
    whose invoices it was taken back from when they are another customer's; with no payer
    known, find who paid first."""
    refund = "refund it to the payer and close it with --dismiss REASON"
    taken = [
        str(line["invoice"])
        for line in (decision.evidence or {}).get("applications_reversed") or []
        if line.get("invoice") and line.get("kind") != ApplicationKind.CREDIT_MEMO.value
    ]
    holder = customers.get(decision.customer_id or "")
    payer = row["customer"]
    from_other = (
        f"it was taken back from {holder}'s invoice{'s' if len(taken) > 1 else ''} "
        f"{', '.join(dict.fromkeys(taken))}"
        if holder and taken and holder != payer
        else ""
    )
    if payer is None:
        named = _naming_invoices(row)
        naming = f"`{named.split(' (')[0]}`" if named else "`arsync resolve`"
        return (
            f"no customer is known as the payer ({row['payer'] or 'no name given'})"
            + (f"; {from_other}" if from_other else "")
            + ": find who paid (the payer's name, account and reference), then apply it to "
            f"that customer's invoices with {naming}; if it is no customer's, {refund}"
        )
    command = f"`{row['resolve'].split(' (')[0]}`" if row["resolve"] else "`arsync resolve`"
    other = f" ({from_other}: {holder} is not the payer)" if from_other else ""
    return f"apply it to {payer}'s invoices{other} with {command}, or {refund}"


def _payers_of_undone(
    session: Any, tenant: str, decisions: dict[tuple[str, str], Decision]
) -> dict[str, str | None]:
    """Remittance -> the customer identified as its payer (None: none), for the remittances
    whose standing decision follows a person's undo: the customer of the last decision the
    rules made before a person named invoices. A person's confirmation is the customer of
    the invoices named, which an undo says may be wrong (one batched lookup)."""
    undone = {
        source_id: d
        for (kind, source_id), d in decisions.items()
        if kind == "remittance" and d.exception_kind == UNDONE
    }
    history = {
        row.id: row
        for row in select_in(
            session,
            _DECISION,
            ("id", "customer_id", "decided_by", "evidence"),
            equal={"tenant": tenant, "source_kind": "remittance"},
            within={"source_id": set(undone)},
        )
    }
    payers: dict[str, str | None] = {}
    for source_id, standing in undone.items():
        current: Any = standing
        seen: set[str] = set()
        while current is not None and current.id not in seen and current.decided_by != RULES:
            seen.add(current.id)  # a person's: an undo names what it undid, else what it replaced
            evidence = current.evidence or {}
            earlier = evidence.get("undone") or evidence.get("replaces")
            current = history.get(str(earlier)) if earlier else None
        payers[source_id] = (
            current.customer_id if current is not None and current.decided_by == RULES else None
        )
    return payers


_DECISION: Any = Decision.__table__  # type: ignore[attr-defined]


def _naming_invoices(row: dict[str, Any]) -> str | None:
    """The row's command to apply its cash to the invoices a person names: with
    ``--invoice NUMBER`` (bare, it would apply the top candidate, a suggestion at best)."""
    command = row["resolve"]
    if command and command == f"arsync resolve {row['decision_id']} --by {PERSON}":
        return f"{command} --invoice NUMBER"
    return command


def _unapplied_next(reason: str, row: dict[str, Any], minor: int) -> str:
    """What a person does next about unapplied cash (the command, where there is one)."""
    currency = row["amount"]["currency"]
    # the command as it stands (its own note on --dismiss is said below)
    command = f"`{row['resolve'].split(' (')[0]}`" if row["resolve"] else "`arsync resolve`"
    named = _naming_invoices(row)  # where the text asks a person to name the invoices
    naming = f"`{named.split(' (')[0]}`" if named else "`arsync resolve`"
    refund = "refund it to the payer and close it with --dismiss REASON"
    if row["status"] == "auto_applied":
        return (
            f"{_minor_text(minor, currency)} is the customer's credit: refund it to the "
            "payer, or leave it on account and apply it to the customer's next invoice in the "
            "systems; if it paid the wrong invoices, take it back with `arsync resolve "
            f"{row['decision_id']} --by person:NAME --undo REASON` and apply it again"
        )
    if reason == NOT_RECONCILED:
        return "run `arsync reconcile`: it decides this cash"
    if reason == OVER_PAYMENT:
        owed = _suggested_minor(row)
        if 0 < owed < minor and row["resolve"]:
            return (
                f"apply {_minor_text(owed, currency)} to the invoices suggested with {command}; "
                f"the {_minor_text(minor - owed, currency)} left stays unapplied: refund it, or "
                "leave it on account as the customer's credit"
            )
        return f"name the invoices it pays with {naming}, or {refund}"
    if reason == NO_INVOICE_NAMED:
        return (
            f"ask {row['customer'] or 'the customer'} which invoices it pays and apply it to "
            f"them with {naming}; if it pays none, {refund}"
        )
    if reason == CUSTOMER_UNKNOWN:
        return (
            "find who paid (the payer's name, account and reference), then apply it to that "
            f"customer's invoices with {naming}; if it is no customer's, {refund}"
        )
    if reason == TO_CONFIRM:
        return f"check the suggestion and apply it with {command} (or name other invoices)"
    if reason == "currency_mismatch":
        return (
            "the customer's invoices are in another currency: arsync converts none; apply it "
            f"in the systems by hand, or {refund}"
        )
    return f"apply it with {command}, or {refund}"


def _named_scores(evidence: dict[str, Any], customers: dict[str, str]) -> dict[str, Any]:
    """The evidence, its name scores naming each customer scored (not only its id)."""
    scores = evidence.get("name_scores") if evidence else None
    if not isinstance(scores, list):
        return evidence
    return {**evidence, "name_scores": _named(scores, customers)}


def _drift_names(
    finding: DriftFinding,
    invoices: dict[str, Invoice],
    memos: dict[str, CreditMemo],
    payments: dict[str, Payment],
    customers: dict[str, str],
) -> dict[str, str | None]:
    """What names a drifting record for a person: its number (an invoice's or credit memo's,
    a payment's reference, a customer's name) and its customer's name."""
    cid = finding.canonical_id
    record: Invoice | CreditMemo | Payment | None = None
    if finding.canonical_type == "customer":
        return {"number": customers.get(cid), "customer": customers.get(cid)}
    if finding.canonical_type == "invoice":
        record = invoices.get(cid)
        number = record.number if record else None
    elif finding.canonical_type == "credit_memo":
        record = memos.get(cid)
        number = record.number if record else None
    else:
        record = payments.get(cid) if finding.canonical_type == "payment" else None
        number = record.reference if record else None
    customer = customers.get(record.customer_id or "") if record else None
    return {"number": number, "customer": customer}


# drift in these fields is in amounts: a void document may show them as zero in one system
_AMOUNT_FIELDS = frozenset({"total", "balance", "amount"})
_VOID = "void"
_REF: Any = ExternalRef.__table__  # type: ignore[attr-defined]


def _last_views(
    session: Any, tenant: str, drift: list[DriftFinding]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Each system's last view (not deleted) of the records an amount finding or a document's
    status finding names, by canonical id then system (one batched lookup, no query per row)."""
    ids = {
        f.canonical_id
        for f in drift
        if f.field in _AMOUNT_FIELDS or _write_may_change(f.canonical_type, f.field)
    }
    views: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for ref in select_in(
        session,
        _REF,
        ("canonical_id", "system", "values", "deleted"),
        equal={"tenant": tenant},
        within={"canonical_id": ids},
    ):
        if not ref.deleted:
            views[ref.canonical_id][ref.system] = ref.values or {}
    return views


def _void_in(views: dict[str, dict[str, Any]]) -> set[str]:
    """The systems whose last view of a record shows it void."""
    return {system for system, seen in views.items() if seen.get("status") == _VOID}


def _is_zero(value: Any) -> bool:
    """Whether a drift value (``0.00 USD``) is a zero amount."""
    try:
        return Decimal(str(value).split()[0]) == 0
    except (ArithmeticError, IndexError):
        return False


def _drift(
    drift: list[DriftFinding],
    views: dict[str, dict[str, dict[str, Any]]],
    invoices: dict[str, Invoice],
    memos: dict[str, CreditMemo],
    payments: dict[str, Payment],
    customers: dict[str, str],
    waiting: dict[str, list[Any]] | None = None,
) -> list[dict[str, Any]]:
    """The open drift findings, each naming its record, which systems to change and what to
    do; a record void in some systems is one status disagreement, its zero amounts explained
    by it (the findings are all kept, as recorded). arsync's own writes still waiting to
    change a record are listed on its row; only when they close the difference does the row
    point to them instead of a change by hand."""
    void_status = {
        f.canonical_id
        for f in drift
        if f.field == "status"
        and _VOID in f.values.values()
        and any(v != _VOID for v in f.values.values())
    }
    items: list[dict[str, Any]] = []
    for f in drift:
        values = dict(f.values)
        if f.field == "status":
            void_in = sorted(s for s, v in values.items() if v == _VOID)
        else:
            void_in = sorted(_void_in(views.get(f.canonical_id, {})))
        zeros = [s for s in void_in if s in values]
        explained = None
        if f.field in _AMOUNT_FIELDS and zeros and all(_is_zero(values[s]) for s in zeros):
            explained = "status" if f.canonical_id in void_status else _VOID
        commands = [
            c
            for c in (waiting or {}).get(f.canonical_id, [])
            if c.system in values
            and _write_may_change(f.canonical_type, f.field)
            and not explained
            and not void_in
        ]
        record: Invoice | CreditMemo | None = (
            invoices.get(f.canonical_id)
            if f.canonical_type == "invoice"
            else memos.get(f.canonical_id)
        )
        after = (
            _after_writes(f, commands, views.get(f.canonical_id, {}), record) if commands else None
        )
        owner = f.system_of_record
        closed_by_writes = after is not None and len(set(after.values())) == 1
        items.append(
            {
                "object": f.canonical_type,
                "id": f.canonical_id,
                **_drift_names(f, invoices, memos, payments, customers),
                "field": f.field,
                "values": values,
                "system_of_record": owner,
                "first_seen": f.first_seen.isoformat(timespec="seconds"),
                "change_in": []
                if explained
                or closed_by_writes
                or any(c.status == CommandStatus.SENT for c in commands)
                else _change_in(after or values, owner),
                "void_in": void_in,
                "explained_by": explained,
                "explains": [],
                "waiting_writes": [
                    _waiting_write(c, _change_of(c, f.canonical_type, f.canonical_id))
                    for c in commands
                ],
                "after_writes": after,
            }
        )
    explained_by_status: dict[str, list[str]] = defaultdict(list)
    for item in items:
        if item["explained_by"] == "status":
            explained_by_status[item["id"]].append(item["field"])
    for item in items:
        if item["field"] == "status" and item["id"] in void_status:
            item["explains"] = sorted(explained_by_status.get(item["id"], []))
        item["next"] = _drift_next(item)
    items.sort(
        key=lambda i: (
            i["object"],
            (i["number"] or "").casefold(),
            i["id"],
            i["field"] != "status",
            i["field"],
        )
    )
    return items


def _change_in(values: dict[str, Any], owner: str | None) -> list[str]:
    """The systems whose value is not the system of record's (none known without one)."""
    if owner is None or owner not in values:
        return []
    return sorted(s for s, v in values.items() if s != owner and v != values[owner])


def _syncs(systems: list[str]) -> str:
    """``arsync sync --system A`, `arsync sync --system B` and ...`` for each system."""
    said = [f"`arsync sync --system {s}`" for s in systems]
    return " and ".join([", ".join(said[:-1]), said[-1]]) if len(said) > 1 else "".join(said)


def _drift_next(item: dict[str, Any]) -> str:
    """What a person does about a drift finding: which system is right by configuration and
    what to change where, or why nothing needs changing (one paragraph)."""
    obj = item["object"].replace("_", " ")
    label = f"{obj} {item['number'] or item['id']}"
    field = item["field"].replace("_", " ")
    values: dict[str, Any] = item["values"]
    owner = item["system_of_record"]
    void_in: list[str] = item["void_in"]
    if item["explained_by"] == "status":
        return (
            f"{label}'s {field} differs only because it is void in {', '.join(void_in)}, which "
            f"shows a void {obj} with a {field} of 0: see its status finding; the {field} "
            "itself needs no change"
        )
    if item["explained_by"] == _VOID:
        others = [s for s in values if s not in void_in]
        if not others:
            return (
                f"{label} is void in {', '.join(void_in)}: nothing is owed on it; its {field} "
                "differs only in how each system shows a void document, and needs no change"
            )
        return (
            f"{label} is void in {', '.join(void_in)} ({field} 0 there) and not in "
            f"{', '.join(others)}: void it in {', '.join(others)}, or restore it in "
            f"{', '.join(void_in)} if voiding it was the mistake; then `arsync sync --system "
            f"NAME` for the system you changed ({' or '.join(sorted(values))})"
        )
    if item["field"] == "status" and void_in and len(void_in) < len(values):
        others = [s for s in values if s not in void_in]
        text = (
            f"{label} is void in {', '.join(void_in)} and "
            + ", ".join(f"{values[s]} in {s}" for s in others)
            + ": "
        )
        if owner in values:
            text += (
                f"{owner} is the system of record for {obj} status (settings "
                f"[system_of_record]), so arsync holds it {values[owner]}. "
            )
        text += (
            f"If it is void, void it in {', '.join(others)}; if voiding it in "
            f"{', '.join(void_in)} was the mistake, restore it in {', '.join(void_in)} (where "
            "a system cannot un-void, re-enter it or issue it again). arsync voids and restores "
            "no document itself. Then `arsync sync --system NAME` for the system you changed "
            f"({' or '.join(sorted(values))}): the findings close once the systems agree."
        )
        if item["explains"]:
            text += (
                f" Its {' and '.join(item['explains'])} differ only because "
                f"{', '.join(void_in)} shows a void {obj} with zero amounts."
            )
        return text
    writes: list[dict[str, Any]] = item["waiting_writes"]
    after: dict[str, str] | None = item["after_writes"]
    if writes and after is not None and len(set(after.values())) == 1:
        return _waiting_next(item, label, field)  # they close the difference once they land
    if any(w["status"] == CommandStatus.SENT for w in writes):
        return _unknown_next(item, label, field)
    aside = f" {_writes_aside(item, label, field)}" if writes else ""
    change_in: list[str] = item["change_in"]
    if not change_in:
        return (
            f"no system of record for {obj} {field} is among {', '.join(sorted(values))}: find "
            f"which one is right, correct {field} of {label} in the others, then "
            f"{_syncs(sorted(values))} for each system you changed.{aside}"
        )
    targets: dict[str, list[str]] = defaultdict(list)
    for system in change_in:
        targets[_hand_value(item, system)].append(system)
    to = "; ".join(f"to {value} in {', '.join(systems)}" for value, systems in targets.items())
    text = (
        f"{owner} is the system of record for {obj} {field} (settings [system_of_record]): "
        f"arsync keeps its {values[owner]}. Change {field} of {label} {to} "
        f"(or, if {owner} is the wrong one, correct it there), then "
        f"{_syncs(change_in)}: the finding closes once the systems agree.{aside}"
    )
    notes = [_push_note(item["object"], item["field"], s) for s in change_in]
    return " ".join([text, *dict.fromkeys(notes)])


def _hand_value(item: dict[str, Any], system: str) -> str:
    """The value a person sets by hand in ``system``: the system of record's once arsync's
    waiting writes land there, plus what ``system``'s own waiting writes will still apply on
    top of it (set to the other's value, a write then applied would count twice)."""
    values: dict[str, str] = item["values"]
    after: dict[str, str] | None = item["after_writes"]
    owner: str = item["system_of_record"]
    if after is None:
        return values[owner]
    if item["field"] not in _AMOUNT_FIELDS:
        return after[owner]
    now, theirs, mine = (_drift_money(v) for v in (values[system], after[owner], after[system]))
    if now is None or theirs is None or mine is None:
        return after[owner]
    return str(now + (theirs - mine))


def _writes_aside(item: dict[str, Any], label: str, field: str) -> str:
    """arsync's own writes waiting to change a record whose difference they do not close, as
    information beside the change by hand: what they leave, and how each moves on."""
    writes: list[dict[str, Any]] = item["waiting_writes"]
    after: dict[str, str] | None = item["after_writes"]
    many = len(writes) > 1
    systems = sorted({w["system"] for w in writes})
    they, land = ("they", "they land") if many else ("it", "it lands")
    text = (
        f"arsync's own write{'s' if many else ''} to {', '.join(systems)} "
        f"{'wait' if many else 'waits'} to change {label} too"
    )
    if after is None:
        text += (
            f"; whether {they} {'close' if many else 'closes'} this difference cannot be told "
            "from the values."
        )
    else:
        shown = " and ".join(f"{s} would show {v}" for s, v in sorted(after.items()))
        text += f", and {'do' if many else 'does'} not close this difference: once {land}, {shown}."
    counted = [s for s in item["change_in"] if s in systems]
    if counted and after is not None and field == "balance":
        text += (
            f" The value to set in {', '.join(counted)} counts what {they} will still apply "
            f"there (set it so, never to the other's {field}, or the write would apply its "
            "amount a second time)."
        )
    said = "; ".join(
        f"write {w['command_id']} ({_write_label(w)}): " + _aside_how(w, item, label, writes)
        for w in writes
    )
    return f"{text} W{said[1:]}."


def _aside_how(
    write: dict[str, Any], item: dict[str, Any], label: str, writes: list[dict[str, Any]]
) -> str:
    """How a waiting write beside a change by hand moves on: one in conflict in a system to
    change only after the value there is corrected."""
    system, cid = write["system"], write["command_id"]
    if write["status"] != "conflict" or system not in item["change_in"]:
        return _waiting_how(write, writes)
    where = "as above" if item["field"] == "balance" else "see its balance finding"
    return (
        f"correct the balance of {label} in {system} first ({where}), then `arsync outbox "
        f"retry {cid}` (checked again before it is sent); only if it must not be written "
        f"there, `arsync outbox cancel {cid}`"
    )


def _write_label(write: dict[str, Any]) -> str:
    """``apply_cash in invoiced, conflict, -60.00 USD to the balance``: what a write is."""
    change = write.get("amount")
    return f"{write['operation']} in {write['system']}, {write['status']}" + (
        f", {_money_text(change)} to the balance" if change else ""
    )


def _drift_money(value: Any) -> Money | None:
    """A drift value shown as money (``100.00 USD``), or None when it is not."""
    try:
        amount, currency = str(value).split()
        return Money(amount, currency)
    except (ArithmeticError, ValueError):
        return None


# a CRM's writes of a document as arsync holds it (absolute), not a change to it
_STATE_WRITES = frozenset({"invoice_state", "credit_memo_state"})


def _change_of(command: Any, ctype: str, cid: str) -> int | None:
    """What a waiting write changes a document's balance by (minor; an apply or write-off
    lowers it, a void of one raises it again); None for a state write (it writes the balance
    arsync holds)."""
    if command.operation in _STATE_WRITES:
        return None
    payload = command.payload or {}
    if command.operation == "write_off":
        mine = ctype == "invoice" and str(payload.get("invoice_id")) == cid
        return -int(payload.get("amount_minor") or 0) if mine else 0
    lines = payload.get("lines") or ()
    if ctype == "invoice":
        applied = sum(int(li["amount_minor"]) for li in lines if str(li.get("invoice_id")) == cid)
    else:  # a credit memo: the credit applied of it, wherever it went
        own = str(payload.get("credit_memo_id") or "") == cid or (
            command.canonical_type == "credit_memo" and command.canonical_id == cid
        )
        applied = sum(int(li["amount_minor"]) for li in lines) if own else 0
    return applied if command.operation == "void_cash" else -applied


def _after_writes(
    finding: DriftFinding,
    commands: list[Any],
    seen: dict[str, dict[str, Any]],
    record: Invoice | CreditMemo | None,
) -> dict[str, str] | None:
    """Each system's value of a balance or status finding once arsync's waiting writes land
    there (a system with none keeps its value), or None when that cannot be told. The
    writes' amounts are taken from the value the system shows now (a status from the balance
    its last view shows); a CRM's state write shows the record as arsync holds it."""
    after: dict[str, str] = {}
    for system, value in finding.values.items():
        mine = [c for c in commands if c.system == system]
        if not mine:
            after[system] = value
            continue
        if any(c.status == CommandStatus.SENT for c in mine):
            return None  # sent, its reply lost: the value shown may hold it already
        if any(c.operation in _STATE_WRITES for c in mine):
            if record is None:
                return None
            balance, currency = record.balance_minor, record.currency
        else:
            shown = _drift_money(value) if finding.field == "balance" else None
            if finding.field == "balance" and shown is None:
                return None
            currency = shown.currency if shown else (record.currency if record else "")
            base = shown.minor if shown else seen.get(system, {}).get("balance_minor")
            if base is None or any(
                (c.payload or {}).get("currency") not in (None, currency) for c in mine
            ):
                return None
            balance = int(base) + sum(
                _change_of(c, finding.canonical_type, finding.canonical_id) or 0 for c in mine
            )
        if finding.field == "balance":
            after[system] = str(Money.from_minor(balance, currency))
        elif value in (DocumentStatus.OPEN, DocumentStatus.PAID) and balance >= 0:
            after[system] = str(DocumentStatus.PAID if balance == 0 else DocumentStatus.OPEN)
        else:
            return None
    return after


def _write_may_change(ctype: str, field: str) -> bool:
    """Whether an outbox write may change this field of this record (a document's balance or
    status: cash, credit or a write-off applied, a void of cash, a state system's write)."""
    return ctype in ("invoice", "credit_memo") and field in ("balance", "status")


_APPLICATION: Any = Application.__table__  # type: ignore[attr-defined]
_OUTBOX: Any = OutboxCommand.__table__  # type: ignore[attr-defined]
_WAITING_COLUMNS = (
    "id",
    "system",
    "operation",
    "status",
    "canonical_type",
    "canonical_id",
    "payload",
    "result",
    "created_at",
)


def _waiting_writes(session: Any, tenant: str, drift: list[DriftFinding]) -> dict[str, list[Any]]:
    """The commands not yet landed (pending, sent, failed, dead, conflict) that may change a
    drifting document's balance or status, by each invoice or credit memo they touch (their
    lines', a write-off's, a memo's, a state write's). Only those commands are read: the
    ones whose record is a drifting document or the remittance or credit memo of an
    application to one (a void of cash has its original's record)."""
    ids = {f.canonical_id for f in drift if _write_may_change(f.canonical_type, f.field)}
    if not ids:
        return {}
    sources = {
        row.source_id
        for row in select_in(
            session,
            _APPLICATION,
            ("source_id",),
            equal={"tenant": tenant},
            within={"invoice_id": ids},
        )
    }
    touched: dict[str, list[Any]] = defaultdict(list)
    commands = select_in(
        session,
        _OUTBOX,
        _WAITING_COLUMNS,
        equal={"tenant": tenant},
        within={"canonical_id": ids | sources, "status": WAITING},
    )
    for c in sorted(commands, key=lambda c: (c.created_at, c.id)):
        payload = c.payload or {}
        found = {str(line.get("invoice_id")) for line in payload.get("lines") or ()}
        found |= {str(payload[k]) for k in ("invoice_id", "credit_memo_id") if payload.get(k)}
        if c.canonical_type in ("invoice", "credit_memo"):
            found.add(c.canonical_id)
        for record in found & ids:
            touched[record].append(c)
    return touched


def _waiting_write(command: Any, change: int | None) -> dict[str, Any]:
    """A write that waits to change a drifting record, with the command that moves it on,
    what it changes the record's balance by (null for a state write) and, for one whose
    payment a person reversed, the reversal (it is only looked for, never sent again)."""
    system, cid = command.system, command.id
    due = command.status in (CommandStatus.PENDING, CommandStatus.SENT)
    currency = (command.payload or {}).get("currency")
    return {
        "command_id": cid,
        "system": system,
        "operation": command.operation,
        "status": str(command.status),
        "resolve": f"arsync push --system {system}" if due else f"arsync outbox retry {cid}",
        "amount": _amount(change, currency) if change and currency else None,
        "reversed_by": (command.result or {}).get(REVERSED_BY),
        "undoes": (command.payload or {}).get("original_command")
        if command.operation == "void_cash"
        else None,
    }


def _waiting_how(write: dict[str, Any], writes: list[dict[str, Any]]) -> str:
    """How a waiting write gets written, by its status (one clause)."""
    system, cid, resolve = write["system"], write["command_id"], write["resolve"]
    if write["reversed_by"]:
        voids = [w["command_id"] for w in writes if w["undoes"] == cid]
        void = f"write {voids[0]}" if voids else "its void_cash"
        return (
            f"its payment was reversed (decision {write['reversed_by']}): it is never sent "
            f"again, only looked for in {system} by `{resolve}`: if it landed, {void} undoes "
            "it; if not, it is cancelled with its void"
        )
    return {
        "pending": f"`{resolve}` sends it",
        "sent": f"`{resolve}` looks for it in {system} first and sends it again only if it is "
        "not there",
        "failed": f"the next `arsync push` retries it (`{resolve}` makes it due at once)",
        "conflict": f"check the record in {system}, run `arsync sync --system {system}`, then "
        f"`{resolve}` (checked again before it is sent); only if it must not be written there, "
        f"`arsync outbox cancel {cid}`, and then change it by hand",
        "dead": f"{system} refused it (see Writes to the systems): fix the cause, then `{resolve}`",
    }.get(write["status"], f"`{resolve}`")


def _waiting_next(item: dict[str, Any], label: str, field: str) -> str:
    """What to do about drift that arsync's own writes, still waiting, close once they land:
    move those writes on, never change the value by hand (the write would then apply it a
    second time)."""
    writes: list[dict[str, Any]] = item["waiting_writes"]
    systems = sorted({w["system"] for w in writes})
    said = "; ".join(
        f"write {w['command_id']} ({_write_label(w)}): " + _waiting_how(w, writes) for w in writes
    )
    many = len(writes) > 1
    return (
        f"arsync's own write{'s' if many else ''} to {', '.join(systems)} "
        f"{'wait' if many else 'waits'} to change {label}, so its {field} differs "
        f"until {'they land' if many else 'it lands'}: do not change it by hand "
        f"in {', '.join(systems)} (the write would then apply it a second time). W{said[1:]}. The "
        f"finding closes once {_syncs(systems)} "
        f"{'read' if len(systems) > 1 else 'reads'} the record again and the systems agree."
    )


def _unknown_next(item: dict[str, Any], label: str, field: str) -> str:
    """What to do about drift beside arsync's own waiting writes whose effect cannot be told
    from the values (one sent whose reply was lost may be there already): no value to set
    by hand, which could apply their amount a second time; move them on and look again."""
    writes: list[dict[str, Any]] = item["waiting_writes"]
    systems = sorted({w["system"] for w in writes})
    many = len(writes) > 1
    said = "; ".join(
        f"write {w['command_id']} ({_write_label(w)}): " + _waiting_how(w, writes) for w in writes
    )
    leave = "they leave" if many else "it leaves"
    return (
        f"arsync's own write{'s' if many else ''} to {', '.join(systems)} "
        f"{'wait' if many else 'waits'} to change {label}, and what {leave} "
        f"cannot be told from the values (a write sent whose reply was lost may be there "
        f"already): do not change its {field} by hand yet (a write then landing would apply "
        f"its amount a second time). W{said[1:]}. Then {_syncs(sorted(item['values']))} and "
        "read this report again: a difference still shown then is one to correct."
    )


def _push_note(ctype: str, field: str, system: str) -> str:
    """Whether arsync's push writes ``field`` of a ``ctype`` in ``system`` (what
    sync/outbox/plan.py plans), as a sentence."""
    words = field.replace("_", " ")
    document = ctype in ("invoice", "credit_memo")
    if document and field in ("balance", "status") and system in STATE_SYSTEMS:
        return (
            f"`arsync push` writes {system}'s {words} (as arsync holds it) only with a decision "
            f"that applies cash or credit to this {ctype.replace('_', ' ')}, where {system}'s "
            "settings let arsync write that field: nothing writes it for this finding alone."
        )
    if document and field in ("balance", "status") and system in PAYMENT_SYSTEMS:
        return (
            f"arsync never writes a {words} in {system}: the payments, credits and write-offs "
            "it applies there change it (`arsync push` sends those waiting; see Writes to the "
            "systems)."
        )
    return f"arsync's push never writes {ctype.replace('_', ' ')} {words} in {system}."


def _quarantine_next(q: Quarantine) -> str:
    """What a person does about a quarantined record, and how arsync reads it again."""
    what = f"field {q.field}" if q.field else "the record"
    full = f"`arsync sync --system {q.system} --full`"
    return (
        f"fix {what} of {q.system} {q.object_type} record {q.remote_id} in {q.system} (see "
        f"reason); once it changed there, the next `arsync sync --system {q.system}` reads it "
        "again, and it leaves this list when arsync can read it. If the value is right in "
        f"{q.system} and arsync cannot read it (a status its settings do not map, say), "
        f"change arsync's settings and run {full}, which reads every record again; run "
        f"{full} too if it stays listed after a fix (a record put back exactly as arsync "
        "last stored it is not read again by an incremental sync)."
    )


def _next_step(command: OutboxCommand) -> str:
    """What a person does about a write that needs one (one line, the commands in it)."""
    system, cid = command.system, command.id
    if command.status == CommandStatus.CONFLICT:
        return (
            f"{system} no longer shows the record as the decision expects (paid, changed, "
            f"voided or deleted there since it was last read): check it in {system}; once it "
            f"is right there, run `arsync sync --system {system}`, then `arsync outbox retry "
            f"{cid}` (checked again before it is sent); if this write must not happen in "
            f"{system}, `arsync outbox cancel {cid}` ({_cancel_leaves(command)})"
        )
    if command.status == CommandStatus.FAILED:
        return (
            f"waits for the next `arsync push`, which tries it again on its own; "
            f"`arsync outbox retry {cid}` makes it due at once"
        )
    return (
        f"{system} refused it, or it ran out of attempts (see why): fix the cause, then "
        f"`arsync outbox retry {cid}`; `arsync outbox cancel {cid}` never sends it (refused, "
        f"saying what to do instead, if it may have been written in {system})"
    )


def _cancel_leaves(command: OutboxCommand) -> str:
    """What cancelling a write leaves, by its operation (a void's cancel leaves the payment
    arsync reversed standing in that system)."""
    system = command.system
    elsewhere = f"in arsync and the other systems, not in {system}"
    left = {
        "void_cash": f"the payment stays in {system} though arsync and the other systems "
        f"reversed it: void it in {system} by hand",
        "apply_cash": f"the cash stays applied {elsewhere}",
        "apply_credit": f"the credit memo stays applied {elsewhere}",
        "write_off": f"the write-off stays {elsewhere}",
    }
    return left.get(
        command.operation,  # a state system's invoice, credit memo or account summary
        f"{system} shows the record as it was until a later decision on it writes it again",
    )


def _dismissal(
    decision: Decision, payer: str | None, customer: str | None, remittance_id: str | None
) -> dict[str, Any]:
    """One item a person closed with no cash movement: who, when, why, what it was."""
    evidence = decision.evidence or {}
    return {
        "decision_id": decision.id,
        "source_kind": decision.source_kind,
        "remittance_id": remittance_id,
        "payer": payer,
        "customer": customer,
        "amount": _amount(decision.amount_minor, decision.currency),
        "was": evidence.get("exception_kind") or evidence.get("dismissed_status"),
        "dismissed_decision": evidence.get("dismissed"),
        "decided_by": decision.decided_by,
        "decided_at": decision.created_at.isoformat(timespec="seconds"),
        "reason": evidence.get("reason"),
        "took_back": None,  # a return's or its payment's: what was taken back of what
    }


def _named(
    candidates: list[dict[str, Any]], customers: dict[str, str], own_shortfall: bool = False
) -> list[dict[str, Any]]:
    """The candidates, each naming its customer (not only its id) for the person deciding;
    with ``own_shortfall``, a candidate's "short by" is what its own invoices are short."""
    named = [
        {**c, "customer": customers.get(c["customer_id"])} if c.get("customer_id") else c
        for c in candidates
    ]
    return [_own_shortfall(c) for c in named] if own_shortfall else named


_SHORT_BY = re.compile(r"; short by -?[0-9.]+")


def _own_shortfall(candidate: dict[str, Any]) -> dict[str, Any]:
    """The candidate with its "short by" over its own invoices: the cash, credit memos and
    write-offs it applies, less their balances (the shortfall a rule saw may be over every
    invoice the payer named, some of them another customer's); none said when none is short."""
    why, lines = candidate.get("why"), candidate.get("invoices") or []
    if not isinstance(why, str) or not _SHORT_BY.search(why) or not lines:
        return candidate
    if any(line.get("balance") in (None, "") for line in lines):
        return candidate
    paid = [line["amount"] for line in lines]
    paid += [m["amount"] for m in candidate.get("credits") or []]
    paid += [d["amount"] for d in candidate.get("deductions") or []]
    short = sum(Decimal(line["balance"]) for line in lines) - sum(map(Decimal, paid))
    said = f"; short by {short}" if short > 0 else ""
    return {**candidate, "why": _SHORT_BY.sub(said, why, count=1)}


def _resolve_with(
    decision: Decision | None,
    invoices: dict[str, Invoice],
    returned: str | None = None,
    customers: dict[str, str] | None = None,
    payer: str | None = None,
    identified: str | None = None,
) -> str | None:
    """The command that settles a decision: a reversal whose payment paid invoices is
    undone with ``--reverse``; cash returns (remittances ``returned``) take back is applied
    to nothing, only closed with ``--dismiss``; anything else is applied to invoices: its top
    candidate's, or those the person names (``--invoice NUMBER``) when no candidate names any,
    its invoices are of several customers (a payment is applied to one customer's), are in
    another currency than the cash, or are of a customer who is not the payer (another than
    the one ``identified`` as the payer, or, with none identified, one the payer's name is
    not)."""
    if decision is None or decision.rule == NOT_INCOMING_CASH:
        return None  # no cash came in: nothing to apply
    if decision.rule == REVERSAL_RULE:
        dismiss = f"arsync resolve {decision.id} --by {PERSON} --dismiss REASON"
        if decision.exception_kind == RETURN_EXCEEDS_PAYMENT:
            return (
                f"{dismiss} (if it is a return already standing, reported again; if the bank "
                "took the money twice, claim it back from the bank: it takes back nothing here)"
            )
        if not decision.evidence.get("original"):
            return (
                f"{dismiss} (no payment of that name was found: check with the bank or "
                "processor which payment it takes back)"
            )
        if not decision.evidence.get("paid"):
            return f"{dismiss} (its payment paid no invoice: nothing to reverse)"
        return f"arsync resolve {decision.id} --by {PERSON} --reverse"
    if decision.rule == ADVICE_CONTRADICTS:  # undo the applied cash; the advice then places it
        return f"arsync resolve {decision.id} --by {PERSON} --reverse"
    if returned:
        return (
            f"arsync resolve {decision.id} --by {PERSON} --dismiss REASON (the bank took its "
            f"cash back: remittance{'s' if ', ' in returned else ''} {returned})"
        )
    top = decision.candidates[0] if decision.candidates else {}
    whose = {
        invoices[line["id"]].customer_id
        for line in top.get("invoices") or []
        if line.get("id") in invoices
    }
    naming = f"arsync resolve {decision.id} --by {PERSON} --invoice NUMBER"
    no_cash = "--dismiss REASON if it needs no cash movement"
    closed = _closed_lines(top, invoices)
    if closed:
        return (
            f"{naming} (the best candidate's invoice {', '.join(closed)} is "
            f"{_closed_words(top, invoices)} now and owes nothing: name an open invoice; or "
            f"{no_cash})"
        )
    if not top.get("invoices") or len(whose) > 1:  # not to confirm as it stands: name them
        return f"{naming} (or {no_cash})"
    currency = top.get("currency") or decision.currency
    if decision.exception_kind == "currency_mismatch" or currency != decision.currency:
        return (
            f"{naming} (an invoice in {decision.currency}, the cash's currency: the invoices "
            f"suggested are in {currency} and arsync converts none; or {no_cash})"
        )
    owner = next(iter(whose), None) or top.get("customer_id")
    names = customers or {}
    if (
        decision.source_kind == "remittance"
        and owner
        and not _is_payer(owner, identified, names, payer)
    ):
        numbers = ", ".join(str(line.get("number")) for line in top["invoices"])
        whom = names.get(owner) or f"customer {owner}"
        return (
            f"{naming} (the best candidate, invoice {numbers}, is {whom}'s, not the payer's "
            f"({payer or 'no name given'}): name it only once you know {whom} paid it; or "
            f"{no_cash})"
        )
    return f"arsync resolve {decision.id} --by {PERSON}"


# an invoice of these statuses owes nothing and takes no cash: the report says so by name
_CLOSED = (DocumentStatus.VOID, DocumentStatus.DELETED)


def _closed_lines(candidate: dict[str, Any], invoices: dict[str, Invoice]) -> list[str]:
    """The numbers of a candidate's invoices that are void or deleted now."""
    return [
        str(line.get("number"))
        for line in candidate.get("invoices") or []
        if (found := invoices.get(line.get("id") or "")) is not None and found.status in _CLOSED
    ]


def _closed_words(candidate: dict[str, Any], invoices: dict[str, Invoice]) -> str:
    """``void``, ``deleted`` or ``void or deleted``: what a candidate's closed invoices are."""
    said = {
        str(found.status)
        for line in candidate.get("invoices") or []
        if (found := invoices.get(line.get("id") or "")) is not None and found.status in _CLOSED
    }
    return " or ".join(sorted(said))


def _voided(candidates: list[dict[str, Any]], invoices: dict[str, Invoice]) -> list[dict[str, Any]]:
    """The candidates, each invoice void or deleted since they were made marked so (its
    ``status``) and said in ``why``: the balance the candidate kept is no longer owed."""
    marked = []
    for c in candidates:
        closed = _closed_lines(c, invoices)
        if not closed:
            marked.append(c)
            continue
        lines = [
            {**line, "status": str(invoices[line["id"]].status)}
            if line.get("id") in invoices and invoices[line["id"]].status in _CLOSED
            else line
            for line in c["invoices"]
        ]
        why = _SHORT_BY.sub("", str(c.get("why") or ""))  # short of a balance no longer owed
        note = f"invoice {', '.join(closed)} is {_closed_words(c, invoices)} now: owes nothing"
        marked.append({**c, "invoices": lines, "why": f"{why}; {note}" if why else note})
    return marked


def _is_payer(
    owner: str, identified: str | None, customers: dict[str, str], payer: str | None
) -> bool:
    """Whether customer ``owner`` is who paid: the customer ``identified``, or, with none
    identified, the customer the payer's name is."""
    if identified:
        return identified == owner
    name = customers.get(owner)
    if not payer or not name:
        return False
    other = other_spelling_key(name)
    scores = payer_name_scores(
        name_key(payer),
        {owner: name_key(name)},
        limit=1,
        spellings={owner: other} if other else None,
    )
    return bool(scores) and scores[0][0] >= PAYER_IS_CUSTOMER


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained, sortable HTML page."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"])
    )
    env.filters["money"] = lambda a: Money(a["amount"], a["currency"]).format() if a else ""
    # an amount a candidate states as text, in the currency the row gives it
    env.filters["money_in"] = lambda value, currency: (
        Money(value, currency).format() if value not in (None, "") else ""
    )
    # the amount findings a void explains, shown with their record's status finding
    explained = {
        (d["id"], d["field"]): d for d in report["drift"] if d.get("explained_by") == "status"
    }
    return env.get_template("report.html.j2").render(report=report, explained=explained)


def write_report(report: dict[str, Any], fmt: ReportFormat, path: Path) -> Path:
    """Render the report to ``path`` in the chosen format; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    elif fmt == "csv":
        _write_csv(report, path)
    elif fmt == "html":
        path.write_text(render_html(report), encoding="utf-8")
    elif fmt == "xlsx":
        _write_xlsx(report, path)
    else:
        raise ValueError(f"unknown report format {fmt!r}: json, csv, html or xlsx")
    return path


# a cell beginning so is run as a formula by spreadsheet programs (CSV injection)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def spreadsheet_text(value: Any) -> Any:
    """``value`` safe to open in a spreadsheet: text from outside (a payer's name, a memo)
    that would start a formula (``=HYPERLINK(...)``, ``+1+cmd``, ``@SUM``) gets a leading
    apostrophe, which shows it as the text it is. Numbers, and amounts written as text
    (``-12.50``), are kept."""
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def _money_text(amount: dict[str, str]) -> str:
    """An amount as exact text with its currency: ``1234.50 USD``, ``150500 JPY``."""
    return f"{amount['amount']} {amount['currency']}"


def _minor_text(minor: int, currency: str) -> str:
    """Minor units as exact text with their currency: ``20.00 USD``, ``500 JPY``."""
    return _money_text(_amount(minor, currency))


def _invoice_label(number: Any, status: Any) -> str:
    """An invoice's number as the report writes it: with ``(void)`` (or ``(deleted)``) when
    it is so now, never as if it still owed its balance."""
    return f"{number} ({status})" if status in _CLOSED else str(number)


def _applications_text(row: dict[str, Any]) -> str:
    return "; ".join(
        f"{_invoice_label(a['invoice_number'], a.get('invoice_status'))} {_money_text(a['amount'])}"
        for a in row["applications"]
    )


def _credits_text(row: dict[str, Any]) -> str:
    return "; ".join(
        f"{c['credit_memo']} on {c['invoice_number']} {_money_text(c['amount'])}"
        for c in row["credits"]
    )


def _deductions_text(row: dict[str, Any]) -> str:
    return "; ".join(
        f"{d['invoice_number']} {_money_text(d['amount'])} {d['reason_code']}"
        for d in row["deductions"]
    )


def _candidates_text(candidates: list[dict[str, Any]], currency: str) -> str:
    """Every candidate as one line of text, as the HTML shows them: the cash per invoice (in
    the invoices' currency), the credit memos it would take and the deductions it would write
    off (in the payment's currency), why and its score; candidates apart by `` | ``."""
    parts = []
    for c in candidates:
        cur = c.get("currency") or currency
        text = (
            ", ".join(
                f"{_invoice_label(i['number'], i.get('status'))} {i['amount']} {cur}"
                for i in c["invoices"]
            )
            + (f" ({c['customer']})" if c.get("customer") else "")
            if c.get("invoices")
            else str(c.get("customer") or c.get("customer_id") or "")
        )
        text += f" — {c.get('why', '')} ({c.get('score', '')})"
        if c.get("credits"):
            text += "; credit memos taken: " + ", ".join(
                f"{m['credit_memo']} on {m['invoice_number']} {m['amount']} {currency}"
                for m in c["credits"]
            )
        if c.get("deductions"):
            text += "; written off: " + ", ".join(
                f"{d['invoice_number']} {d['amount']} {currency} {d['reason_code']}"
                for d in c["deductions"]
            )
        parts.append(text)
    return " | ".join(parts)


def _evidence_text(evidence: dict[str, Any] | None) -> str:
    """The evidence as the JSON the report holds (amounts in it are strings)."""
    return json.dumps(evidence, ensure_ascii=False, sort_keys=True) if evidence else ""


def _write_csv(report: dict[str, Any], path: Path) -> None:
    columns = [
        "remittance_id",
        "value_date",
        "payer",
        "amount",
        "currency",
        "status",
        "exception_kind",
        "rule",
        "confidence",
        "invoice_number",
        "applied",
        "deduction",
        "reason_code",
        "unapplied",
        # appended: older readers keep their columns where they were
        "decision_id",
        "customer",
        "credit_memo",
        "credited",
        "reference",
        "evidence",
        "candidates",
        "resolve",
        "decided_by",
        "reason",  # why a person dismissed it (status dismissed)
        # unapplied cash to act on (the unapplied_cash section): why, how old, what next
        "unapplied_reason",
        "age_days",
        "next_step",
        # a remittance's line (1, 2, …): its amount and unapplied are on line 1 only
        "line",
        # appended: the status now of the invoice a line applies to (void: it owes nothing)
        "invoice_status",
        # a dismissed return, or payment a return took back in part: what of what
        "took_back",
    ]
    to_act_on = _unapplied_items(report)
    took_back = {
        d["remittance_id"]: d["took_back"] for d in report["dismissed"] if d["remittance_id"]
    }
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in report["remittances"]:
            base = {
                "remittance_id": row["id"],
                "value_date": row["value_date"],
                "payer": row["payer"],
                "amount": row["amount"]["amount"],
                "currency": row["amount"]["currency"],
                "status": row["status"],
                "exception_kind": row["exception_kind"],
                "rule": row["rule"],
                "confidence": row["confidence"],
                "unapplied": row["unapplied"]["amount"],
                "decision_id": row["decision_id"],
                "customer": row["customer"],
                "reference": row["reference"],
                "evidence": _evidence_text(row["evidence"]),
                "candidates": _candidates_text(row["candidates"], row["amount"]["currency"]),
                "resolve": row["resolve"],
                "decided_by": row["decided_by"],
                "reason": _reason(row),
                "took_back": took_back.get(row["id"]) if row["status"] == DISMISSED else None,
            }
            item = to_act_on.get(row["id"])
            if item is not None:
                base |= {
                    "unapplied_reason": item["reason"],
                    "age_days": item["age_days"],
                    "next_step": item["next"],
                }
            lines: list[dict[str, Any]] = [
                {
                    "invoice_number": a["invoice_number"],
                    "invoice_status": a.get("invoice_status"),
                    "applied": a["amount"]["amount"],
                }
                for a in row["applications"]
            ]
            lines += [
                {
                    "invoice_number": c["invoice_number"],
                    "credit_memo": c["credit_memo"],
                    "credited": c["amount"]["amount"],
                }
                for c in row["credits"]
            ]
            lines += [
                {
                    "invoice_number": d["invoice_number"],
                    "deduction": d["amount"]["amount"],
                    "reason_code": d["reason_code"],
                }
                for d in row["deductions"]
            ]
            for number, line in enumerate(lines or [{}], start=1):
                if number > 1:  # summed down a column, the remittance counts once
                    line |= {"amount": None, "unapplied": None}
                values = {**base, **line, "line": number}
                writer.writerow({k: spreadsheet_text(v) for k, v in values.items()})
        # credit memos the memo pass applied or suggested (no cash: no remittance)
        for memo in report["credit_memos"]:
            base = {
                "currency": memo["currency"],
                "status": memo["status"],
                "rule": memo["rule"],
                "decision_id": memo.get("decision_id"),
                "customer": memo["customer"],
                "credit_memo": memo["credit_memo"],
                "evidence": _evidence_text(memo["evidence"]),
                "candidates": _candidates_text(
                    memo["candidates"] if memo["status"] != "auto_applied" else [],
                    memo["currency"],
                ),
                "resolve": memo["resolve"],
                "reason": _reason(memo),
            }
            lines = [
                {
                    "invoice_number": a["invoice_number"],
                    "invoice_status": a.get("invoice_status"),
                    "credited": a["amount"]["amount"],
                }
                for a in memo["applications"]
            ]
            for line in lines or [{}]:
                writer.writerow({k: spreadsheet_text(v) for k, v in {**base, **line}.items()})


def _unapplied_items(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The unapplied cash section's items by remittance id."""
    return {
        item["remittance_id"]: item
        for group in report["unapplied_cash"]["customers"]
        for item in group["items"]
    }


def _reason(row: dict[str, Any]) -> str | None:
    """Why a person dismissed a row (none for any other status)."""
    return row["evidence"].get("reason") if row["status"] == DISMISSED else None


def _number_format(currency: str) -> str:
    digits = minor_digits(currency)
    return f'#,##0{"." + "0" * digits if digits else ""} "{currency}"'


def _write_xlsx(report: dict[str, Any], path: Path) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    sheets: list[tuple[str, list[str], list[list[Any]]]] = []
    rem_rows = []
    to_act_on = _unapplied_items(report)
    for row in report["remittances"]:
        item = to_act_on.get(row["id"]) or {}
        rem_rows.append(
            [
                row["value_date"],
                row["payer"],
                Decimal(row["amount"]["amount"]),
                row["amount"]["currency"],
                row["status"],
                row["exception_kind"] or "",
                ", ".join(a["invoice_number"] for a in row["applications"]),
                Decimal(row["unapplied"]["amount"]),
                row["rule"] or "",
                row["confidence"],
                row["reference"],
                # appended: the columns above keep their places
                row["id"],
                row["decision_id"] or "",
                row["customer"] or "",
                sum((Decimal(a["amount"]["amount"]) for a in row["applications"]), Decimal(0)),
                _applications_text(row),
                sum((Decimal(c["amount"]["amount"]) for c in row["credits"]), Decimal(0)),
                _credits_text(row),
                sum((Decimal(d["amount"]["amount"]) for d in row["deductions"]), Decimal(0)),
                _deductions_text(row),
                _evidence_text(row["evidence"]),
                _candidates_text(row["candidates"], row["amount"]["currency"]),
                row["resolve"] or "",
                item.get("reason", ""),
                item.get("age_days"),
                item.get("next", ""),
            ]
        )
    sheets.append(
        (
            "Remittances",
            [
                "Date",
                "Payer",
                "Amount",
                "Currency",
                "Status",
                "Exception",
                "Invoices",
                "Unapplied",
                "Rule",
                "Confidence",
                "Reference",
                "Remittance id",
                "Decision",
                "Customer",
                "Applied",
                "Applied to",
                "Credited",
                "Credit memos",
                "Deducted",
                "Deductions",
                "Evidence",
                "Candidates",
                "Resolve with",
                "Unapplied reason",
                "Age (days)",
                "Next step",
            ],
            rem_rows,
        )
    )
    exc_rows = []
    for kind, items in report["exceptions"].items():
        for row in items:
            best = row["candidates"][0] if row["candidates"] else {}
            exc_rows.append(
                [
                    kind,
                    row["value_date"],
                    row["payer"],
                    Decimal(row["amount"]["amount"]),
                    row["amount"]["currency"],
                    ", ".join(i["number"] for i in best.get("invoices", [])),
                    best.get("why", ""),
                    # appended: the columns above keep their places
                    row["rule"] or "",
                    row["confidence"],
                    _candidates_text(row["candidates"], row["amount"]["currency"]),
                    _evidence_text(row["evidence"]),
                    row["resolve"] or "",
                    row["decision_id"] or "",
                    row["id"],
                ]
            )
    sheets.append(
        (
            "Exceptions",
            [
                "Kind",
                "Date",
                "Payer",
                "Amount",
                "Currency",
                "Best candidate",
                "Why",
                "Rule",
                "Confidence",
                "Candidates",
                "Evidence",
                "Resolve with",
                "Decision",
                "Remittance id",
            ],
            exc_rows,
        )
    )
    sheets.append(
        (
            "Credit memos",
            [
                "Credit memo",
                "Customer",
                "Currency",
                "Status",
                "Rule",
                "Credited",
                "Applied to",
                "Candidates",
                "Evidence",
                "Decision",
                "Resolve with",
            ],
            [
                [
                    memo["credit_memo"],
                    memo["customer"] or "",
                    memo["currency"],
                    memo["status"],
                    memo["rule"] or "",
                    sum(
                        (Decimal(a["amount"]["amount"]) for a in memo["applications"]),
                        Decimal(0),
                    ),
                    _applications_text(memo),
                    _candidates_text(
                        memo["candidates"] if memo["status"] != "auto_applied" else [],
                        memo["currency"],
                    ),
                    _evidence_text(memo["evidence"]),
                    memo["decision_id"],
                    memo["resolve"] or "",
                ]
                for memo in report["credit_memos"]
            ],
        )
    )
    if report["dismissed"]:  # only when a person dismissed something: the sheets stay put
        sheets.append(
            (
                "Dismissed",
                [
                    "Dismissed on",
                    "By",
                    "Reason",
                    "Payer",
                    "Customer",
                    "Amount",
                    "Currency",
                    "Was",
                    "Decision",
                    "Dismissed decision",
                    "Remittance id",
                    "Took back",
                ],
                [
                    [
                        d["decided_at"],
                        d["decided_by"],
                        d["reason"] or "",
                        d["payer"] or "",
                        d["customer"] or "",
                        Decimal(d["amount"]["amount"]),
                        d["amount"]["currency"],
                        d["was"] or "",
                        d["decision_id"],
                        d["dismissed_decision"] or "",
                        d["remittance_id"] or "",
                        d.get("took_back") or "",
                    ]
                    for d in report["dismissed"]
                ],
            )
        )
    sheets.append(
        (
            "Writes to check",
            [
                "System",
                "Operation",
                "Status",
                "Attempts",
                "Decision",
                "Command",
                "Error",
                # appended: the columns above keep their places
                "Next step",
                "Retry with",
                "Cancel with",
            ],
            [
                [
                    w["system"],
                    w["operation"],
                    w["status"],
                    w["attempts"],
                    w["decision_id"] or "",
                    w["command_id"],
                    w["error"] or "",
                    w["next"],
                    w["retry"],
                    w["cancel"],
                ]
                for w in report["outbox"]["needs_attention"]
            ],
        )
    )
    sheets.append(
        (
            "Drift",
            [
                "Object",
                "Id",
                "Field",
                "Values",
                "System of record",
                "Number",
                "Customer",
                # appended: the columns above keep their places
                "Next step",
                "Change in",
                "Void in",
                "Explained by",
                "Waiting writes",
            ],
            [
                [
                    d["object"],
                    d["id"],
                    d["field"],
                    "; ".join(f"{k}: {v}" for k, v in d["values"].items()),
                    d["system_of_record"],
                    d["number"] or "",
                    d["customer"] or "",
                    d["next"],
                    ", ".join(d["change_in"]),
                    ", ".join(d["void_in"]),
                    d["explained_by"] or "",
                    "; ".join(
                        f"{w['command_id']} ({_write_label(w)})"
                        + (" only looked for, never sent again" if w["reversed_by"] else "")
                        + f": {w['resolve']}"
                        for w in d["waiting_writes"]
                    ),
                ]
                for d in report["drift"]
            ],
        )
    )
    if report["quarantine"]:  # only when a record is quarantined: the sheets stay put
        sheets.append(
            (
                "Quarantined",
                ["System", "Object", "Id", "Field", "Reason", "Next step"],
                [
                    [q["system"], q["object"], q["id"], q["field"] or "", q["reason"], q["next"]]
                    for q in report["quarantine"]
                ],
            )
        )
    total_rows = [
        [
            cur,
            *(
                Decimal(t[k]["amount"])
                for k in (
                    "received",
                    "applied",
                    "deductions",
                    "unapplied",
                    "dismissed",
                    "returns_pending",
                    "credited",
                )
            ),
        ]
        for cur, t in report["totals"]["cash"].items()
    ]
    sheets.append(
        (
            "Totals",
            [
                "Currency",
                "Received",
                "Applied",
                "Deductions",
                "Unapplied",
                "Dismissed",
                "Returns pending",
                "Credited",
            ],
            total_rows,
        )
    )
    book.remove(book.active)
    for title, header, data in sheets:
        sheet = book.create_sheet(title)
        sheet.append(header)
        for values in data:
            # a control character (an ESC in a bank file's payer name) is refused by openpyxl
            sheet.append(
                [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]
            )
            for cell in sheet[sheet.max_row]:
                if cell.data_type == "f":  # openpyxl reads "=..." as a formula: it is text
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
        if data:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(data) + 1}"
        currency_col = header.index("Currency") + 1 if "Currency" in header else None
        for r_index, values in enumerate(data, start=2):
            currency = values[currency_col - 1] if currency_col else None
            for c_index, value in enumerate(values, start=1):
                if isinstance(value, Decimal) and currency:
                    sheet.cell(row=r_index, column=c_index).number_format = _number_format(currency)
        for c_index, name in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(c_index)].width = max(12, len(name) + 4)
    book.save(path)
