"""Local centres: the bank's branches, and the scope rule that keeps each coordinator to their own."""
