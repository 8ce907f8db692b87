"""Demo and benchmark data: `flask --app app demo` and `seed`. Only their commands import the
modules here (the seed is over a thousand lines), so the app never loads them to serve.

The seed's settings live here so that its command's options can show them without loading it.
"""

DEFAULT_PASSWORD = "seed-password-1234"
EMAIL_DOMAIN = "seed.carebank"
MINIMUM_MEMBERS = 20  # enough for two centres with coordinators, carers and residents
