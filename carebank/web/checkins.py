"""Card check-ins: a carer scans a resident's member card at the end of a visit."""
from flask import Blueprint

bp = Blueprint("checkins", __name__)
