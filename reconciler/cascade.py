"""The matching cascade: from one remittance to a decision, with its evidence and candidates.

Each step is a rule from the rule set; the first that reaches an answer decides. A wrong
application costs more than an unmatched one, so every step abstains on ties and anything
below its rule's confidence is only suggested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import combinations
from typing import Any

from rapidfuzz import fuzz, process

from canonical.keys import (
    document_key,
    legal_name_key,
    name_key,
    without_spelled_legal_form,
)
from canonical.money import Money
from canonical.terms import discount_minor
from reconciler.book import SHARED, Book, OpenItem
from reconciler.payer_names import payer_name_scores
from reconciler.references import (
    TextRef,
    credit_prefix,
    is_placeholder_name,
    loose_key,
    payer_behind,
    po_key,
    processor_id,
    read_references,
    rf_reference,
)
from reconciler.rules import Rule, RuleSet

_CreditLine = tuple[OpenItem, OpenItem, int]  # credit memo, invoice, amount applied

_DISCOUNT_SEARCH_ITEMS = 12  # invoices searched for the ones a payer took its discount on
_STRONG_READINGS = frozenset({"as written", "ocr", "loose", "part", "rmr"})

AUTO = "auto_applied"
SUGGESTED = "suggested"
EXCEPTION = "exception"
LEARNED_NAME = "learned name"  # customer_from of a customer found by a learned name alone


@dataclass(frozen=True)
class Incoming:
    """What the cascade needs of a remittance."""

    id: str
    currency: str
    amount_minor: int
    payer_name: str | None
    payer_iban: str | None
    payer_account: str | None
    free_text: str | None
    structured_refs: list[dict[str, Any]]
    received_on: date | None = None
    ultimate_payer_name: str | None = None  # whom the payer paid for (camt UltmtDbtr)


# a legal name and the trade name it does business under, in one payer name:
# ACME CORP DBA ROADRUNNER SUPPLY, ACME CORPORATION D/B/A ROADRUNNER, ACME LTD T/A ROADRUNNER
_TRADE_NAME = re.compile(
    r"\s(?:d\.?\s?/?\s?b\.?\s?/?\s?a\.?|t\s?/\s?a|trading\s+as|doing\s+business\s+as)\s",
    re.IGNORECASE,
)


def _trade_name_parts(payer: str | None) -> list[str]:
    """The names a payer written ``X DBA Y`` goes by (X and Y), else []."""
    parts = [p.strip(" ,;-") for p in _TRADE_NAME.split(f" {payer or ''} ", maxsplit=1)]
    if len(parts) != 2 or not all(name_key(p) for p in parts):
        return []  # DBA CONSULTING LLC: a name beginning with DBA, no trade name
    return parts


_SAME_NAME = "same normalised name"


def _named(customers: Iterable[str], why: str, score: int = 100) -> list[dict[str, Any]]:
    """Candidate customers a payer's name names, each with its score and why."""
    return [{"customer_id": c, "score": score, "why": why} for c in customers]


def _labelled_not_found(refs: list[TextRef], found: _TextFound) -> list[str]:
    """What the payer labelled as invoice numbers that found no open invoice."""
    resolved = {ref.group for ref, _, _ in found.invoices}
    return list(
        dict.fromkeys(
            ref.written
            for ref in refs
            if ref.labelled and ref.kind == "invoice" and ref.group not in resolved
        )
    )


def _digit_forms(item: OpenItem) -> set[str]:
    """An invoice's keys (as numbered, and without inner zeros), each with and without the
    letters before its digits: ``A/R 7781`` gives ``AR7781`` and ``7781``."""
    forms = {item.key, loose_key(item.number)}
    return forms | {re.sub(r"^[A-Z]+", "", form) for form in forms}


def _memo_not_taken(written: str, named: Sequence[OpenItem], currency: str) -> dict[str, str]:
    """Why a credit memo the payer names is not taken, from the open memos of that number."""
    if len(named) > 1 and all(c.currency == currency for c in named):
        why = "several open credit memos bear this number"
    elif named:
        why = f"in {', '.join(sorted({c.currency for c in named}))}, not {currency}"
    else:
        why = "not open"
    return {"credit_memo": written, "why": why}


@dataclass
class _TextFound:
    """What the references in a remittance's text resolve to."""

    invoices: list[tuple[TextRef, OpenItem, str]] = field(default_factory=list)
    credits: list[tuple[TextRef, OpenItem]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    credits_not_taken: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Outcome:
    status: str
    rule: str
    confidence: int = 0
    exception_kind: str | None = None
    customer_id: str | None = None
    allocations: list[tuple[OpenItem, int]] = field(default_factory=list)
    deductions: list[tuple[OpenItem, int, str]] = field(default_factory=list)
    credits: list[_CreditLine] = field(default_factory=list)
    unapplied_minor: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)
    candidates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def applied_minor(self) -> int:
        return sum(amount for _, amount in self.allocations)

    @property
    def deduction_minor(self) -> int:
        return sum(amount for _, amount, _ in self.deductions)


def _money(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


def _candidate(
    items: Iterable[tuple[OpenItem, int]], score: int, why: str, currency: str
) -> dict[str, Any]:
    chosen = list(items)
    return {
        "invoices": [
            {
                "id": i.id,
                "number": i.number,
                "amount": _money(a, currency),
                "balance": _money(i.balance_minor, currency),
            }
            for i, a in chosen
        ],
        "currency": currency,  # of the amounts: the payment's, or the invoices' when they differ
        "customer_id": chosen[0][0].customer_id if chosen else None,
        "score": score,
        "why": why,
    }


def _ref_minor(value: Any, currency: str) -> int | None:
    if value in (None, ""):
        return None
    return Money(Decimal(str(value)), currency).minor


class Cascade:
    """Decides remittances against one loaded book with one rule set."""

    def __init__(self, book: Book, rules: RuleSet) -> None:
        self.book = book
        self.rules = rules

    # entry ----------------------------------------------------------------------------------
    def decide(self, r: Incoming) -> Outcome:
        """The decision for one remittance; a suggestion always carries its candidates."""
        outcome = self._decide(r)
        if outcome.status == SUGGESTED and not outcome.candidates and outcome.allocations:
            why = str(outcome.evidence.get("customer_from") or outcome.rule)
            outcome.candidates = [
                _candidate(outcome.allocations, outcome.confidence, why, r.currency)
            ]
        return outcome

    def _decide(self, r: Incoming) -> Outcome:
        evidence: dict[str, Any] = {
            "amount": _money(r.amount_minor, r.currency),
            "currency": r.currency,
            "payer_name": r.payer_name,
            "payer_iban": r.payer_iban,
        }
        hinted = self._ultimate_customer(r, evidence) or self._alias_customer(r, evidence)
        if hinted:
            evidence["customer_from"] = hinted[1]
        customer = hinted[0] if hinted else None
        steps = [
            (self.rules.rule("structured_reference"), self._structured),
            (self.rules.rule("text_reference"), self._text),
        ]
        for rule, step in steps:
            if rule is None:
                continue
            outcome = step(r, rule, customer, evidence)
            if outcome is not None:
                return outcome
        if hinted and hinted[1] == LEARNED_NAME and self._owes_only_in_others(hinted[0], r):
            # a name alone (generic ones are carried by many payers) never makes cash in a
            # currency the customer does not bill that customer's exception
            evidence.pop("customer_from")
            evidence["learned_name_not_used"] = {
                "customer_id": customer,
                "why": f"the payer's name was learned for a customer owing nothing in "
                f"{r.currency}, and nothing else links this payment to it",
            }
            customer = None
        if customer is None:
            identified = self._identify_by_name(r, evidence)
            if isinstance(identified, Outcome):
                shared = [
                    c["customer_id"]
                    for c in identified.candidates
                    if c.get("why") == "same normalised name"
                ]
                if shared:  # several customers bear this name: only the amount can tell
                    return self._amount_among(r, shared, evidence) or identified
                return identified
            customer = identified
        for kind, step_fn in (
            ("customer_amount", self._exact_balance),
            ("customer_subset", self._subset),
        ):
            rule = self.rules.rule(kind)
            if rule is not None:
                outcome = step_fn(r, rule, customer, evidence)
                if outcome is not None:
                    if outcome.status == AUTO and evidence.get("labelled_not_found"):
                        # the payer named an invoice that is not open (paid already, or not
                        # yet synced): cash that fits another one is not applied there unseen
                        self._demote(
                            outcome,
                            rule,
                            r.currency,
                            "the payer named invoices that are not open: "
                            + ", ".join(evidence["labelled_not_found"]),
                        )
                    return outcome
        return self._fallback(r, customer, evidence)

    # customers --------------------------------------------------------------------------------
    def _ultimate_customer(self, r: Incoming, evidence: dict[str, Any]) -> tuple[str, str] | None:
        """The customer the party the payer paid for names (camt's ultimate debtor: a shared
        service centre or a parent pays, its IBAN learned for whichever customer it paid
        first), by its name alone, when that name settles who it is."""
        if not r.ultimate_payer_name:
            return None
        evidence["ultimate_payer_name"] = r.ultimate_payer_name
        scratch: dict[str, Any] = {}
        found = self._identify_by_name(
            replace(r, payer_name=r.ultimate_payer_name, ultimate_payer_name=None), scratch
        )
        if not isinstance(found, str):
            return None
        return found, f"ultimate payer's {scratch.get('customer_from', 'name')}"

    def _alias_customer(self, r: Incoming, evidence: dict[str, Any]) -> tuple[str, str] | None:
        """The customer a learned IBAN, account or name points to, with how it was found. One
        that has paid for several customers says nothing, and the evidence says so; nor does
        a bank's placeholder name (one learned before they were refused)."""
        for kind, value in (
            ("iban", r.payer_iban),
            ("account", r.payer_account),
            ("name", "" if is_placeholder_name(r.payer_name) else name_key(r.payer_name)),
        ):
            if not value:
                continue
            customer = self.book.aliases.get((kind, value))
            if customer == SHARED:
                evidence.setdefault("payer_shared", []).append(kind)
                continue
            if customer is None:
                continue
            if kind == "name" and len(self.book.by_name.get(value, [])) > 1:
                continue  # several customers share this name: a name says nothing
            return customer, f"learned {kind}"  # LEARNED_NAME for a name
        return None

    def _owes_only_in_others(self, customer: str, r: Incoming) -> bool:
        """Whether the customer has open invoices, none of them in the payment's currency."""
        if self.book.open_invoices(customer, r.currency):
            return False
        return any(i.balance_minor > 0 for i in self.book.by_customer.get(customer, []))

    def _identify_by_name(self, r: Incoming, evidence: dict[str, Any]) -> str | Outcome:
        behind = payer_behind(r.payer_name)
        if behind and not self.book.by_name.get(name_key(r.payer_name)):
            evidence["payer_via"] = behind[0]  # PAYPAL *ACME: ACME paid through PayPal
            r = replace(r, payer_name=behind[1])
        key = without_spelled_legal_form(name_key(r.payer_name))  # ACME L L C: ACME
        if key and is_placeholder_name(r.payer_name):
            # UNKNOWN REMITTER, NOTPROVIDED: the bank was not given the name; it is no one's
            evidence["payer_name_placeholder"] = r.payer_name
            key = ""
        if not key:
            return self._exception(r, "unidentified_payer", "customer_identification", evidence, [])
        exact = self.book.by_name.get(key, [])
        if not exact and (parts := _trade_name_parts(r.payer_name)):
            # ACME CORP DBA ROADRUNNER: the customer may be kept under either name
            found = self._trade_name_customers(parts)
            evidence["payer_names"] = parts
            if len(found) == 1:
                evidence["customer_from"] = "exact name, one of the payer's names (DBA)"
                return found[0]
            if found:
                return self._ambiguous_name(
                    r, evidence, _named(found, "one of the payer's names (DBA)")
                )
        longer = self._named_longer(r.payer_name, key, exact) if len(exact) == 1 else []
        if longer:
            # ACME: Acme Inc's name, or Acme Industries' cut short; only the amount can tell
            evidence["payer_name_cut_short_of"] = len(longer)
            return self._ambiguous_name(r, evidence, _named([*exact, *longer], _SAME_NAME))
        if len(exact) == 1:
            evidence["customer_from"] = "exact name"
            return exact[0]
        if len(exact) > 1:
            legal = legal_name_key(r.payer_name)
            same_form = [c for c in exact if self.book.has_legal_name(c, legal)]
            if legal != key and len(same_form) == 1:  # the legal form tells them apart
                evidence["customer_from"] = "exact name with legal form"
                evidence["same_name_customers"] = len(exact)
                return same_form[0]
            return self._ambiguous_name(r, evidence, _named(exact, _SAME_NAME))
        scored = payer_name_scores(key, self.book.customer_names, spellings=self.book.also_named)
        evidence["name_scores"] = [
            {"customer_id": cid, "score": round(score, 1)} for score, cid in scored
        ]
        if scored and scored[0][0] >= self.rules.customer_min_score:
            runner_up = scored[1][0] if len(scored) > 1 else 0
            if scored[0][0] - runner_up >= self.rules.customer_margin:
                longer = self._longer_than_named(r.payer_name, key, scored[0][1])
                if longer:
                    # ACME ACCOUNTS PAYABLE: Acme's name, or Acme Widgets' cut short
                    evidence["payer_name_cut_short_of"] = len(longer)
                    return self._ambiguous_name(
                        r, evidence, _named([scored[0][1], *longer], _SAME_NAME)
                    )
                cut_of = self._also_cut_of(key, scored[0][1])
                if not cut_of:
                    evidence["customer_from"] = f"fuzzy name {scored[0][0]:.0f}"
                    return scored[0][1]
                # JOHNSON CONTROLS INTER: International's name or Interiors', cut at a bank
                # field's width; the shorter completion scoring higher tells nothing
                evidence["payer_name_cut_inside_a_word_of"] = len(cut_of) + 1
                return self._ambiguous_name(
                    r,
                    evidence,
                    _named([scored[0][1]], "similar name", int(scored[0][0]))
                    + _named(cut_of, "name begins with the payer's"),
                )
            candidates = [
                {"customer_id": cid, "score": int(score), "why": "similar name"}
                for score, cid in scored
            ]
            return self._ambiguous_name(r, evidence, candidates)
        candidates = [
            {"customer_id": cid, "score": int(score), "why": "similar name"}
            for score, cid in scored
            if score >= 60
        ]
        return self._exception(
            r, "unidentified_payer", "customer_identification", evidence, candidates
        )

    def _ambiguous_name(
        self, r: Incoming, evidence: dict[str, Any], candidates: list[dict[str, Any]]
    ) -> Outcome:
        """The payer's name fits several customers: a person picks among ``candidates``."""
        return self._exception(r, "ambiguous", "customer_identification", evidence, candidates)

    def _trade_name_customers(self, parts: list[str]) -> list[str]:
        """The customers the payer's names (legal and trade) name exactly, or begin the name
        of (``ROADRUNNER`` of ``Roadrunner Supply``): one is the payer; several, a person
        decides."""
        found: list[str] = []
        named = False
        for part in parts:
            key = name_key(part)
            exact = self.book.by_name.get(key, [])
            named = named or bool(exact)
            longer = (
                self._named_longer(part, key, exact)
                if exact
                else self.book.names_starting(key + " ")
            )
            touched = [*exact, *longer]
            found += [c for c in touched if c not in found]
        return found if named else []

    def _longer_than_named(self, payer: str | None, key: str, best: str) -> list[str]:
        """Where the payer's name holds the whole of customer ``best``'s and payer-name noise
        besides (``ACME ACCOUNTS PAYABLE``), the other customers whose name begins with
        ``best``'s, as for a payer bearing it exactly (:meth:`_named_longer`)."""
        words = set(key.split())
        for spelling in (self.book.customer_names.get(best), self.book.also_named.get(best)):
            if spelling and spelling != key and set(spelling.split()) <= words:
                return self._named_longer(payer, spelling, [best])
        return []

    def _also_cut_of(self, key: str, best: str) -> list[str]:
        """Where the payer's name is the start of customer ``best``'s cut inside a word
        (``JOHNSON CONTROLS INTER``), the other customers whose name begins with it too."""
        spellings = (self.book.customer_names.get(best, ""), self.book.also_named.get(best, ""))
        if not any(s.startswith(key) and s[len(key) : len(key) + 1].isalnum() for s in spellings):
            return []
        return self.book.names_starting(key, {best})

    def _named_longer(self, payer: str | None, key: str, exact: list[str]) -> list[str]:
        """Other customers whose name begins with the whole of the payer's name (``ACME`` of
        ``Acme Industries``), unless the payer wrote the exact customer's legal form too."""
        legal = legal_name_key(payer)
        if any(self.book.has_legal_name(c, legal) for c in exact):
            return []
        return self.book.names_starting(key + " ", set(exact))

    # references -------------------------------------------------------------------------------
    def _lookup(self, key: str, customer: str | None) -> list[OpenItem]:
        items = [i for i in self.book.by_key.get(key, []) if i.balance_minor > 0]
        if customer and len(items) > 1:
            mine = [i for i in items if i.customer_id == customer]
            items = mine or items
        return items

    def _structured(
        self, r: Incoming, rule: Rule, customer: str | None, evidence: dict[str, Any]
    ) -> Outcome | None:
        refs = [
            ref for ref in r.structured_refs if ref.get("kind") in ("invoice", "rf", "other", "po")
        ]
        if not refs:
            return None
        matched: list[tuple[dict[str, Any], OpenItem]] = []
        unresolved: list[str] = []  # invoices (and credit memos) the payer named, not found
        others: list[str] = []  # references of other kinds that name none of our invoices
        named_credits: list[dict[str, Any]] = []
        pos: list[dict[str, Any]] = []
        adjustments: list[dict[str, Any]] = []  # of the whole payment (820 ADX outside RMR)
        for ref in refs:
            raw = str(ref.get("ref") or "")
            if ref.get("kind") == "po":
                pos.append(ref)
                continue
            if ref.get("kind") == "other" and ref.get("adjustment") and not ref.get("amount"):
                adjustments.append(
                    {"ref": raw or None, "amount": ref["adjustment"], "reason": ref.get("reason")}
                )
                continue  # no document: what the payer took off the payment, and why
            if processor_id(raw):  # Stripe's in_... id of its own invoice object
                others.append(raw)
                continue
            inner = (
                rf_reference(raw)
                if ref.get("kind") == "rf" or raw.upper().startswith("RF")
                else None
            )
            key = document_key(inner or raw)
            items = self._lookup(key, customer)
            credit = credit_prefix(raw) if inner is None else ""
            if credit:  # CM-5001 names a credit memo, not invoice 5001, unless so numbered
                items = [i for i in items if credit_prefix(i.number) == credit]
                if not items:
                    named_credits.append(ref)
                    continue
            if len(items) == 1:
                matched.append((ref, items[0]))
            elif ref.get("kind") == "other" and raw:
                others.append(raw)
            else:
                unresolved.append(raw)
        by_name = self._payer_hint(r) if matched or pos else None
        payer = customer or by_name
        for ref in pos:  # a PO names the invoice bearing it, never one numbered like it
            raw = str(ref.get("ref") or "")
            items = [] if matched else self._po_invoices(po_key(raw), payer, r)
            if len(items) > 1:  # what the line states is for them all
                ref = {**ref, "amount": None}
            matched.extend((ref, item) for item in items)
            if not items:
                others.append(raw)
        evidence["structured_refs"] = [str(ref.get("ref")) for ref in refs]
        if adjustments:
            evidence["payment_adjustments"] = adjustments
        named = [
            str(ref.get("ref"))
            for ref in refs
            if ref.get("kind") in ("invoice", "rf") and str(ref.get("ref") or "") in unresolved
        ]
        if named:  # invoices the payer named that are not open: paid already, void, unknown
            evidence["labelled_not_found"] = named
        if others:  # a PO, the payer's own reference: they lower no confidence
            evidence["other_refs"] = others
        if not matched:
            if unresolved:
                evidence["unresolved_refs"] = unresolved
            return None  # let free text and the customer rules try
        foreign = [(ref, item) for ref, item in matched if payer and item.customer_id != payer]
        if foreign and not (payer == by_name or self._open_of_amount(payer, r)):
            foreign = []  # known by an account alone, which may pay for others: refs decide
        if foreign:
            evidence["payer_customer"] = payer
            evidence["other_customers_invoices"] = [
                {"ref": str(ref.get("ref")), "invoice": i.number} for ref, i in foreign
            ]
            matched = [(ref, item) for ref, item in matched if item.customer_id == payer]
            if not matched:  # the payer names someone else's invoices: a person decides
                return self._foreign_only(
                    r, rule, payer, foreign, evidence, named_in="a structured reference"
                )
        holders = {item.customer_id for _, item in matched}
        memos: list[tuple[dict[str, Any], OpenItem]] = []
        not_taken: list[dict[str, str]] = []
        for ref in r.structured_refs:
            if ref.get("kind") != "credit_memo" and not any(ref is n for n in named_credits):
                continue
            raw = str(ref.get("ref") or "")
            held = [
                c
                for c in self.book.credits_by_key.get(document_key(raw), [])
                if c.balance_minor > 0 and c.customer_id in holders
            ]
            found = [c for c in held if c.currency == r.currency]
            if len(found) == 1:
                memos.append((ref, found[0]))
            else:
                unresolved.append(raw)
                not_taken.append(_memo_not_taken(raw, held, r.currency))
        if memos:
            evidence["credit_memo_refs"] = [memo.number for _, memo in memos]
        if not_taken:
            evidence["credit_memos_not_taken"] = not_taken
        if unresolved:
            evidence["unresolved_refs"] = unresolved
        outcome = self._allocate(
            r,
            rule,
            matched,
            evidence,
            base_confidence=100 if not unresolved else 80,
            why="structured reference",
            memos=memos,
            memos_not_taken=bool(not_taken),
        )
        if outcome.status == AUTO and foreign:
            self._demote(
                outcome, rule, r.currency, "the references name another customer's invoices too"
            )
        self._demote_po_alone(outcome, rule, r, payer)
        return outcome

    def _text(
        self, r: Incoming, rule: Rule, customer: str | None, evidence: dict[str, Any]
    ) -> Outcome | None:
        reading = read_references(r.free_text)
        if reading.ignored:
            evidence["text_ignored"] = reading.ignored
        if not reading.refs and not reading.pos:
            return None
        tokens = [(ref.written, key) for ref in reading.refs for key, _ in ref.keys]
        if reading.refs:
            evidence["text_tokens"] = list(dict.fromkeys(ref.written for ref in reading.refs))
        if reading.pos:
            evidence["text_pos"] = list(dict.fromkeys(ref.written for ref in reading.pos))
        payer = customer or self._payer_hint(r)
        found = self._resolve_text(reading.refs, payer, r.currency)
        missing = _labelled_not_found(reading.refs, found)
        if missing:
            evidence["labelled_not_found"] = missing
        matched: list[tuple[dict[str, Any], OpenItem]] = []
        seen: set[str] = set()
        weak: list[str] = []
        unlabelled: list[str] = []
        # a list or range written short (10231/32/3, 10231-3) that ends where the text's field
        # length may have cut it: its last number may stand for another invoice
        cut_groups: set[int] = set()
        for ref, item, how in found.invoices:
            if ref.truncated and ref.how in ("range", "shorthand"):
                cut_groups.add(ref.group)
            if item.id in seen:
                continue
            seen.add(item.id)
            if not ref.labelled:
                unlabelled.append(ref.written)
            entry: dict[str, Any] = {"ref": ref.written}
            if ref.amount is not None:
                entry["amount"] = ref.amount
            if how != "as written":
                entry["read"] = how
            if not ref.labelled or how not in _STRONG_READINGS:
                weak.append(ref.written)
            matched.append((entry, item))
        if found.conflicts:
            evidence["text_conflicts"] = [
                {"written": c["written"], "why": c["why"]} for c in found.conflicts
            ]
            return self._text_conflict(r, rule, payer, found.conflicts, evidence)
        if not found.invoices and not missing:  # no invoice named: the POs the payer wrote
            for po in reading.pos:
                for item in self._po_invoices(po.keys[0][0], payer, r):
                    if item.id not in seen:
                        seen.add(item.id)
                        matched.append(({"ref": po.written, "kind": "po"}, item))
        foreign = [(e, i) for e, i in matched if payer and i.customer_id != payer]
        if foreign:
            evidence["payer_customer"] = payer
            evidence["other_customers_invoices"] = [
                {"ref": e["ref"], "invoice": i.number} for e, i in foreign
            ]
            matched = [(e, i) for e, i in matched if not (payer and i.customer_id != payer)]
            if not matched:  # the text names someone else's invoices: a person decides
                return self._foreign_only(r, rule, payer, foreign, evidence)
        if matched:
            holders = {item.customer_id for _, item in matched}
            memos: list[tuple[dict[str, Any], OpenItem]] = []
            for ref, memo in found.credits:
                if memo.customer_id not in holders:
                    found.credits_not_taken.append(
                        {"credit_memo": ref.written, "why": "another customer's credit memo"}
                    )
                elif all(memo is not m for _, m in memos):  # named twice, taken once
                    memos.append(({"ref": ref.written}, memo))
            if memos:
                evidence["credit_memo_refs"] = [memo.number for _, memo in memos]
            if found.credits_not_taken:
                evidence["credit_memos_not_taken"] = found.credits_not_taken
            if weak:
                evidence["text_weak"] = weak
            outcome = self._allocate(
                r,
                rule,
                matched,
                evidence,
                base_confidence=95,
                why="invoice number in text",
                memos=memos,
                memos_not_taken=bool(found.credits_not_taken),
            )
            self._demote_po_alone(outcome, rule, r, payer)
            if outcome.status == AUTO and outcome.unapplied_minor > 0 and payer:
                named = {item.id for _, item in matched}
                fits = [i for i in self._open_of_amount(payer, r) if i.id not in named]
                if fits:
                    # the cash is exactly what another of the payer's invoices owes: the
                    # number named may be a slip for that one
                    self._demote(
                        outcome,
                        rule,
                        r.currency,
                        "the payment over-pays the invoice named and is exactly the balance of "
                        + ", ".join(i.number for i in fits),
                    )
                else:
                    self._demote_for_other_subset(outcome, rule, r, payer, named)
            if outcome.status == AUTO and cut_groups:
                # 10231/32/3 at 140 characters: the bank may have cut 10231/32/34 there. Only
                # cash settling exactly what was read, with no other open invoice the cut
                # digits could complete, is applied (a whole list)
                whose = {i.customer_id for _, i in matched if i.customer_id} | (
                    {payer} if payer else set()
                )
                could_be = self._cut_completions(reading.refs, cut_groups, whose, r.currency)
                if could_be or outcome.unapplied_minor > 0 or outcome.deduction_minor > 0:
                    evidence["text_cut_in_list"] = [
                        ref.written for ref in reading.refs if ref.group in cut_groups
                    ][:1]
                    why = (
                        "the text ends at its field's length inside a list of invoice numbers: "
                        "the last may be cut short"
                    )
                    shown = [number for number in could_be if number]
                    if shown:
                        evidence["text_cut_could_be"] = shown
                        why += " (it may stand for " + ", ".join(shown) + ")"
                    self._demote(outcome, rule, r.currency, why)
            if (
                outcome.status == AUTO
                and outcome.unapplied_minor > 0
                and (foreign or (weak and payer is None))
            ):
                # cash left over, and the numbers were guessed or the payer pays others' too
                self._demote(outcome, rule, r.currency, "invoice number in text; cash left over")
            if outcome.status == AUTO and missing and not unlabelled:
                # as with a structured reference: an invoice the payer labelled that is not
                # open (paid already, void, not yet synced) leaves its cash to a person
                self._demote(
                    outcome,
                    rule,
                    r.currency,
                    "the payer named invoices that are not open: " + ", ".join(missing),
                )
            if outcome.status == AUTO and missing and unlabelled:
                # the payer named invoices that are not open; what else the text holds (a PO,
                # a street number) is no reason to apply the cash
                self._demote(
                    outcome,
                    rule,
                    r.currency,
                    "the invoices the payer named are not open; numbers read without a label "
                    "are not applied on their own",
                )
            return outcome
        if customer is None:
            return None
        # a near miss against the payer's own open invoices: never applied on its own
        choices = {i.id: i.key for i in self.book.open_invoices(customer, r.currency)}
        threshold = int(rule.option("fuzzy_min_score", 90))
        best: list[tuple[int, OpenItem, str]] = []
        for written, key in tokens:
            for _, score, item_id in process.extract(
                key, choices, scorer=fuzz.ratio, limit=2, score_cutoff=threshold
            ):
                best.append((int(score), self.book.invoices[item_id], written))
        if not best:
            return None
        best.sort(key=lambda b: -b[0])
        candidates = [
            _candidate(
                [(item, min(item.balance_minor, r.amount_minor))],
                score,
                f"near miss: {written!r} ~ {item.number}",
                r.currency,
            )
            for score, item, written in best[:3]
        ]
        evidence["fuzzy"] = [
            {"written": w, "invoice": i.number, "score": s} for s, i, w in best[:3]
        ]
        return Outcome(
            SUGGESTED,
            rule.id,
            best[0][0] - 10,
            customer_id=customer,
            evidence=evidence,
            candidates=candidates,
        )

    def _payer_hint(self, r: Incoming) -> str | None:
        """The customer the payer's name (or the party it paid for) names unambiguously,
        else None (no exception)."""
        ultimate = self._ultimate_customer(r, {})
        if ultimate is not None:
            return ultimate[0]
        if not r.payer_name:
            return None
        scratch: dict[str, Any] = {}
        found = self._identify_by_name(r, scratch)
        return found if isinstance(found, str) else None

    def _lookup_key(self, key: str, reading: str, payer: str | None) -> list[OpenItem]:
        items = self._lookup(key, payer)
        if reading == "loose" or not items:
            loose = [i for i in self.book.by_loose_key.get(key, []) if i.balance_minor > 0]
            items = list({i.id: i for i in [*items, *loose]}.values())
            if payer and len(items) > 1:
                items = [i for i in items if i.customer_id == payer] or items
        return items

    def _resolve_ref(self, ref: TextRef, payer: str | None) -> tuple[OpenItem, str] | None:
        """The one open invoice a reference names, by its first reading that finds any."""
        if ref.kind == "credit":
            return None
        for key, reading in ref.keys:
            items = self._lookup_key(key, reading, payer)
            if len(items) == 1:
                return items[0], reading
            if items:
                return None  # several documents bear this number: no guessing further
        return self._prefix_dropped(ref, payer)

    def _prefix_dropped(self, ref: TextRef, payer: str | None) -> tuple[OpenItem, str] | None:
        """The payer's one open invoice whose number is the one written but for the letters
        before its digits: our prefix left out (``7781`` for ``A/R 7781``, ``2026 17`` for
        ``SI/2026/0017``), or, after an invoice word, the payer's own put in (``INV NO
        ACM-1001`` for ``1001``). Only among the payer's invoices, so another customer's
        number is never read this way."""
        if payer is None:
            return None
        wanted = {key for key, _ in ref.keys if key.isdigit() and len(key) >= 4}
        if ref.named:
            for key, _ in ref.keys:
                bare = re.sub(r"^[A-Z]+", "", key)
                if bare != key and bare.isdigit() and len(bare) >= 3:
                    wanted.add(bare)
        if not wanted:
            return None
        hits = [
            item
            for item in self.book.by_customer.get(payer, [])
            if item.balance_minor > 0 and wanted & _digit_forms(item)
        ]
        return (hits[0], "prefix") if len(hits) == 1 else None

    def _resolve_text(self, refs: list[TextRef], payer: str | None, currency: str) -> _TextFound:
        found = _TextFound()
        groups: dict[int, list[TextRef]] = {}
        for ref in refs:
            groups.setdefault(ref.group, []).append(ref)
        for group in groups.values():
            primary, others = group[0], group[1:]
            if primary.kind == "credit":  # only a memo in the payment's currency is taken
                not_taken = _memo_not_taken(primary.written, [], currency)
                for key, _ in primary.keys:
                    named = [c for c in self.book.credits_by_key.get(key, []) if c.balance_minor]
                    if payer:
                        named = [c for c in named if c.customer_id == payer] or named
                    memos = [c for c in named if c.currency == currency]
                    if len(memos) == 1:
                        found.credits.append((primary, memos[0]))
                        break
                    if named and not_taken["why"] == "not open":
                        not_taken = _memo_not_taken(primary.written, named, currency)
                else:
                    found.credits_not_taken.append(not_taken)
                continue
            hit = self._resolve_ref(primary, payer)
            if hit is not None and primary.truncated:
                longer = self._longer_keys(hit[0])
                if longer:
                    found.conflicts.append(
                        {
                            "written": primary.written,
                            "why": "the text ends here: the number may be cut short",
                            "items": [hit[0], *longer],
                        }
                    )
                    continue
            joined = [o for o in others if o.how == "joined"]
            if joined:
                other = self._resolve_ref(joined[0], payer)
                if hit is not None and other is not None and other[0].id != hit[0].id:
                    found.conflicts.append(
                        {
                            "written": f"{primary.written} / {joined[0].written}",
                            "why": "the number may continue on the next line",
                            "items": [hit[0], other[0]],
                        }
                    )
                    continue
                if hit is None and other is not None:
                    found.invoices.append((joined[0], other[0], "joined"))
                    continue
            if hit is not None:
                found.invoices.append((primary, hit[0], hit[1]))
            parts = [o for o in others if o.how != "joined"]
            ranged = any(o.how == "range" for o in parts)
            if hit is None or (ranged and hit[0].key == parts[0].keys[0][0]):
                for part in parts:
                    got = self._resolve_ref(part, payer)
                    if got is not None:
                        how = part.how if part.how in ("range", "shorthand") else got[1]
                        found.invoices.append((part, got[0], how))
        return found

    def _po_invoices(self, key: str, payer: str | None, r: Incoming) -> list[OpenItem]:
        """The open invoices bearing a purchase order, the payer's when it is known (each
        customer numbers its POs its own way: another's of that number is a coincidence); of
        several, the one of exactly the amount paid, or all when together they are; else none."""
        items = [i for i in self.book.by_po.get(key, []) if i.balance_minor > 0] if key else []
        if payer:
            items = [i for i in items if i.customer_id == payer]
        if len(items) <= 1:
            return items
        if len({i.customer_id for i in items}) > 1 or any(i.currency != r.currency for i in items):
            return []  # several customers' POs bear this number: it names none
        exact = [i for i in items if i.balance_minor == r.amount_minor]
        if len(exact) == 1:
            return exact
        return items if sum(i.balance_minor for i in items) == r.amount_minor else []

    def _demote_po_alone(
        self, outcome: Outcome, rule: Rule, r: Incoming, payer: str | None
    ) -> None:
        """A PO is the payer's own number: found by one alone, from a payer not identified, the
        cash applies on its own only when it is exactly what the invoices owe."""
        if (
            outcome.status == AUTO
            and payer is None
            and any(line.get("by") == "po" for line in outcome.evidence.get("matched", []))
            and (outcome.unapplied_minor or "short_pay" in outcome.evidence)
        ):
            self._demote(
                outcome,
                rule,
                r.currency,
                "found by purchase order alone, the payer unknown and the amount not what the "
                "invoices owe",
            )

    def _longer_keys(self, item: OpenItem) -> list[OpenItem]:
        """Open invoices whose number continues this one's (12345 for a text cut at 1234)."""
        return [
            other
            for key, items in self.book.by_key.items()
            if len(key) > len(item.key) and key.startswith(item.key)
            for other in items
            if other.balance_minor > 0 and other.currency == item.currency
        ][:3]

    def _text_conflict(
        self,
        r: Incoming,
        rule: Rule,
        payer: str | None,
        conflicts: list[dict[str, Any]],
        evidence: dict[str, Any],
    ) -> Outcome:
        """The text reads two ways: suggest each reading, the one the amount fits first."""
        items = list({i.id: i for c in conflicts for i in c["items"]}.values())
        items.sort(key=lambda i: (i.balance_minor != r.amount_minor, i.issue_date or date.min))
        candidates = [
            _candidate(
                [(i, min(i.balance_minor, r.amount_minor))],
                60 if i.balance_minor == r.amount_minor else 40,
                "invoice number in text, read another way too",
                r.currency,
            )
            for i in items[:5]
        ]
        return Outcome(
            SUGGESTED,
            rule.id,
            60,
            exception_kind="ambiguous",
            customer_id=payer,
            evidence=evidence,
            candidates=candidates,
        )

    def _cut_completions(
        self, refs: Sequence[TextRef], groups: set[int], customers: set[str], currency: str
    ) -> list[str]:
        """The numbers of the customers' other open invoices that a list or range cut at the
        field's length (``10231/32/3``, ``10231-3``) may have ended with. The payer's last
        number is the digits kept (``3``) followed by more, written over the end of the first
        number as a short tail (``34``: ``10234``; ``345``: ``10345``) or whole (``3...``);
        a longer number beginning as the one read does (``1023...``) is counted too when
        digits were cut. Only an invoice owing what the one read owes could be paid in its
        place by the same cash. The numbers the group read are left out; a group whose
        digits cannot be told is an empty string (never applied)."""
        found: list[str] = []
        for group in sorted(groups):
            mine = [ref for ref in refs if ref.group == group]
            read = [ref for ref in mine if ref.how in ("range", "shorthand")]
            cut = re.search(r"[0-9]+$", mine[0].written) if mine else None
            if not read or cut is None:
                found.append("")
                continue
            last, kept = document_key(read[-1].written), cut.group(0)
            named = {document_key(ref.written) for ref in mine}
            stem = last[: len(last) - len(kept)]  # 1023 of 10233
            open_items = [
                item
                for customer in sorted(customers)
                for item in self.book.open_invoices(customer, currency)
            ]
            owed = {i.balance_minor for i in open_items if document_key(i.number) == last}
            for item in open_items:
                key = document_key(item.number)
                if key in named or item.number in found:
                    continue
                if owed and item.balance_minor not in owed:
                    continue  # the cash that settles the invoice read cannot pay this one
                if _completes(key, stem, kept) or (
                    stem and len(key) > len(last) and key.startswith(stem)
                ):
                    found.append(item.number)
        return found

    def _open_of_amount(self, customer: str | None, r: Incoming) -> list[OpenItem]:
        """The customer's open invoices of exactly the amount paid."""
        if customer is None:
            return []
        return [
            i
            for i in self.book.open_invoices(customer, r.currency)
            if i.balance_minor == r.amount_minor
        ]

    def _demote_for_other_subset(
        self, outcome: Outcome, rule: Rule, r: Incoming, payer: str, named: set[str]
    ) -> None:
        """Cash over-paying the invoices named that is exactly what some of the payer's
        other open invoices owe together: the number may be the payer's own (a payment run,
        a voucher), so a person decides, shown both readings."""
        subset_rule = self.rules.rule("customer_subset")
        size = int(subset_rule.option("max_items", 24)) if subset_rule else 24
        limit = int(subset_rule.option("max_subset", 5)) if subset_rule else 5
        others = sorted(
            (i for i in self.book.open_invoices(payer, r.currency) if i.id not in named),
            key=lambda i: (i.issue_date is None, i.issue_date),
            reverse=True,
        )[:size]
        found = _subsets_summing_to(others, r.amount_minor, limit, cap=2)
        if not found:
            return
        why = (
            "the payment over-pays the invoices named and is exactly what "
            + " + ".join(i.number for i in found[0])
            + " owe together"
        )
        if len(found) > 1:
            why += " (and other sets of its open invoices)"
        self._demote(outcome, rule, r.currency, why)
        outcome.candidates += [
            _candidate([(i, i.balance_minor) for i in s], outcome.confidence - 5, why, r.currency)
            for s in found
        ]

    def _foreign_only(
        self,
        r: Incoming,
        rule: Rule,
        payer: str | None,
        foreign: list[tuple[dict[str, Any], OpenItem]],
        evidence: dict[str, Any],
        named_in: str = "text",
    ) -> Outcome:
        """The payer names only invoices of a customer other than itself."""
        candidates = [
            _candidate(
                [(i, min(i.balance_minor, r.amount_minor))],
                50,
                f"invoice number in {named_in} ({e['ref']!r}), but another customer's invoice",
                r.currency,
            )
            for e, i in foreign[:3]
        ]
        own = self._open_of_amount(payer, r)
        if len(own) == 1:
            candidates.insert(
                0, _candidate([(own[0], r.amount_minor)], 55, "payer's open balance", r.currency)
            )
        return Outcome(
            SUGGESTED,
            rule.id,
            50,
            exception_kind="ambiguous",
            customer_id=payer,
            evidence=evidence,
            candidates=candidates,
        )

    @staticmethod
    def _demote(outcome: Outcome, rule: Rule, currency: str, why: str) -> None:
        outcome.status = SUGGESTED
        outcome.confidence = min(outcome.confidence, rule.min_confidence - 10)
        outcome.evidence["not_applied_because"] = why
        outcome.candidates = [_candidate(outcome.allocations, outcome.confidence, why, currency)]

    def _allocate(
        self,
        r: Incoming,
        rule: Rule,
        matched: list[tuple[dict[str, Any], OpenItem]],
        evidence: dict[str, Any],
        base_confidence: int,
        why: str,
        memos: Sequence[tuple[dict[str, Any], OpenItem]] = (),
        memos_not_taken: bool = False,
    ) -> Outcome:
        """Cash (and the credit memos the payer names) over the matched invoices.

        ``memos_not_taken``: the payer names credit memos that cannot be taken (not open, or
        in another currency); what the payment is short of is then neither netted with
        another memo nor written off by a rule.
        """
        currency = r.currency
        matched = _one_line_each(matched, evidence)
        customers = {item.customer_id for _, item in matched}
        mixed = any(item.currency != currency for _, item in matched)
        if mixed:  # no exchange rates: a person decides
            evidence["invoice_currencies"] = sorted({i.currency for _, i in matched})
            return self._exception(
                r,
                "currency_mismatch",
                rule.id,
                evidence,
                [_candidate([(i, i.balance_minor)], 50, why, i.currency) for _, i in matched],
            )
        customer = next(iter(customers)) if len(customers) == 1 else None
        confidence = base_confidence if len(customers) == 1 else base_confidence - 30
        remaining = r.amount_minor
        allocations: list[tuple[OpenItem, int]] = []
        deductions: list[tuple[OpenItem, int, str]] = []
        credit_lines: list[_CreditLine] = []
        stated = [(_ref_minor(ref.get("amount"), currency), ref, item) for ref, item in matched]
        taken = _credits_taken(memos, currency, evidence)
        credited = sum(amount for _, amount in taken)
        tolerance = self.rules.tolerance
        invoices = list({item.id: item for _, item in matched}.values())
        owed = sum(item.balance_minor for item in invoices)
        short_paid = False
        if (
            all(paid is not None for paid, _, _ in stated)
            and sum(p or 0 for p, _, _ in stated) - credited == r.amount_minor
        ):
            left = {item.id: item.balance_minor for item in invoices}  # what each still owes
            paid_on: dict[str, int] = {}
            disputed: set[str] = set()  # a deduction the payer states stays open on these
            for paid, ref, item in stated:
                discount = _ref_minor(ref.get("discount"), currency) or 0
                adjustment = _ref_minor(ref.get("adjustment"), currency) or 0
                applied = min(paid or 0, left[item.id])  # never beyond the balance
                earned = self._discount_on(item, r) if not (discount or adjustment) else 0
                if earned and applied + earned == left[item.id]:
                    discount = earned  # the payer took the discount its terms grant
                    self._note_discounts(evidence, [(item, earned)])
                deduction = discount + (-adjustment if adjustment < 0 else 0)
                paid_on[item.id] = paid_on.get(item.id, 0) + applied
                left[item.id] -= applied
                if deduction and deduction <= left[item.id]:
                    reason = str(
                        ref.get("reason")
                        or (tolerance.discount_reason_code if discount else tolerance.reason_code)
                    )
                    refused = self._stated_deduction_refused(item, r, discount, deduction)
                    if refused is None:
                        deductions.append((item, deduction, reason))
                        left[item.id] -= deduction
                    else:  # the cash applies; what the payer deducted stays open, for a person
                        disputed.add(item.id)
                        evidence.setdefault("deductions_left_open", []).append(
                            {
                                "invoice": item.number,
                                "amount": _money(deduction, currency),
                                "reason": reason,
                                "why": refused,
                            }
                        )
            remaining = r.amount_minor + credited - sum(paid_on.values())
            gaps = [
                (item, left[item.id])
                for item in invoices
                if left[item.id] > 0 and item.id not in disputed
            ]
            if remaining > 0 and gaps and sum(gap for _, gap in gaps) == remaining:
                # more stated on one invoice than it owes, less on another: the cash is for
                # these invoices, and settles them all
                for item, gap in gaps:
                    paid_on[item.id] = paid_on.get(item.id, 0) + gap
                evidence["reallocated"] = [
                    {"invoice": item.number, "amount": _money(gap, currency)} for item, gap in gaps
                ]
                remaining = 0
            elif remaining == 0 and gaps and self._short_pay_refused(gaps, owed, currency) is None:
                # paid a little less than owed, invoice by invoice: a short pay, not a partial
                deductions.extend((item, gap, tolerance.reason_code) for item, gap in gaps)
                evidence["short_pay"] = _money(sum(gap for _, gap in gaps), currency)
                short_paid = True
            allocations, credit_lines = _shift_credits(
                [(item, paid_on[item.id]) for item in invoices if paid_on.get(item.id)], taken
            )
            evidence["amounts"] = "as stated by the payer"
        else:
            remaining += credited  # the named credits pay alongside the cash
            fill = invoices
            if owed > remaining and len(fill) > 1:  # short: the largest invoice is paid last
                largest = max(fill, key=lambda i: i.balance_minor)
                fill = [i for i in fill if i is not largest] + [largest]
            for item in fill:
                applied = min(item.balance_minor, remaining)
                if applied > 0:
                    allocations.append((item, applied))
                    remaining -= applied
            unpaid = {i.id: i.balance_minor for i in fill} | {
                i.id: i.balance_minor - a for i, a in allocations
            }
            allocations, credit_lines = _shift_credits(allocations, taken)
            shortfall = owed - r.amount_minor - credited
            # a discount on some of the invoices is one reading of the shortfall; an open credit
            # memo of that amount netted off is another, read as before: the memo wins
            memo_fits = (
                shortfall > 0
                and not memos_not_taken
                and not taken
                and self._credit_taken(customer, currency, shortfall) is not None
            )
            discounts = self._discounts_taken(invoices, r, shortfall, some=not memo_fits)
            if discounts:
                less = {item.id: d for item, d in discounts}
                allocations, credit_lines = _shift_credits(
                    [(item, item.balance_minor - less.get(item.id, 0)) for item in invoices],
                    taken,
                )
                deductions = [(i, d, tolerance.discount_reason_code) for i, d in discounts]
                self._note_discounts(evidence, discounts)
                shortfall = 0
            elif shortfall > 0:
                self._note_lapsed(invoices, shortfall, r, evidence)
            memo = (
                self._credit_taken(customer, currency, shortfall)
                if shortfall > 0 and not memos_not_taken  # never another than the one named
                else None
            )
            if memo is not None and not taken:  # the payer netted an open credit memo off
                allocations, credit_lines = _net([*invoices, memo])
                evidence["credit_taken"] = memo.number
                shortfall = 0
            elif shortfall > 0 and memo is None and not memos_not_taken:
                both = self._discount_and_short_pay(
                    fill, r, r.amount_minor + credited, owed, shortfall
                )
                if both is not None:  # the discounts the terms grant, and a bank fee
                    cash, deductions = both
                    allocations, credit_lines = _shift_credits(cash, taken)
                    self._note_discounts(
                        evidence,
                        [
                            (i, a)
                            for i, a, why in deductions
                            if why == tolerance.discount_reason_code
                        ],
                    )
                    evidence["short_pay"] = _money(
                        sum(a for _, a, why in deductions if why == tolerance.reason_code),
                        currency,
                    )
                    short_paid = True
                    shortfall = 0
            if shortfall > 0:
                evidence["short_pay"] = _money(shortfall, currency)
                short_paid = True
                lines = [(item, unpaid[item.id]) for item in fill if unpaid[item.id] > 0]
                over = self._short_pay_refused(lines, owed, currency)
                if over is None:
                    # written off where it is unpaid, never more than an invoice's balance
                    deductions.extend(
                        (item, amount, tolerance.reason_code) for item, amount in lines
                    )
                else:
                    if over:
                        evidence["short_pay_over_tolerance_on"] = over
                    candidates = [
                        _candidate(
                            allocations,
                            confidence - 20,
                            f"{why}; short by {_money(shortfall, currency)}",
                            currency,
                        )
                    ]
                    return Outcome(
                        EXCEPTION,
                        rule.id,
                        confidence - 20,
                        exception_kind="short_pay_over_tolerance",
                        customer_id=customer,
                        evidence=evidence,
                        candidates=candidates,
                    )
        outcome = Outcome(
            AUTO if rule.auto and confidence >= rule.min_confidence else SUGGESTED,
            rule.id,
            confidence,
            customer_id=customer,
            allocations=allocations,
            deductions=deductions,
            credits=credit_lines,
            unapplied_minor=max(remaining, 0),
            evidence=evidence,
        )
        evidence["matched"] = [
            {"ref": ref.get("ref"), "invoice": item.number}
            | ({"read": ref["read"]} if ref.get("read") else {})
            | ({"by": "po"} if ref.get("kind") == "po" else {})
            for ref, item in matched
        ]
        if remaining > 0:
            evidence["over_payment"] = _money(remaining, currency)
        if outcome.status != AUTO:
            outcome.candidates = [_candidate(allocations, confidence, why, currency)]
        elif memos_not_taken and short_paid:
            self._demote(
                outcome,
                rule,
                currency,
                "the payment is short, and a credit memo the payer takes cannot be applied: "
                + ", ".join(m["credit_memo"] for m in evidence.get("credit_memos_not_taken", [])),
            )
        return outcome

    def _short_pay_refused(
        self, lines: Sequence[tuple[OpenItem, int]], owed: int, currency: str
    ) -> list[dict[str, str]] | None:
        """None when a short pay may be written off as ``lines`` (invoice, amount): each within
        the tolerance of its invoice, and all together within that of the invoices the
        payment settles, so naming many invoices gives no more room on any one. Else the
        lines over their invoice's tolerance (none when only the total is over)."""
        tolerance = self.rules.tolerance

        def amount(minor: int) -> Decimal:
            return Money.from_minor(minor, currency).amount

        over = [
            {"invoice": item.number, "amount": _money(short, currency)}
            for item, short in lines
            if not tolerance.allows(amount(short), amount(item.balance_minor))
        ]
        if over or not tolerance.allows(amount(sum(a for _, a in lines)), amount(owed)):
            return over
        return None

    def _stated_deduction_refused(
        self, item: OpenItem, r: Incoming, discount: int, deduction: int
    ) -> str | None:
        """Why a deduction the payer states is not written off, or None when it may be: one
        within the short-pay tolerance may (every one, with ``stated_deductions = "always"``),
        and so may a discount the invoice's terms grant on this payment's date; a larger
        deduction (damages, promotions) is a dispute for a person."""
        tolerance = self.rules.tolerance
        if tolerance.stated_deductions == "always" or tolerance.allows(
            Money.from_minor(deduction, item.currency).amount,
            Money.from_minor(item.balance_minor, item.currency).amount,
        ):
            return None
        if discount and deduction == discount and discount <= self._discount_on(item, r):
            return None
        if discount and deduction == discount:
            return "a discount the invoice's terms do not grant on this date"
        return "over the short-pay tolerance"

    def _credit_taken(self, customer: str | None, currency: str, shortfall: int) -> OpenItem | None:
        """The customer's one open credit memo of exactly the amount a payment is short."""
        if customer is None:
            return None
        same = [
            c for c in self.book.open_credits(customer, currency) if c.balance_minor == shortfall
        ]
        return same[0] if len(same) == 1 else None

    def _discount_on(self, item: OpenItem, r: Incoming) -> int:
        """The early-payment discount an invoice's terms grant this payment (0 when none:
        no terms discount, no payment date, or paid after the discount's last day)."""
        if not item.discount_basis_points or item.discount_until is None or r.received_on is None:
            return 0
        grace = timedelta(days=self.rules.tolerance.discount_grace_days)
        if r.received_on > item.discount_until + grace:
            return 0
        amount = discount_minor(item.total_minor, item.discount_basis_points)
        return amount if 0 < amount < item.balance_minor else 0

    def _discounts_taken(
        self, invoices: Sequence[OpenItem], r: Incoming, shortfall: int, *, some: bool = True
    ) -> list[tuple[OpenItem, int]]:
        """The discounts the payer took, when a shortfall is exactly what the terms grant on
        one set of the invoices paid (all of them, or, with ``some``, the only set that sums
        to it: a payer may take the discount on some invoices and not on others); else none.
        Two sets of the same sum (which invoice took it?) are not guessed between."""
        if shortfall <= 0:
            return []
        granted = [(i, d) for i in invoices if (d := self._discount_on(i, r))]
        if sum(d for _, d in granted) == shortfall:
            return granted
        if not some or len(granted) > _DISCOUNT_SEARCH_ITEMS:  # a person sorts out a long list
            return []
        fits = [
            list(chosen)
            for size in range(1, min(len(granted), 6))
            for chosen in combinations(granted, size)
            if sum(d for _, d in chosen) == shortfall
        ]
        return fits[0] if len(fits) == 1 else []

    def _discount_and_short_pay(
        self, fill: Sequence[OpenItem], r: Incoming, cash: int, owed: int, shortfall: int
    ) -> tuple[list[tuple[OpenItem, int]], list[tuple[OpenItem, int, str]]] | None:
        """Paid in time less every discount the terms grant and a little more (a bank's fee
        on the wire): the cash over what each invoice owes less its discount, the discounts
        and the rest written off as a short pay, each within the tolerance; else None."""
        tolerance = self.rules.tolerance
        granted = {i.id: d for i in fill if (d := self._discount_on(i, r))}
        if not granted or sum(granted.values()) >= shortfall:
            return None
        applied: list[tuple[OpenItem, int]] = []
        lines: list[tuple[OpenItem, int]] = []
        for item in fill:  # in the order the cash fills them: the largest invoice last
            net = item.balance_minor - granted.get(item.id, 0)
            take = min(net, cash)
            cash -= take
            if take > 0:
                applied.append((item, take))
            if net - take > 0:
                lines.append((item, net - take))
        if cash or self._short_pay_refused(lines, owed, r.currency) is not None:
            return None
        deductions = [
            (item, granted[item.id], tolerance.discount_reason_code)
            for item in fill
            if item.id in granted
        ]
        deductions += [(item, amount, tolerance.reason_code) for item, amount in lines]
        return applied, deductions

    @staticmethod
    def _note_discounts(evidence: dict[str, Any], earned: Sequence[tuple[OpenItem, int]]) -> None:
        evidence.setdefault("early_payment_discount", []).extend(
            {
                "invoice": item.number,
                "percent": str(Decimal(item.discount_basis_points) / 100),
                "until": item.discount_until.isoformat() if item.discount_until else None,
                "amount": _money(amount, item.currency),
            }
            for item, amount in earned
        )

    @staticmethod
    def _note_lapsed(
        items: Sequence[OpenItem], shortfall: int, r: Incoming, evidence: dict[str, Any]
    ) -> None:
        """Say so when the shortfall is exactly a discount whose last day has passed."""
        lapsed = [i for i in items if i.discount_basis_points and i.discount_until]
        total = sum(discount_minor(i.total_minor, i.discount_basis_points) for i in lapsed)
        if lapsed and total == shortfall:
            evidence["discount_lapsed"] = [
                {
                    "invoice": i.number,
                    "until": i.discount_until.isoformat() if i.discount_until else None,
                    "received_on": r.received_on.isoformat() if r.received_on else None,
                }
                for i in lapsed
            ]

    # amounts within the customer ----------------------------------------------------------------
    def _exact_balance(
        self, r: Incoming, rule: Rule, customer: str, evidence: dict[str, Any]
    ) -> Outcome | None:
        items = self.book.open_invoices(customer, r.currency)
        exact = [i for i in items if i.balance_minor == r.amount_minor]
        if len(exact) == 1:
            return Outcome(
                AUTO if rule.auto and rule.min_confidence <= 90 else SUGGESTED,
                rule.id,
                90,
                customer_id=customer,
                allocations=[(exact[0], r.amount_minor)],
                evidence={**evidence, "exact_balance_of": exact[0].number},
            )
        if not exact:
            discounted = [
                (i, d)
                for i in items
                if (d := self._discount_on(i, r)) and i.balance_minor - d == r.amount_minor
            ]
            if len(discounted) == 1:
                item, earned = discounted[0]
                found = {**evidence, "discounted_balance_of": item.number}
                self._note_discounts(found, discounted)
                return Outcome(
                    AUTO if rule.auto and rule.min_confidence <= 90 else SUGGESTED,
                    rule.id,
                    90,
                    customer_id=customer,
                    allocations=[(item, r.amount_minor)],
                    deductions=[(item, earned, self.rules.tolerance.discount_reason_code)],
                    evidence=found,
                )
            exact = [i for i, _ in discounted]
        if len(exact) > 1:
            exact.sort(key=lambda i: (i.issue_date is None, i.issue_date))
            candidates = [
                _candidate([(i, r.amount_minor)], 60, "same open balance", r.currency)
                for i in exact[:5]
            ]
            return Outcome(
                SUGGESTED,
                rule.id,
                60,
                exception_kind="ambiguous",
                customer_id=customer,
                evidence=evidence,
                candidates=candidates,
            )
        return None

    def _subset(
        self, r: Incoming, rule: Rule, customer: str, evidence: dict[str, Any]
    ) -> Outcome | None:
        invoices = self.book.open_invoices(customer, r.currency)
        memos = self.book.open_credits(customer, r.currency)
        newest = sorted(invoices, key=lambda i: (i.issue_date is None, i.issue_date), reverse=True)
        size = int(rule.option("max_items", 24))
        pool = newest[:size] + memos[:4]
        limit = int(rule.option("max_subset", 5))
        found = _subsets_summing_to(pool, r.amount_minor, limit, cap=6)
        if not found:
            return self._discounted_subset(r, rule, customer, evidence, pool, limit)
        search: dict[str, Any] = {"items": len(pool)}
        if len(newest) > size:
            # the search was cut to the newest: a sum among the oldest (which payers usually
            # settle first) makes the answer ambiguous too
            oldest = newest[-size:] + memos[:4]
            seen = {frozenset(i.id for i in s) for s in found}
            found += [
                s
                for s in _subsets_summing_to(oldest, r.amount_minor, limit, cap=6)
                if frozenset(i.id for i in s) not in seen
            ]
            search["open_invoices"] = len(newest)
            search["searched"] = f"the newest and the oldest {size}"
        evidence["subset_search"] = search | {"solutions": len(found)}
        ranked = [
            [(i, -i.balance_minor if i.is_credit else i.balance_minor) for i in s] for s in found
        ]
        if len(found) == 1:
            confidence = 85
            allocations, credits = _net(found[0])
            if credits:
                evidence["credits_in_subset"] = [memo.number for memo, _, _ in credits]
            return Outcome(
                AUTO if rule.auto and confidence >= rule.min_confidence else SUGGESTED,
                rule.id,
                confidence,
                customer_id=customer,
                allocations=allocations,
                credits=credits,
                evidence=evidence,
                candidates=[],
            )
        candidates = [
            _candidate(s, 55, "open items summing to the payment", r.currency) for s in ranked[:5]
        ]
        return Outcome(
            SUGGESTED,
            rule.id,
            55,
            exception_kind="ambiguous",
            customer_id=customer,
            evidence=evidence,
            candidates=candidates,
        )

    def _discounted_subset(
        self,
        r: Incoming,
        rule: Rule,
        customer: str,
        evidence: dict[str, Any],
        pool: list[OpenItem],
        limit: int,
    ) -> Outcome | None:
        """Open invoices summing to the payment once each takes the discount its terms grant."""
        invoices = [i for i in pool if not i.is_credit]
        earned = {i.id: self._discount_on(i, r) for i in invoices}
        if not any(earned.values()):
            return None
        net = [i.balance_minor - earned[i.id] for i in invoices]
        found = _subsets_summing_to(invoices, r.amount_minor, limit, cap=2, values=net)
        found = [s for s in found if any(earned[i.id] for i in s)]
        if len(found) != 1:
            return None
        chosen = found[0]
        confidence = 85
        taken = [(i, earned[i.id]) for i in chosen if earned[i.id]]
        found_evidence = {**evidence, "subset_search": {"items": len(invoices), "solutions": 1}}
        self._note_discounts(found_evidence, taken)
        return Outcome(
            AUTO if rule.auto and confidence >= rule.min_confidence else SUGGESTED,
            rule.id,
            confidence,
            customer_id=customer,
            allocations=[(i, i.balance_minor - earned[i.id]) for i in chosen],
            deductions=[(i, d, self.rules.tolerance.discount_reason_code) for i, d in taken],
            evidence=found_evidence,
        )

    def _amount_among(
        self, r: Incoming, customers: list[str], evidence: dict[str, Any]
    ) -> Outcome | None:
        """One open invoice (or one subset) of exactly this amount among same-name customers."""
        rule = self.rules.rule("customer_amount")
        if rule is None:
            return None
        exact = [
            i
            for c in customers
            for i in self.book.open_invoices(c, r.currency)
            if i.balance_minor == r.amount_minor
        ]
        why = f"name shared by {len(customers)} customers; one has an open invoice of this amount"
        if len(exact) == 1:
            confidence = 88
            return Outcome(
                AUTO if rule.auto and confidence >= rule.min_confidence else SUGGESTED,
                rule.id,
                confidence,
                customer_id=exact[0].customer_id,
                allocations=[(exact[0], r.amount_minor)],
                evidence={**evidence, "customer_from": why, "exact_balance_of": exact[0].number},
            )
        if exact:
            return None
        discounted = [
            (i, d)
            for c in customers
            for i in self.book.open_invoices(c, r.currency)
            if (d := self._discount_on(i, r)) and i.balance_minor - d == r.amount_minor
        ]
        if len(discounted) == 1:
            item, earned = discounted[0]
            confidence = 88
            noted = {**evidence, "customer_from": why, "discounted_balance_of": item.number}
            self._note_discounts(noted, discounted)
            return Outcome(
                AUTO if rule.auto and confidence >= rule.min_confidence else SUGGESTED,
                rule.id,
                confidence,
                customer_id=item.customer_id,
                allocations=[(item, r.amount_minor)],
                deductions=[(item, earned, self.rules.tolerance.discount_reason_code)],
                evidence=noted,
            )
        subset_rule = self.rules.rule("customer_subset")
        if subset_rule is None:
            return None
        solutions: list[tuple[str, list[OpenItem]]] = []
        for customer in customers:
            pool = sorted(
                self.book.open_invoices(customer, r.currency),
                key=lambda i: (i.issue_date is None, i.issue_date),
                reverse=True,
            )
            found = _subsets_summing_to(
                pool[: int(subset_rule.option("max_items", 24))],
                r.amount_minor,
                int(subset_rule.option("max_subset", 5)),
                cap=2,
            )
            solutions.extend((customer, s) for s in found)
        if len(solutions) != 1:
            return None
        customer, chosen = solutions[0]
        confidence = 85
        return Outcome(
            AUTO if subset_rule.auto and confidence >= subset_rule.min_confidence else SUGGESTED,
            subset_rule.id,
            confidence,
            customer_id=customer,
            allocations=[(i, i.balance_minor) for i in chosen],
            evidence={
                **evidence,
                "customer_from": why.replace("an open invoice", "open invoices summing to"),
            },
        )

    def _fallback(self, r: Incoming, customer: str, evidence: dict[str, Any]) -> Outcome:
        items = sorted(
            self.book.open_invoices(customer, r.currency),
            key=lambda i: (i.issue_date is None, i.issue_date),
        )
        rule = self.rules.rule("oldest_first")
        rule_id = rule.id if rule else "oldest_first"
        if not items:
            other = [i for i in self.book.by_customer.get(customer, []) if i.balance_minor > 0]
            kind = "currency_mismatch" if other else "no_matching_invoice"
            found = {**evidence, "customer_id": customer}
            if other:  # what the customer owes, and in which currencies: no exchange rates here
                found["invoice_currencies"] = sorted({i.currency for i in other})
                found["open_invoices_in_other_currencies"] = len(other)
            return self._exception(r, kind, rule_id, found, [], customer=customer)
        remaining = r.amount_minor
        plan: list[tuple[OpenItem, int]] = []
        for item in items:
            if remaining <= 0:
                break
            take = min(item.balance_minor, remaining)
            plan.append((item, take))
            remaining -= take
        kind = "over_payment" if remaining > 0 else "no_matching_invoice"
        candidates = [
            _candidate(plan, 30, "oldest open invoices first (suggestion only)", r.currency)
        ]
        return self._exception(r, kind, rule_id, evidence, candidates, customer=customer)

    def _exception(
        self,
        r: Incoming,
        kind: str,
        rule: str,
        evidence: dict[str, Any],
        candidates: list[dict[str, Any]],
        customer: str | None = None,
    ) -> Outcome:
        return Outcome(
            EXCEPTION,
            rule,
            0,
            exception_kind=kind,
            customer_id=customer,
            evidence=evidence,
            candidates=candidates,
        )


def _one_line_each(
    matched: list[tuple[dict[str, Any], OpenItem]], evidence: dict[str, Any]
) -> list[tuple[dict[str, Any], OpenItem]]:
    """The lines naming each invoice: all that state an amount (never applied beyond its
    balance together), else the first. A repeat is named in the evidence."""
    lines: dict[str, list[tuple[dict[str, Any], OpenItem]]] = {}
    for ref, item in matched:
        lines.setdefault(item.id, []).append((ref, item))
    repeated = [group[0][1].number for group in lines.values() if len(group) > 1]
    if repeated:
        evidence["repeated_refs"] = repeated
    return [
        line
        for group in lines.values()
        for line in ([g for g in group if g[0].get("amount") not in (None, "")] or group[:1])
    ]


def _credits_taken(
    memos: Sequence[tuple[dict[str, Any], OpenItem]], currency: str, evidence: dict[str, Any]
) -> list[tuple[OpenItem, int]]:
    """Each credit memo the payer names, once, at what its lines take (each the amount it
    states, else the memo's balance), never more than its balance; more is in the evidence."""
    asked: dict[str, tuple[OpenItem, int]] = {}
    for ref, memo in memos:
        amount = abs(_ref_minor(ref.get("amount"), currency) or memo.balance_minor)
        asked[memo.id] = (memo, asked.get(memo.id, (memo, 0))[1] + amount)
    beyond = [
        {
            "credit_memo": memo.number,
            "taken": _money(amount, currency),
            "balance": _money(memo.balance_minor, currency),
        }
        for memo, amount in asked.values()
        if amount > memo.balance_minor
    ]
    if beyond:
        evidence["credit_memo_beyond_balance"] = beyond
    return [(memo, min(amount, memo.balance_minor)) for memo, amount in asked.values()]


def _shift_credits(
    allocations: list[tuple[OpenItem, int]], credits: Sequence[tuple[OpenItem, int]]
) -> tuple[list[tuple[OpenItem, int]], list[_CreditLine]]:
    """Let credit memos pay part of what the allocations pay, first invoice first."""
    cash = [amount for _, amount in allocations]
    lines: list[_CreditLine] = []
    for memo, amount in credits:
        for n, (invoice, _) in enumerate(allocations):
            take = min(amount, cash[n])
            if take > 0:
                lines.append((memo, invoice, take))
                cash[n] -= take
                amount -= take
    return [(item, cash[n]) for n, (item, _) in enumerate(allocations) if cash[n] > 0], lines


def _net(items: list[OpenItem]) -> tuple[list[tuple[OpenItem, int]], list[_CreditLine]]:
    """A subset with credit memos in it as cash lines and credit lines.

    Each credit memo is applied to the subset's invoices oldest first; the cash pays what the
    credits leave, so the cash lines sum to the payment and every item is settled.
    """
    invoices = sorted(
        (i for i in items if not i.is_credit), key=lambda i: (i.issue_date is None, i.issue_date)
    )
    owed = {i.id: i.balance_minor for i in invoices}
    credits: list[_CreditLine] = []
    for memo in (i for i in items if i.is_credit):
        left = memo.balance_minor
        for invoice in invoices:
            take = min(left, owed[invoice.id])
            if take > 0:
                credits.append((memo, invoice, take))
                owed[invoice.id] -= take
                left -= take
    return [(i, owed[i.id]) for i in invoices if owed[i.id] > 0], credits


def _subsets_summing_to(
    pool: list[OpenItem],
    target: int,
    max_size: int,
    cap: int,
    values: list[int] | None = None,
) -> list[list[OpenItem]]:
    """Subsets of 2..max_size items (credits negative) summing exactly to ``target``.

    Meet in the middle: each half's partial sums are enumerated once (at most 2^14 each),
    so a customer with thousands of open items costs no more than one with the newest few.
    """
    if values is None:
        values = [(-i.balance_minor if i.is_credit else i.balance_minor) for i in pool]
    half = len(pool) // 2
    left, right = list(range(half)), list(range(half, len(pool)))

    def sums(indices: list[int]) -> dict[int, list[tuple[int, ...]]]:
        table: dict[int, list[tuple[int, ...]]] = {}
        for size in range(0, min(max_size, len(indices)) + 1):
            for combo in combinations(indices, size):
                table.setdefault(sum(values[i] for i in combo), []).append(combo)
        return table

    right_sums = sums(right)
    found: list[list[OpenItem]] = []
    for total, combos in sums(left).items():
        for other in right_sums.get(target - total, []):
            for combo in combos:
                chosen = combo + other
                if 2 <= len(chosen) <= max_size and any(not pool[i].is_credit for i in chosen):
                    found.append([pool[i] for i in chosen])
                    if len(found) >= cap:
                        return found
    return found


def _completes(key: str, stem: str, kept: str) -> bool:
    """Whether ``key`` is a number a payer's cut last tail may have been: the digits ``kept``
    and at least one more, written over the end of ``stem + kept`` (``1023`` + ``3``: ``1023X``,
    ``103XY``) or as a whole number beginning with them."""
    whole = stem + kept
    if len(key) == len(whole):
        return any(
            key.startswith(stem[: len(stem) - extra] + kept) and key[len(stem) - extra :].isdigit()
            for extra in range(1, len(stem) + 1)
        )
    return len(key) > len(whole) and key.startswith(kept) and key.isdigit()
