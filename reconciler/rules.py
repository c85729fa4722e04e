"""Matching rules as ordered, reviewable data (a TOML file), with a version on every decision."""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")


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
CREDIT_MEMO_POLICIES = ("reference_then_oldest", "oldest", "suggest")
RULE_KEYS = ("id", "sequence", "kind", "auto", "min_confidence")
_T = TypeVar("_T")
Convert = Callable[[Any], Any]


def _whole(low: int, high: int | None = None) -> Callable[[Any], int]:
    """A TOML integer from ``low`` (to ``high``): 1.5 or "90" is refused, never cut or read."""
    span = f"from {low} to {high}" if high is not None else f"of {low} or more"

    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"is not a whole number {span}")
        if value < low or (high is not None and value > high):
            raise ValueError(f"is not {span}")
        return value

    return convert


def _decimal(what: str, high: Decimal | None = None) -> Callable[[Any], Decimal]:
    """An exact decimal of 0 or more (to ``high``): a string such as "5.00", or a number."""

    def convert(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ValueError(f"is not {what}")
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValueError(f'is not {what} (a number such as "5.00")') from None
        if not number.is_finite() or number < 0 or (high is not None and number > high):
            raise ValueError(f"is not {what}")
        return number

    return convert


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):  # the string "false" would be read as true
        raise ValueError("is not true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("is not a non-empty string")
    return value


def _one_of(allowed: tuple[str, ...]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"is not one of {list(allowed)}")
        return str(value)

    return convert


_SCORE = _whole(0, 100)
# the options each kind reads besides RULE_KEYS (reconciler/cascade.py)
OPTIONS: dict[str, dict[str, Convert]] = {
    "structured_reference": {},
    "text_reference": {"fuzzy_min_score": _SCORE},
    "customer_amount": {},
    "customer_subset": {"max_items": _whole(1), "max_subset": _whole(1)},
    "oldest_first": {},
}
KINDS = frozenset(OPTIONS)
# each table's keys: how a value is read, and its default
TABLES: dict[str, dict[str, tuple[Convert, Any]]] = {
    "tolerance": {
        "short_pay_abs": (_decimal("an amount of 0 or more"), "0"),
        "short_pay_pct": (_decimal("a percent from 0 to 100", Decimal(100)), "0"),
        "reason_code": (_text, "SHORTPAY"),
        "same_currency_only": (_flag, True),
        "discount_reason_code": (_text, "DISCOUNT"),
        # a payment is dated by its day: the grace is whole days (1.5 is refused, not cut)
        "discount_grace_days": (_whole(0), 0),
        "stated_deductions": (_one_of(STATED_DEDUCTIONS), "within_tolerance"),
    },
    "customer": {"fuzzy_min_score": (_SCORE, 90), "fuzzy_margin": (_SCORE, 5)},
    "credit_memos": {"policy": (_one_of(CREDIT_MEMO_POLICIES), "reference_then_oldest")},
}


def _read(where: str, key: str, value: Any, convert: Callable[[Any], _T]) -> _T:
    """``convert(value)``, or a RulesError naming where, the key, the value and why."""
    try:
        return convert(value)
    except ValueError as exc:
        shown = str(value) if isinstance(value, Decimal) else repr(value)  # a TOML float
        raise RulesError(f"{where}: {key} {shown} {exc}") from None


def _known(where: str, entry: dict[str, Any], known: Iterable[str], prefix: str = "") -> None:
    """Refuse a key nothing reads: a typo would silently leave its default in force."""
    names = sorted(known)
    for key in entry:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(names)}"
            raise RulesError(f"{where}: unknown key {prefix + key!r} ({hint})")


def _section(source: Path, data: dict[str, Any], name: str) -> dict[str, Any]:
    """A table's values, each checked, its defaults filled in."""
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise RulesError(f"{source}: {name} is not a table (write it as [{name}])")
    _known(str(source), table, TABLES[name], f"{name}.")
    return {
        key: _read(str(source), f"{name}.{key}", table.get(key, default), convert)
        for key, (convert, default) in TABLES[name].items()
    }


def _rule(source: Path, index: int, entry: Any, seen: dict[str, str]) -> Rule:
    """One [[rule]], each key checked; ``seen`` maps the kinds read so far to their ids."""
    if not isinstance(entry, dict):
        raise RulesError(f"{source}: rule is not a table (write each as [[rule]])")
    name = entry.get("id")
    where = f"{source}: rule {name if isinstance(name, str) else f'#{index + 1}'!r}"
    for key in ("id", "sequence", "kind"):
        if key not in entry:
            raise RulesError(f"{where}: missing key {key!r}")
    kind = _read(where, "kind", entry["kind"], _one_of(tuple(sorted(KINDS))))
    options = OPTIONS[kind]
    _known(where, entry, (*RULE_KEYS, *options))
    rule_id = _read(where, "id", entry["id"], _text)
    if rule_id in seen.values():
        raise RulesError(f"{where}: id {rule_id!r} is another rule's too")
    if kind in seen:  # the cascade runs the first rule of a kind: a second would never run
        raise RulesError(f"{where}: kind {kind!r} is rule {seen[kind]!r}'s already")
    seen[kind] = rule_id
    return Rule(
        id=rule_id,
        sequence=_read(where, "sequence", entry["sequence"], _whole(0)),
        kind=kind,
        auto=_read(where, "auto", entry.get("auto", False), _flag),
        min_confidence=_read(where, "min_confidence", entry.get("min_confidence", 100), _SCORE),
        options={
            key: _read(where, key, value, options[key])
            for key, value in entry.items()
            if key not in RULE_KEYS
        },
    )


def load_rules(path: Path | None = None) -> RuleSet:
    """Read a rules file (the shipped default when None). A file that cannot be read or is
    not TOML, a key nothing reads, or a value that cannot be used is a RulesError naming the
    file, the rule or table, and the key."""
    source = path or DEFAULT_RULES
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise RulesError(f"{source}: cannot read: {exc.strerror or type(exc).__name__}") from None
    try:  # a float is read exactly: 0.1 stays 0.1
        data = tomllib.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"{source}: not valid TOML: {exc}") from exc
    _known(str(source), data, ("rule", *TABLES))
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise RulesError(f"{source}: rule is not a list of tables (write each as [[rule]])")
    seen: dict[str, str] = {}
    rules = [_rule(source, index, entry, seen) for index, entry in enumerate(entries)]
    tolerance = _section(source, data, "tolerance")
    if tolerance["same_currency_only"] is not True:
        # minor units of two currencies are not comparable, and arsync holds no exchange rates
        raise RulesError(
            f"{source}: tolerance.same_currency_only must be true: cash in one currency is "
            "never applied to invoices in another"
        )
    customer = _section(source, data, "customer")
    return RuleSet(
        rules=tuple(sorted(rules, key=lambda r: r.sequence)),
        tolerance=Tolerance(
            short_pay_abs=tolerance["short_pay_abs"],
            short_pay_pct=tolerance["short_pay_pct"],
            reason_code=tolerance["reason_code"],
            discount_reason_code=tolerance["discount_reason_code"],
            discount_grace_days=tolerance["discount_grace_days"],
            stated_deductions=tolerance["stated_deductions"],
        ),
        customer_min_score=customer["fuzzy_min_score"],
        customer_margin=customer["fuzzy_margin"],
        credit_memo_policy=_section(source, data, "credit_memos")["policy"],
        version=hashlib.sha256(raw).hexdigest()[:12],
    )
