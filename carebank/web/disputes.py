"""Disputes: a party to an exchange asks the centre to look at it."""
from flask import Blueprint

bp = Blueprint("disputes", __name__)
