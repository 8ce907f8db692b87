"""Monthly statements: a member's month on one page, to read or print."""
