"""Entry point for `flask --app app ...`: builds the app and brings the database up to date."""
from carebank import create_app
from carebank.core.database import upgrade_database

app = create_app()
if app.config["AUTO_MIGRATE"]:
    upgrade_database(app)
