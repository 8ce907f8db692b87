"""The time ledger: accounts, sealed zero-sum transactions, gifts, the community pool and reversals."""
