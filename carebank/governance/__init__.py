"""The co-op governs itself: register, bylaws, proposals and ballots, assemblies, pool grants and the voice report."""
