"""carebank: a neighbourhood care time bank."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from carebank import cli
from carebank.core import error_pages, instance, rate_limits, request_guards, security, tasks
from carebank.core.converters import IdConverter
from carebank.core.database import configure_engine, database_url, drop_async_teardown, engine_options
from carebank.core.extensions import babel, csrf, db, limiter, login_manager
from carebank.core.i18n import install_template_gettext, select_locale, select_timezone
from carebank.features import import_models
from config import Config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class: type = Config, **overrides) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers, CLI."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config_class)
    app.config.from_prefixed_env("CAREBANK")
    app.config.update(overrides)
    instance.ensure_secret_key(app)
    import_models()
    app.config["SQLALCHEMY_ENGINES"] = {"default": engine_options(database_url(app))}

    db.init_app(app)
    drop_async_teardown(app)
    with app.app_context():
        configure_engine(db.engine)
    tasks.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    rate_limits.warn_if_counting_per_worker(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    install_template_gettext(app)

    app.url_map.converters["id"] = IdConverter  # before any route names it
    from carebank.api import api
    from carebank.web import register_blueprints

    register_blueprints(app)
    app.register_blueprint(api)
    error_pages.register(app)
    security.register(app)
    request_guards.register(app)
    cli.register(app)
    return app
