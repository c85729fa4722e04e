"""A rules file a person wrote wrong is refused with a RulesError naming the file, the rule
or table and the key: a file that is not there, not TOML, a wrong kind, an amount or a number
that is not one, a choice that is not one, a misspelled key (its default would silently stay
in force), a whole number written as a fraction. The shipped file reads as before."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from reconciler.rules import DEFAULT_RULES, RulesError, load_rules


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_RULES.read_text()
    assert old in text, old
    rules = tmp_path / "rules.toml"
    rules.write_text(text.replace(old, new, 1))
    return rules


def test_the_shipped_rules_read_as_before() -> None:
    rules = load_rules()
    assert [r.id for r in rules.rules][:2] == ["structured_reference", "invoice_number_in_text"]
    assert rules.tolerance.short_pay_abs == Decimal("5.00")
    assert rules.tolerance.short_pay_pct == Decimal("1.0")
    assert rules.tolerance.discount_grace_days == 3
    assert rules.rule("customer_subset").options == {"max_items": 24, "max_subset": 5}  # type: ignore[union-attr]
    assert (rules.customer_min_score, rules.customer_margin) == (90, 5)
    assert rules.credit_memo_policy == "reference_then_oldest"


def test_a_missing_file_is_a_rules_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(RulesError, match=r"nope\.toml: cannot read: No such file"):
        load_rules(missing)


def test_a_directory_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path)


@pytest.mark.parametrize(
    "old, new, said",
    [
        # a wrong value, named by rule (or table) and key
        ('kind = "oldest_first"', 'kind = "oldest"', "rule 'oldest_first': kind 'oldest'"),
        (
            'short_pay_abs = "5.00"',
            'short_pay_abs = "five"',
            "tolerance.short_pay_abs 'five' is not an amount",
        ),
        ('short_pay_abs = "5.00"', 'short_pay_abs = "-5"', "tolerance.short_pay_abs '-5'"),
        ('short_pay_pct = "1.0"', 'short_pay_pct = "150"', "short_pay_pct '150' is not a percent"),
        (
            "min_confidence = 95",
            'min_confidence = "high"',
            "rule 'structured_reference': min_confidence 'high' is not a whole number",
        ),
        ("min_confidence = 95", "min_confidence = 101", "min_confidence 101 is not from 0 to 100"),
        # "false" in quotes is a string, which Python reads as true: refused, not auto-applied
        ("auto = true\nmin", 'auto = "false"\nmin', "rule 'structured_reference': auto 'false'"),
        ("sequence = 10", 'sequence = "10"', "rule 'structured_reference': sequence '10'"),
        ("max_subset = 5", "max_subset = 0", "rule 'customer_invoice_subset': max_subset 0"),
        (
            'policy = "reference_then_oldest"',
            'policy = "newest"',
            "credit_memos.policy 'newest' is not one of",
        ),
        ("fuzzy_margin = 5", 'fuzzy_margin = "5"', "customer.fuzzy_margin '5'"),
        ('reason_code = "SHORTPAY"', 'reason_code = ""', "tolerance.reason_code ''"),
        # whole days: a payment is dated by its day, so 1.5 would be cut to 1 without a word
        (
            "discount_grace_days = 3 ",
            "discount_grace_days = 1.5 ",
            "tolerance.discount_grace_days 1.5 is not a whole number",
        ),
        # a misspelled key would leave its default (a tolerance of 0) silently in force
        (
            "short_pay_abs = ",
            "short_pay_absolute = ",
            "unknown key 'tolerance.short_pay_absolute' (did you mean 'short_pay_abs'?)",
        ),
        (
            "max_items = 24",
            "max_item = 24",
            "rule 'customer_invoice_subset': unknown key 'max_item' (did you mean 'max_items'?)",
        ),
        # an option of another kind is read by nothing
        (
            'kind = "customer_amount"         # the payer',
            'kind = "customer_amount"\nmax_items = 3 # the payer',
            "rule 'customer_exact_balance': unknown key 'max_items'",
        ),
        ("[credit_memos]", "[credit_memo]", "unknown key 'credit_memo'"),
        ("[tolerance]", "tolerance = 5\n[other]", "unknown key 'other'"),
        # a second rule of a kind would never run: the cascade runs the first
        (
            'kind = "customer_amount"',
            'kind = "text_reference"',
            "rule 'customer_exact_balance': kind 'text_reference' is rule 'invoice_number_in_text'",
        ),
        (
            'id = "oldest_first"',
            'id = "customer_exact_balance"',
            "id 'customer_exact_balance' is another rule's",
        ),
        ('id = "oldest_first"\n', "", "rule '#5': missing key 'id'"),
    ],
)
def test_a_wrong_key_or_value_is_refused_naming_file_rule_and_key(
    tmp_path: Path, old: str, new: str, said: str
) -> None:
    rules = _edited(tmp_path, old, new)
    with pytest.raises(RulesError) as caught:
        load_rules(rules)
    message = str(caught.value)
    assert message.startswith(f"{rules}: "), message
    assert said in message, message


def test_a_file_that_is_not_toml_is_a_rules_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[tolerance\nshort_pay_abs = 5\n")
    with pytest.raises(RulesError, match=r"rules\.toml: not valid TOML"):
        load_rules(rules)


def test_a_float_amount_is_read_exactly(tmp_path: Path) -> None:
    rules = load_rules(_edited(tmp_path, 'short_pay_abs = "5.00"', "short_pay_abs = 0.10"))
    assert rules.tolerance.short_pay_abs == Decimal("0.10")
    assert str(rules.tolerance.short_pay_abs) == "0.10"  # no binary float on the way
