"""Monthly statements: a member's balance and every entry of a month, printable."""
from flask import Blueprint

bp = Blueprint("statements", __name__)
