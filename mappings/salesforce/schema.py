"""Which Salesforce objects and fields hold receivables in an org: configuration, not code.

Orgs differ: most keep invoices in custom objects (``Invoice__c``), some use the Revenue
Cloud standard objects (``Invoice``, ``Payment``, ``PaymentLineInvoice``), many the Salesforce
Billing managed package (``blng__Invoice__c``, ``blng__Payment__c``, ...). A
:class:`SalesforceSchema` names the SObject and the API field of every value arsync reads or
writes. Three presets ship in ``presets/``; any value can be overridden on top of a preset::

    SalesforceSchema.model_validate({"preset": "revenue_cloud",
                                     "invoice": {"balance": "Open_Balance__c"}})

The connector builds its SOQL from this schema and the mappings read the same one.

A reference an allocation row does not hold itself can be read through its parent
relationships: ``blng__InvoiceLine__r.blng__Invoice__c`` (the invoice of the invoice line a
Billing allocation names). Such paths are allowed only where a spec lists the attribute in
``_paths``: they are read, never written.

A field a preset names but the org does not have is blanked in the config: ``currency = ""``
(TOML has no null) means the org has no such field. A single-currency org has no
``CurrencyIsoCode`` on any object (it exists once multicurrency is enabled); with the
currency fields blanked its records are in the corporate currency the connector reads from
the org. A blank link field (``[salesforce.objects.invoice.links] quickbooks = ""``) drops
that link. A required field cannot be blanked.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

PRESETS_DIR = Path(__file__).with_name("presets")
DEFAULT_PRESET = "custom_objects"
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# a field reached through parent relationships (SOQL allows five levels)
_PATH = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_]*\.){1,5}[A-Za-z][A-Za-z0-9_]*$")


def _check_name(value: str | None, *, path: bool = False) -> str | None:
    if value is None or _API_NAME.match(value):
        return value
    if path and _PATH.match(value):
        return value
    kind = "a Salesforce API name or relationship path" if path else "a Salesforce API name"
    raise ValueError(f"{value!r} is not {kind}")


class _Spec(BaseModel):
    """One SObject: its API name, the API names of the fields arsync uses, and its links."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sobject: str
    links: dict[str, str] = {}  # other system -> field holding that system's id
    external_id: str | None = None  # External ID field used for idempotent upserts

    _value_fields: tuple[str, ...] = ()
    _paths: tuple[str, ...] = ()  # attributes that may name a parent relationship path

    @field_validator("*", mode="after")
    @classmethod
    def _api_names(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        name = str(info.field_name)
        # only a field that may be absent (``str | None``) may be blanked; a ``str`` one with
        # a default (an account's ``Name``) is needed all the same
        optional = type(None) in get_args(cls.model_fields[name].annotation)
        if not value.strip() and optional:
            return None  # blanked in the config: the org has no such field
        paths: tuple[str, ...] = cls.__private_attributes__["_paths"].get_default()
        return _check_name(value, path=name in paths)

    @field_validator("links", mode="before")
    @classmethod
    def _blank_links(cls, value: Any) -> Any:
        """A link blanked in the config (``quickbooks = ""``) is no link."""
        if isinstance(value, Mapping):
            return {k: v for k, v in value.items() if not (isinstance(v, str) and not v.strip())}
        return value

    @model_validator(mode="after")
    def _link_names(self) -> _Spec:
        for field_name in self.links.values():
            _check_name(field_name)
        return self

    def field(self, attr: str) -> str | None:
        """The API name configured for a logical attribute (None: the org has no such field)."""
        value = getattr(self, attr)
        return value if isinstance(value, str) else None

    def select_fields(self) -> list[str]:
        """Fields to SELECT: Id, the stamps, every configured value field and link field."""
        names = ["Id", "SystemModstamp", "LastModifiedDate"]
        names += [n for n in (self.field(a) for a in self._value_fields) if n]
        names += list(self.links.values())
        if self.external_id:
            names.append(self.external_id)
        return list(dict.fromkeys(names))


class AccountSpec(_Spec):
    """Customers. The AR summary fields are written back by push (None: not written)."""

    name: str = "Name"
    number: str | None = None
    email: str | None = None
    currency: str | None = None
    open_balance: str | None = None
    overdue_balance: str | None = None
    oldest_overdue_days: str | None = None
    aging_bucket: str | None = None
    credit_hold: str | None = None

    _value_fields = ("name", "number", "email", "currency", "credit_hold")


class DocumentSpec(_Spec):
    """An invoice or credit memo object. ``status_map``: wire picklist value -> canonical."""

    number: str
    account: str
    total: str
    balance: str
    status: str | None = None
    issue_date: str | None = None
    due_date: str | None = None
    currency: str | None = None
    reference: str | None = None
    paid_date: str | None = None  # written by push (invoice_state), never read
    terms: str | None = None  # a text field holding payment terms (``2/10 Net 30``)
    status_map: dict[str, str] = {}
    # What push (invoice_state, credit_memo_state) writes besides ``paid_date``: the balance
    # goes to ``push_balance`` (unset: to ``balance``), the status picklist only if
    # ``push_status``. For objects whose balance is calculated and whose status drives the
    # package (Salesforce Billing posts an invoice when its status is set to Posted).
    push_balance: str | None = None
    push_status: bool = True
    # ``balance`` is calculated by the org (no Update in the object reference): push never
    # writes it, only ``push_balance`` when one is set.
    balance_calculated: bool = False

    _value_fields = (
        "number",
        "account",
        "total",
        "balance",
        "status",
        "issue_date",
        "due_date",
        "currency",
        "reference",
        "terms",
    )

    @model_validator(mode="after")
    def _writable_balance(self) -> DocumentSpec:
        if self.balance_calculated and self.push_balance == self.balance:
            raise ValueError(
                f"push_balance {self.push_balance!r} is the calculated balance field: "
                "name a writable field, or leave push_balance unset"
            )
        return self

    def pushed_balance(self) -> str | None:
        """The field push writes the decided balance to (None: none is writable)."""
        if self.push_balance:
            return self.push_balance
        return None if self.balance_calculated else self.balance


class ApplicationSpec(_Spec):
    """Child rows of a payment that apply it to invoices (and credit memos)."""

    relationship: str  # the child relationship name used in the payment's subquery
    payment: str
    invoice: str | None = None
    credit_memo: str | None = None
    amount: str
    unapplied_flag: str | None = None  # rows with this flag true are reversals: skipped
    line_type: str | None = None  # Applied / Unapplied picklist: Unapplied rows are skipped
    reversing_types: tuple[str, ...] = ("Unapplied",)  # line_type values that reverse a line

    _value_fields = ("payment", "invoice", "credit_memo", "amount", "unapplied_flag", "line_type")
    _paths = ("invoice", "credit_memo")

    def select_fields(self) -> list[str]:
        names = ["Id"] + [n for n in (self.field(a) for a in self._value_fields) if n]
        return list(dict.fromkeys(names))


class PaymentSpec(_Spec):
    number: str | None = None
    account: str
    amount: str
    unapplied: str | None = None
    date: str | None = None
    method: str | None = None
    reference: str | None = None
    status: str | None = None
    currency: str | None = None
    status_map: dict[str, str] = {}
    applications: ApplicationSpec

    _value_fields = (
        "number",
        "account",
        "amount",
        "unapplied",
        "date",
        "method",
        "reference",
        "status",
        "currency",
    )


class CreditApplicationSpec(_Spec):
    """A credit memo applied to an invoice as its own object (Revenue Cloud's
    ``CreditMemoInvApplication``, Salesforce Billing's ``blng__CreditNoteAllocation__c``)."""

    credit_memo: str
    invoice: str
    amount: str
    account: str | None = None
    date: str | None = None
    unapplied_flag: str | None = None
    line_type: str | None = None  # Applied / Unapplied picklist: an Unapplied row reverses
    reversing_types: tuple[str, ...] = ("Unapplied",)  # line_type values that reverse a line
    currency: str | None = None

    _value_fields = (
        "credit_memo",
        "invoice",
        "amount",
        "account",
        "date",
        "unapplied_flag",
        "line_type",
        "currency",
    )
    _paths = ("credit_memo", "invoice", "account")


class SalesforceSchema(BaseModel):
    """The org's receivables objects, from a preset plus overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: str = DEFAULT_PRESET
    account: AccountSpec
    invoice: DocumentSpec
    credit_memo: DocumentSpec
    payment: PaymentSpec
    credit_application: CreditApplicationSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _start_from_preset(cls, data: Any) -> Any:
        if isinstance(data, cls) or not isinstance(data, Mapping):
            return data
        preset = data.get("preset", DEFAULT_PRESET)
        merged = _deep_merge(preset_data(preset), data)
        merged["preset"] = preset
        return merged

    def spec_for_object(self, sobject: str) -> _Spec | None:
        """The spec whose SObject is ``sobject`` (payment applications excluded)."""
        specs: list[_Spec | None] = [
            self.account,
            self.invoice,
            self.credit_memo,
            self.payment,
            self.credit_application,
        ]
        for spec in specs:
            if spec is not None and spec.sobject == sobject:
                return spec
        return None


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


@lru_cache(maxsize=8)
def _preset_text(name: str) -> str:
    path = PRESETS_DIR / f"{name}.toml"
    if not path.is_file():
        raise ValueError(f"unknown Salesforce preset {name!r}; known: {', '.join(preset_names())}")
    return path.read_text(encoding="utf-8")


def preset_data(name: str) -> dict[str, Any]:
    """The raw preset as a fresh dict (safe to modify)."""
    return tomllib.loads(_preset_text(name))


@lru_cache(maxsize=8)
def load_preset(name: str = DEFAULT_PRESET) -> SalesforceSchema:
    """A shipped preset: ``custom_objects``, ``revenue_cloud`` or ``salesforce_billing``."""
    return SalesforceSchema.model_validate({"preset": name})


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        elif isinstance(value, BaseModel):
            out[key] = value.model_dump()
        else:
            out[key] = value
    return out
