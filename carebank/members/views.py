"""Signing up, logging in and out, profiles, and the language switch."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_timedelta, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from carebank.core import rate_limits
from carebank.core.commit import committing
from carebank.core.errors import DomainError
from carebank.core.extensions import db
from carebank.core.i18n import LANGUAGE_COOKIE
from carebank.core.security import current_login, end_session, start_session
from carebank.ledger import services as ledger
from carebank.members import reset_mail, resets
from carebank.members import services as members
from carebank.members.forms import FirstPasswordForm, LoginForm, PasswordForm, ProfileForm, SignupForm
from carebank.passkeys import services as passkeys
from carebank.passkeys.forms import PasskeyNameForm
from carebank.posts import services as posts
from carebank.web import safe_next_url, saving, show_refusal
from carebank.web.forms import EmptyForm
from carebank.web.pwa import CLEAR_SITE_DATA

bp = Blueprint("auth", __name__)


@bp.route("/signup", methods=["GET", "POST"])
@rate_limits.signup
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignupForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            member = members.create_member(
                db.session, name=form.name.data, email=form.email.data,
                password=form.password.data, neighbourhood=form.neighbourhood.data,
                phone=form.phone.data or "", locale=request.cookies.get(LANGUAGE_COOKIE),
            )
            start_session(member)
        if saved.ok:
            flash(_("Welcome, %(name)s! Post what you need or what you can offer.", name=member.name), "success")
            return redirect(url_for("passkeys.welcome"))  # offers a passkey, then on to posting
    return render_template("auth/signup.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@rate_limits.login
def login():
    if current_user.is_authenticated:
        return redirect(safe_next_url(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        # Committed: the new login, and a password hash made the old way replaced.
        with committing(lambda error: form.password.errors.append(str(error.message))) as saved:
            member = members.log_in(db.session, form.email.data, form.password.data)
            start_session(member, remember=form.remember.data)
        if saved.ok:
            return redirect(safe_next_url(request.args.get("next")))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.errorhandler(rate_limits.LoginsPaused)
def login_paused(paused: rate_limits.LoginsPaused):
    """Too many failed logins from here: the form again, saying how long to wait."""
    wait = format_timedelta(timedelta(seconds=paused.seconds), threshold=1)
    message = _("Too many tries from here. Please try again in %(wait)s.", wait=wait)
    return render_template("auth/login.html", form=LoginForm(), paused=message), 429


@bp.route("/logout", methods=["POST"])
def logout():
    response = redirect(url_for("main.home"))
    if EmptyForm().validate_on_submit():
        with saving():
            end_session()
        flash(_("You have logged out."), "success")
        response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA  # a shared phone keeps nothing of them
    return response


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if request.method == "GET":
        form.locale.data = current_user.locale or ""
        form.timezone.data = current_user.timezone or current_app.config["DEFAULT_TIMEZONE"]
    if form.validate_on_submit():
        with saving(form) as saved:
            members.update_profile(
                db.session, current_user, name=form.name.data, neighbourhood=form.neighbourhood.data,
                languages=form.languages.data, offers_text=form.offers_text.data,
                phone=form.phone.data or "", locale=form.locale.data, timezone=form.timezone.data,
                phone_shared_with_partners=bool(form.phone_shared_with_partners.data),
            )
        if saved.ok:
            refresh()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("auth.profile"))
    return _profile_page(form=form), 400 if form.errors else 200


def _profile_page(form=None, password_form=None) -> str:
    """The profile with the member's passkeys, and "change" or, without one, "set" a password."""
    if password_form is None:
        password_form = PasswordForm() if current_user.password_hash else FirstPasswordForm()
    return render_template("auth/profile.html", form=form if form is not None else ProfileForm(obj=current_user),
                           password_form=password_form, passkeys=passkeys.passkeys_of(db.session, current_user),
                           passkey_form=PasskeyNameForm(prefix="passkey"))


@bp.route("/profile/password", methods=["POST"])
@login_required
def change_password():
    """Change the password; a member who signs in with a passkey or card only sets a first one."""
    if current_user.password_hash is None:
        return _set_first_password()
    form = PasswordForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            members.change_password(db.session, current_user, form.current_password.data, form.new_password.data,
                                    keep_login=current_login())
        if saved.ok:
            flash(_("Your password is changed."), "success")
            return redirect(url_for("auth.profile"))
    return _profile_page(password_form=form), 400


def _set_first_password():
    form = FirstPasswordForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            members.set_first_password(db.session, current_user, form.email.data, form.new_password.data)
        if saved.ok:
            flash(_("Your password is set. You can also log in with your e-mail and it."), "success")
            return redirect(url_for("auth.profile"))
    return _profile_page(password_form=form), 400


# Password resets.

RESET_SENT = _l("If that address belongs to a member, we have sent a link. It works for one hour.")


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=members.PASSWORD_MIN_LENGTH)],
                             description=_l("At least %(min)s characters.", min=members.PASSWORD_MIN_LENGTH))
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords are not the same."))])


@bp.route("/reset", methods=["GET", "POST"])
@reset_mail.limited
def reset_request():
    """Ask for a reset link; the answer is the same whether or not the address is a member's."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            issued = resets.request_reset(db.session, form.email.data)
            mail = reset_mail.reset_mail(*issued) if issued else None
        if saved.ok:
            if mail:
                reset_mail.send(mail)  # after the commit: the link works when it arrives
            flash(str(RESET_SENT), "success")
            return redirect(url_for("auth.reset_request"))
    return render_template("auth/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Set a new password with a link; a used or expired link is the error page (410)."""
    reset = resets.usable_reset(db.session, token)
    form = NewPasswordForm()
    if form.validate_on_submit():
        with committing(lambda error: _gone_or_shown(error, form)) as saved:
            resets.complete_reset(db.session, token, form.password.data)
        if saved.ok:
            flash(_("Your new password is set. Please log in with it."), "success")
            return redirect(url_for("auth.login"))
    page = render_template("auth/reset_password.html", form=form, member=reset.member)
    # The link is a key while it works: its page stays out of every cache, the offline one too.
    return page, 400 if form.errors else 200, {"Cache-Control": "no-store"}


def _gone_or_shown(error: DomainError, form) -> None:
    """A link used meanwhile (another tab, a double tap) is the error page; a refused password
    is shown under its field."""
    if error.status in (404, 410):
        raise error
    show_refusal(error, form)


@bp.route("/members/<id:member_id>")
@login_required
def member(member_id: int):
    person = members.get_member(db.session, member_id)
    given_received = ledger.given_and_received(db.session, [person.id])[person.id]
    open_posts = [p for p in posts.posts_of(db.session, person) if p.is_open()]
    return render_template("auth/member.html", person=person, given_received=given_received, open_posts=open_posts)


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch language: remembered in a cookie, and in the profile of a logged-in member."""
    lang = request.form.get("lang")
    response = make_response(redirect(safe_next_url(request.form.get("next"))))
    if lang not in current_app.config["LANGUAGES"]:
        return response
    if current_user.is_authenticated:
        with saving():
            members.update_profile(db.session, current_user, locale=lang)
    response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
