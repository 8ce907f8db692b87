"""Entry point for `flask --app app ...`: builds the app and brings the database up to date."""
from carebank import create_app
from carebank.core import production
from carebank.core.database import upgrade_database

# Before the app is built: with CAREBANK_ENV=production, refuse to start (naming each missing
# setting) rather than generate a secret key or open an SQLite file in instance/.
production.check()
app = create_app()
if app.config["AUTO_MIGRATE"]:
    upgrade_database(app)
