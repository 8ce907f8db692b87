"""Posts: the needs and offers members put up, their categories and their lifetime."""
