"""Console: checkins (routes added to the console blueprint)."""
from . import bp  # noqa: F401
