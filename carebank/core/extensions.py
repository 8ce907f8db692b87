"""Flask extensions, created unbound so modules can import them without an app."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy_lite import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from carebank.core.i18n import RequestBabel

db = SQLAlchemy()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = RequestBabel()
# No default limits: each guarded view (PIN entry, …) declares its own.
limiter = Limiter(key_func=get_remote_address)
