"""Care plans: the recurring schedule two people agree for an exchange."""
