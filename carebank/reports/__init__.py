"""The centre's reports: hours exchanged, members, balances, with charts and CSV."""
