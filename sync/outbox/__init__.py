"""The outbox: every write to an external system as a durable, keyed command.

Commands are created with the decision they come from (:mod:`sync.outbox.plan`), sent by
:mod:`sync.outbox.worker` through each system's push adapter (``mappings/<system>/push.py``),
and controlled from the CLI (:mod:`sync.outbox.control`).
"""
