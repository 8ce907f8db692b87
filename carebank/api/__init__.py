"""JSON API v1: the contract the PWA and integrations use. Same services as the web pages.

Each feature adds its routes to `api` in its own `api.py`; importing them here registers them."""
from carebank.api.handler import ApiBlueprint
from carebank.features import feature_modules

api = ApiBlueprint("api", __name__, url_prefix="/api/v1")

feature_modules("api")
from carebank.api import openapi  # noqa: E402,F401  (registers the description's route)
