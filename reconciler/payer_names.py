"""How near a payer's name is to each customer's: the one scoring every name comparison."""

from __future__ import annotations

from collections.abc import Mapping

from rapidfuzz import fuzz, process

# words a payer's name carries beside the company's own (ACME CORP ACCOUNTS PAYABLE)
_NOISE = frozenset(
    [
        "ACCOUNTS",
        "ACCOUNT",
        "ACCTS",
        "ACCT",
        "PAYABLE",
        "PAYABLES",
        "AP",
        "A",
        "P",
        "DEPT",
        "DEPARTMENT",
        "PAYMENT",
        "PAYMENTS",
        "PMT",
        "PMTS",
        "TREASURY",
        "OPERATING",
        "DISBURSEMENT",
        "DISBURSEMENTS",
        "HQ",
        "HEADQUARTERS",
        "CORPORATE",
        "OFFICE",
        "USA",
        "US",
        "NA",
        "AND",
    ]
)


def _name_score(payer: str, name: str, score: float) -> float:
    """A name's score, below the line where the customer's name is only part of the payer's
    and the payer's other words are more than payer-name noise: ``DELTA AIR LINES`` is not
    ``DELTA``, ``ACME TOOLS AND DIES`` not ``ACME TOOLS``; ``ACME ACCOUNTS PAYABLE`` is
    ``ACME``. A payer's name cut short (``ACME`` for ``ACME TOOLS``) keeps its score: where
    it fits several customers, the margin between them abstains."""
    if score < 100 or payer == name:
        return score
    mine, theirs = set(payer.split()), set(name.split())
    if theirs <= mine and mine - theirs - _NOISE:
        return min(score, fuzz.token_sort_ratio(payer, name), 89)
    return score


def payer_name_scores(
    key: str,
    customer_names: Mapping[str, str],
    *,
    limit: int | None = 3,
    score_cutoff: float | None = None,
    spellings: Mapping[str, str] | None = None,
) -> list[tuple[float, str]]:
    """How near each customer's name is to a payer's, best first: (score, customer id).

    Both names as :func:`name_key` writes them (no case, accents, punctuation or legal
    suffixes); scored by rapidfuzz ``token_set_ratio``, lowered where the customer's name is
    only part of the payer's (:func:`_name_score`). ``customer_names``: customer id -> name
    key; ``spellings``: customer id -> the key of another spelling of its name (umlauts
    written out), a customer scoring by the nearer of the two; ``limit`` the best to score
    (None: all), ``score_cutoff`` the least raw score kept.
    This is how the cascade recognises a payer by name, and how a customer arriving later
    is found to be a waiting payment's payer."""
    best = process.extract(
        key, customer_names, scorer=fuzz.token_set_ratio, limit=limit, score_cutoff=score_cutoff
    )
    if spellings:
        best += process.extract(
            key, spellings, scorer=fuzz.token_set_ratio, limit=limit, score_cutoff=score_cutoff
        )
    scores: dict[str, float] = {}
    for name, score, cid in best:
        scores[cid] = max(scores.get(cid, 0.0), _name_score(key, name, score))
    ranked = sorted(((score, cid) for cid, score in scores.items()), key=lambda sc: -sc[0])
    return ranked[:limit] if limit is not None else ranked
