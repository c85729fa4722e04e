"""Payment-processor webhook signature checks (Stripe, Adyen, GoCardless)."""
