"""Matching rules as ordered, reviewable data (a TOML file), with a version on every decision."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")
KINDS = frozenset(
    {"structured_reference", "text_reference", "customer_amount", "customer_subset", "oldest_first"}
)


class RulesError(ValueError):
    """A rules file that cannot be used; names the rule and the key."""


@dataclass(frozen=True)
class Rule:
    id: str
    sequence: int
    kind: str
    auto: bool
    min_confidence: int
    options: dict[str, Any]

    def option(self, key: str, default: Any) -> Any:
        return self.options.get(key, default)


@dataclass(frozen=True)
class Tolerance:
    short_pay_abs: Decimal
    short_pay_pct: Decimal
    reason_code: str
    discount_reason_code: str = "DISCOUNT"
    discount_grace_days: int = 0
    # a deduction the payer states (820 ADX, camt adjustment): "within_tolerance" writes off
    # one the short-pay tolerance allows and leaves a larger one open; "always" books every one
    stated_deductions: str = "within_tolerance"

    def allows(self, shortfall: Decimal, invoice_total: Decimal) -> bool:
        """True when paying ``shortfall`` less than owed is within tolerance."""
        if shortfall <= 0:
            return True
        return (
            shortfall <= self.short_pay_abs or shortfall * 100 <= invoice_total * self.short_pay_pct
        )


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    tolerance: Tolerance
    customer_min_score: int
    customer_margin: int
    credit_memo_policy: str
    version: str

    def rule(self, kind: str) -> Rule | None:
        return next((r for r in self.rules if r.kind == kind), None)


STATED_DEDUCTIONS = ("within_tolerance", "always")


def _choice(source: Path, key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise RulesError(f"{source}: {key} {value!r} is not one of {list(allowed)}")
    return str(value)


def load_rules(path: Path | None = None) -> RuleSet:
    """Read a rules file (the shipped default when None)."""
    source = path or DEFAULT_RULES
    raw = source.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"{source}: not valid TOML: {exc}") from exc
    rules = []
    for index, entry in enumerate(data.get("rule", [])):
        where = f"{source}: rule {entry.get('id', index)!r}"
        kind = entry.get("kind")
        if kind not in KINDS:
            raise RulesError(f"{where}: kind {kind!r} is not one of {sorted(KINDS)}")
        try:
            rules.append(
                Rule(
                    id=str(entry["id"]),
                    sequence=int(entry["sequence"]),
                    kind=kind,
                    auto=bool(entry.get("auto", False)),
                    min_confidence=int(entry.get("min_confidence", 100)),
                    options={
                        k: v
                        for k, v in entry.items()
                        if k not in {"id", "sequence", "kind", "auto", "min_confidence"}
                    },
                )
            )
        except KeyError as exc:
            raise RulesError(f"{where}: missing key {exc.args[0]!r}") from None
    tolerance = data.get("tolerance", {})
    if tolerance.get("same_currency_only", True) is not True:
        # minor units of two currencies are not comparable, and arsync holds no exchange rates
        raise RulesError(
            f"{source}: tolerance.same_currency_only must be true: cash in one currency is "
            "never applied to invoices in another"
        )
    customer = data.get("customer", {})
    return RuleSet(
        rules=tuple(sorted(rules, key=lambda r: r.sequence)),
        tolerance=Tolerance(
            short_pay_abs=Decimal(str(tolerance.get("short_pay_abs", "0"))),
            short_pay_pct=Decimal(str(tolerance.get("short_pay_pct", "0"))),
            reason_code=str(tolerance.get("reason_code", "SHORTPAY")),
            discount_reason_code=str(tolerance.get("discount_reason_code", "DISCOUNT")),
            discount_grace_days=int(tolerance.get("discount_grace_days", 0)),
            stated_deductions=_choice(
                source,
                "tolerance.stated_deductions",
                tolerance.get("stated_deductions", "within_tolerance"),
                STATED_DEDUCTIONS,
            ),
        ),
        customer_min_score=int(customer.get("fuzzy_min_score", 90)),
        customer_margin=int(customer.get("fuzzy_margin", 5)),
        credit_memo_policy=str(data.get("credit_memos", {}).get("policy", "reference_then_oldest")),
        version=hashlib.sha256(raw).hexdigest()[:12],
    )
