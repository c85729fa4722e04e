"""Cash application: the matching cascade, credit memos, decisions with evidence, the report."""

from reconciler.engine import ReconcileSummary, reconcile

__all__ = ["ReconcileSummary", "reconcile"]
