"""Payment-processor webhook signature checks (Stripe, Adyen, GoCardless)."""

from collections.abc import Sequence


def usable_secrets(secrets: Sequence[str]) -> list[str]:
    """The configured secrets that can sign, stripped (a newline pasted with one is not part of
    it); a blank one (a variable set but empty) is left out: an HMAC under the empty key is
    one anybody can compute, so it must never verify a delivery."""
    return [secret.strip() for secret in secrets if secret and secret.strip()]
