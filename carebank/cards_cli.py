"""`flask --app app cards …`: printing member cards in batches."""
from flask.cli import AppGroup

cards_cli = AppGroup("cards", help="Print member cards.")
