"""JSON API v1: the contract the PWA and integrations use. Same services as the web pages."""
from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")

from . import openapi, views  # noqa: E402,F401  (registers the routes on the blueprint)
