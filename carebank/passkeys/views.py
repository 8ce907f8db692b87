"""Pages and the JSON steps of passkeys, and signing in with a member card.

The browser's WebAuthn calls happen in static/js/passkeys.js: it asks here for options, hands
them to navigator.credentials, and posts the answer back (JSON, with the page's CSRF token in
X-CSRFToken). Each answer ends in {"redirect": url} or {"error": {"code", "message"}}.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required

from carebank.cards.services import parse_card
from carebank.checkins.services import WrongPin
from carebank.core import rate_limits
from carebank.core.commit import committing
from carebank.core.errors import DomainError
from carebank.core.extensions import db, limiter
from carebank.core.i18n import LANGUAGE_COOKIE
from carebank.core.security import start_session
from carebank.members.forms import PasskeySignupForm
from carebank.passkeys import services as passkeys
from carebank.passkeys.forms import CardForm, CardPinForm, PasskeyNameForm
from carebank.web import base_url, safe_next_url, saving
from carebank.web.forms import EmptyForm

bp = Blueprint("passkeys", __name__)

# Where the session keeps each ceremony's challenge token (the challenge itself stays on the server).
TOKEN_KEYS = {passkeys.REGISTER: "passkey_register", passkeys.LOGIN: "passkey_login",
              passkeys.SIGNUP: "passkey_signup"}
# Options cost a row each: a page asks once per tap, a script asking in a loop is stopped.
options_limit = limiter.limit("30 per minute", key_func=rate_limits.per_address, methods=["POST"])
NO_STORE = {"Cache-Control": "no-store"}


def _json_answer(work):
    """Run `work()` (returning the JSON body) inside the commit point; a refusal is its error body."""
    body = {}
    with committing() as saved:
        body = work()
    if saved.ok:
        return jsonify(body)
    error = saved.error
    return jsonify({"error": {"code": error.code, "message": str(error.message),
                              "fields": {k: str(v) for k, v in error.fields.items()}}}), error.status


def _credential() -> dict | None:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _remember_token(purpose: str, token: str) -> None:
    session[TOKEN_KEYS[purpose]] = token


# ---- signing in ------------------------------------------------------------------------------


@bp.route("/passkeys/sign-in/options", methods=["POST"])
@options_limit
def sign_in_options():
    def work():
        token, options = passkeys.begin_sign_in(db.session, base_url())
        _remember_token(passkeys.LOGIN, token)
        return {"options": options}
    return _json_answer(work)


@bp.route("/passkeys/sign-in", methods=["POST"])
@rate_limits.login
def sign_in():
    """Sign in with the passkey the browser chose: the same new login as a password's."""
    data = _credential()
    token = session.pop(TOKEN_KEYS[passkeys.LOGIN], None)

    def work():
        member = passkeys.finish_sign_in(db.session, token, data.get("credential"), base_url())
        start_session(member, remember=data.get("remember") is True)
        return {"redirect": safe_next_url(data.get("next") if isinstance(data.get("next"), str) else None)}
    return _json_answer(work)


@bp.errorhandler(rate_limits.LoginsPaused)
def sign_in_paused(paused: rate_limits.LoginsPaused):
    wait = format_timedelta(timedelta(seconds=paused.seconds), threshold=1)
    message = _("Too many tries from here. Please try again in %(wait)s.", wait=wait)
    if request.endpoint == "passkeys.sign_in":
        return jsonify({"error": {"code": "too_many_tries", "message": message}}), 429
    return render_template("passkeys/card_pin.html", form=CardPinForm(), paused=message), 429


# ---- adding, naming and removing passkeys ------------------------------------------------


@bp.route("/passkeys/options", methods=["POST"])
@login_required
@options_limit
def register_options():
    def work():
        token, options = passkeys.begin_registration(db.session, current_user, base_url())
        _remember_token(passkeys.REGISTER, token)
        return {"options": options}
    return _json_answer(work)


@bp.route("/passkeys", methods=["POST"])
@login_required
def register():
    data = _credential()
    token = session.pop(TOKEN_KEYS[passkeys.REGISTER], None)

    def work():
        passkey = passkeys.finish_registration(db.session, current_user, token, data.get("credential"),
                                               data.get("name"), base_url())
        flash(_("Done. Next time, sign in with “%(name)s”.", name=passkey.name), "success")
        return {"redirect": url_for("auth.profile")}
    return _json_answer(work)


@bp.route("/welcome/passkey")
@login_required
def welcome():
    """After sign-up: offer a passkey, so the next sign-in needs no password."""
    return render_template("passkeys/welcome.html", form=PasskeyNameForm(prefix="passkey"))


@bp.route("/passkeys/<id:passkey_id>/name", methods=["POST"])
@login_required
def rename(passkey_id: int):
    passkey = passkeys.members_passkey(db.session, current_user, passkey_id)  # another's: 404
    form = PasskeyNameForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            passkeys.rename_passkey(db.session, current_user, passkey.id, form.name.data)
        if saved.ok:
            flash(_("The passkey is renamed."), "success")
    else:
        flash(" ".join(form.name.errors) or _("Give this passkey a name."), "error")
    return redirect(url_for("auth.profile"))


@bp.route("/passkeys/<id:passkey_id>/remove", methods=["GET", "POST"])
@login_required
def remove(passkey_id: int):
    """Ask first, then remove: the passkey no longer signs in."""
    passkey = passkeys.members_passkey(db.session, current_user, passkey_id)
    form = EmptyForm()
    if form.validate_on_submit():
        name = passkey.name
        with saving(form) as saved:
            passkeys.remove_passkey(db.session, current_user, passkey_id)
        if saved.ok:
            flash(_("“%(name)s” is removed. It can no longer sign in.", name=name), "success")
        return redirect(url_for("auth.profile"))
    return render_template("passkeys/remove.html", passkey=passkey, form=form)


# ---- signing up without e-mail -------------------------------------------------------------


@bp.route("/signup/passkey", methods=["GET", "POST"])
@rate_limits.signup
def signup():
    """Step 1: the details, checked and kept on the server; no member exists yet."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = PasskeySignupForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            token = passkeys.begin_signup(db.session, name=form.name.data, neighbourhood=form.neighbourhood.data,
                                          phone=form.phone.data or "", locale=request.cookies.get(LANGUAGE_COOKIE))
        if saved.ok:
            _remember_token(passkeys.SIGNUP, token)
            return redirect(url_for(".signup_passkey"))
    return render_template("passkeys/signup.html", form=form), 400 if form.errors else 200


@bp.route("/signup/passkey/create")
def signup_passkey():
    """Step 2: this phone's screen lock makes the passkey; only then is the member created.
    Cancelled or failed, the page stays and can try again."""
    details = passkeys.pending_signup(db.session, session.get(TOKEN_KEYS[passkeys.SIGNUP]))
    if details is None:
        flash(_("That took too long. Please fill in the sign-up form again."), "info")
        return redirect(url_for(".signup"))
    return render_template("passkeys/signup_create.html", details=details, form=PasskeyNameForm(prefix="passkey"))


@bp.route("/signup/passkey/options", methods=["POST"])
@options_limit
def signup_options():
    def work():
        return {"options": passkeys.signup_options(db.session, session.get(TOKEN_KEYS[passkeys.SIGNUP]), base_url())}
    return _json_answer(work)


@bp.route("/signup/passkey", methods=["PUT"])
def signup_finish():
    data = _credential()
    token = session.get(TOKEN_KEYS[passkeys.SIGNUP])

    def work():
        member = passkeys.finish_signup(db.session, token, data.get("credential"), data.get("name"), base_url())
        start_session(member)  # a new, empty session: the pending sign-up's token goes with the old
        flash(_("Welcome, %(name)s! Post what you need or what you can offer.", name=member.name), "success")
        return {"redirect": url_for("posts.new")}
    return _json_answer(work)


# ---- signing in with a member card ---------------------------------------------------------


@bp.route("/login/card", methods=["GET", "POST"])
def card_login():
    """Scan your own card (camera or photo), or paste its link; then your PIN."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = CardForm()
    if form.validate_on_submit():
        try:
            return redirect(url_for(".card_pin", token=parse_card(form.card.data)))
        except DomainError as error:
            form.card.errors.append(str(error.message))
    return render_template("passkeys/card_login.html", form=form, code_origin=base_url()), 400 if form.errors else 200


@bp.route("/login/card/<token>", methods=["GET", "POST"])
@rate_limits.login
def card_pin(token: str):
    """The PIN for a scanned card: the same tries and lock as at a check-in, then a login."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = CardPinForm()
    refusal = None
    with committing(lambda error: None) as saved:
        card = passkeys.card_for_sign_in(db.session, token)
        name = card.member.name
        if form.validate_on_submit():
            member = passkeys.sign_in_with_card(db.session, card, form.pin.data)
            start_session(member)
            return redirect(url_for("main.home"))
    if saved.error is not None:
        refusal = saved.error
        if isinstance(refusal, WrongPin) and not refusal.locked:
            form.pin.errors = [str(refusal.message)]
            refusal = None
    status = refusal.status if refusal else 400 if form.errors else 200
    return render_template("passkeys/card_pin.html", form=form, refusal=refusal,
                           name=None if refusal else name), status, NO_STORE
