"""Exchanges and visit confirmation: answering a response, showing a code, confirming a visit.

The maker of a confirmation code sees it as a QR code; the other party's phone camera opens
/c/<code>, which asks them to confirm. The raw code exists only when it is made (the database
keeps its hash), so the maker's session holds it for the page that shows it.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from carebank.confirmations import services as confirmations
from carebank.confirmations.forms import CodeForm, RedeemForm
from carebank.confirmations.models import ConfirmationCode
from carebank.core import rate_limits
from carebank.core.commit import committing
from carebank.core.database import reads_first, utcnow
from carebank.core.errors import Conflict, DomainError
from carebank.core.extensions import db
from carebank.core.i18n import format_minutes
from carebank.core.policy import current_policy
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import Exchange
from carebank.ledger.models import Transaction
from carebank.web import base_url, format_day, saving, show_refusal
from carebank.web.forms import EmptyForm

bp = Blueprint("exchanges", __name__)

CODES_KEPT = 5  # codes whose QR can still be shown; older ones say "make a new one"


@bp.app_template_global("exchange_standing")
def exchange_standing(exchange: Exchange) -> exchanges.Standing:
    """Where one exchange stands (a list passes `standings` for all of its exchanges instead)."""
    return exchanges.standing(db.session, exchange)


@bp.app_template_filter("visit_date")
def visit_date(value) -> str:
    """The day of a visit in the member's zone and language ("2026. 12. 2.")."""
    return format_day(value)


@bp.route("/exchanges/")
@login_required
def index():
    mine = exchanges.exchanges_of(db.session, current_user)
    return render_template("exchanges/index.html", exchanges=mine,
                           standings=exchanges.standings(db.session, mine))


@bp.route("/exchanges/<id:exchange_id>")
@login_required
def detail(exchange_id: int):
    exchange = exchanges.get_exchange(db.session, current_user, exchange_id)
    return _render_detail(exchange, _code_form(exchange.post.minutes))


def _code_form(minutes: int) -> CodeForm:
    """A duration form filled in with what was agreed, the usual length of the visit."""
    hours, rest = divmod(minutes, 60)
    return CodeForm(hours=hours, extra_minutes=rest)


def _render_detail(exchange: Exchange, code_form: CodeForm, status: int = 200):
    visits = exchanges.visit_lines(db.session, exchange)
    partner = _other_party(exchange)
    return render_template(
        "exchanges/detail.html", exchange=exchange, code_form=code_form, visits=visits,
        total=sum(minutes for _, minutes in visits), standing=exchanges.standing(db.session, exchange),
        partner=partner, partner_phone=_partner_phone(exchange, partner),
    ), status


def _partner_phone(exchange: Exchange, partner) -> str | None:
    """The other party's phone, when they chose to show it to partners and the exchange was
    agreed (not while only proposed, nor once declined or cancelled)."""
    if not exchange.is_party(current_user) or not exchange.was_agreed:
        return None
    # getattr: the choice arrived with passkeys (migration 0013); an older row has none.
    return partner.phone if getattr(partner, "phone_shared_with_partners", False) and partner.phone else None


@bp.route("/exchanges/<id:exchange_id>/accept", methods=["POST"])
@login_required
def accept(exchange_id: int):
    return _decide(exchanges.accept, exchange_id, lambda e: _(
        "You said yes. Arrange the visit with %(name)s.", name=_other_party(e).name))


@bp.route("/exchanges/<id:exchange_id>/decline", methods=["POST"])
@login_required
def decline(exchange_id: int):
    return _decide(exchanges.decline, exchange_id, lambda e: _("You said no, thank you."))


@bp.route("/exchanges/<id:exchange_id>/cancel", methods=["POST"])
@login_required
def cancel(exchange_id: int):
    return _decide(exchanges.cancel, exchange_id, lambda e: _("The exchange is cancelled."))


@bp.route("/exchanges/<id:exchange_id>/finish", methods=["GET", "POST"])
@login_required
def finish(exchange_id: int):
    """Asks "Finish this exchange?" (GET), then finishes it (POST)."""
    if request.method == "POST":
        return _decide(exchanges.finish, exchange_id, lambda e: _(
            "The exchange is finished. Thank you for the care you shared."))
    exchange = exchanges.get_exchange(db.session, current_user, exchange_id)
    if not exchange.is_party(current_user) or not exchange.is_accepted:
        return redirect(url_for(".detail", exchange_id=exchange.id))
    return render_template("exchanges/finish.html", exchange=exchange, partner=_other_party(exchange),
                           standing=exchanges.standing(db.session, exchange), form=EmptyForm())


def _decide(action, exchange_id: int, message):
    """Run an accept/decline/cancel; a stale button (already answered) just explains itself."""
    with committing(_flash_conflict) as saved:
        exchange = action(db.session, current_user, exchange_id)
    if saved.ok:
        flash(message(exchange), "success")
    return redirect(url_for(".detail", exchange_id=exchange_id))


def _flash_conflict(error: DomainError) -> None:
    if not isinstance(error, Conflict):
        raise error  # not a party or the owner: the 403 page says so
    show_refusal(error)


def _other_party(exchange: Exchange):
    return exchange.receiver if current_user.id == exchange.provider_id else exchange.provider


@bp.route("/exchanges/<id:exchange_id>/codes", methods=["POST"])
@login_required
def make_code(exchange_id: int):
    exchange = exchanges.get_exchange(db.session, current_user, exchange_id)
    form = CodeForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            code, token = confirmations.make_code(
                db.session, current_user, exchange.id, form.total_minutes, current_policy())
        if saved.ok:
            _remember_token(code.id, token)
            return redirect(url_for(".code", code_id=code.id))
    return _render_detail(exchange, form, 400)


def _remember_token(code_id: int, token: str) -> None:
    # The session serialiser sorts keys, so "newest" is by id, not by insertion order.
    codes = {**session.get("codes", {}), str(code_id): token}
    session["codes"] = {k: codes[k] for k in sorted(codes, key=int)[-CODES_KEPT:]}


@bp.route("/codes/<id:code_id>")
@login_required
def code(code_id: int):
    found = confirmations.code_status(db.session, current_user, code_id)
    token = session.get("codes", {}).get(str(code_id))
    state = confirmations.maker_state(found, held=bool(token))
    page = {"found": found, "exchange": found.exchange, "state": state}
    if state == "live":
        page["display_code"] = confirmations.display_code(token)
    if state in ("expired", "forgotten"):
        page["code_form"] = _code_form(found.minutes)
    return render_template("exchanges/code.html", redeemer=_redeemer(found), **page)


@bp.route("/codes/<id:code_id>/qr.svg")
@login_required
def code_qr(code_id: int):
    """The QR image of a live code, for its maker. An image of its own, so the code page
    (which reloads until the visit is confirmed) does not send it again each time."""
    found = confirmations.code_status(db.session, current_user, code_id)
    token = session.get("codes", {}).get(str(code_id))
    if confirmations.maker_state(found, held=bool(token)) != "live":
        abort(410)  # redeemed, expired, ended, or no longer held by this session: make a new one
    svg, _version = confirmations.qr_svg(confirmations.confirm_url(base_url(), token))
    response = Response(svg, mimetype="image/svg+xml")
    # Kept by this browser only, until the code expires; logging out clears it.
    seconds_left = int((found.expires_at - utcnow()).total_seconds())
    response.headers["Cache-Control"] = f"private, max-age={max(seconds_left, 0)}"
    return response


def _redeemer(found: ConfirmationCode):
    exchange = found.exchange
    return exchange.receiver if found.redeemer_id == exchange.receiver_id else exchange.provider


@bp.route("/c/<text>", methods=["GET", "POST"])
@reads_first
@login_required
@rate_limits.redeem
def confirm_code(text: str):
    """The page a phone camera opens (and a typed code leads to): who, what and how long,
    then one tap confirms. Refusals raise and show the error page with their status: 400 not
    a code, 403 not yours to confirm, 409 balance too low, 410 expired."""
    found = confirmations.find_code(db.session, text)
    confirmations.check_redeemer(found, current_user)
    if request.method == "POST":
        again = request.form.get("confirm_again") == "1"
        with committing(_ask_again) as saved:
            result = confirmations.redeem(db.session, current_user, text, current_policy(),
                                          confirm_again=again)
        if saved.ok:
            return _confirmed(*result)
        return _preview(found, text, saved.error), 409
    if found.is_redeemed:
        return render_template("exchanges/confirmed_already.html", exchange=found.exchange)
    confirmations.check_usable(found)
    return _preview(found, text, confirmations.recent_confirmation(db.session, current_user, found.exchange))


def _ask_again(error: DomainError) -> None:
    """A visit confirmed within the hour is asked about on the page; other refusals raise."""
    if error.code != "recent_confirmation":
        raise error


def _preview(found: ConfirmationCode, text: str, question: DomainError | None):
    return render_template("exchanges/confirm_code.html", found=found, exchange=found.exchange,
                           question=question, action=url_for(".confirm_code", text=text), form=EmptyForm())


def _confirmed(transaction: Transaction, is_new: bool):
    """Say what was counted (or that nothing more was) and go back to the exchange."""
    exchange = exchanges.get_exchange(db.session, current_user, transaction.exchange_id)
    if is_new:
        minutes = max(p.minutes for p in transaction.postings)
        flash(_("Confirmed: %(minutes)s of care from %(provider)s to %(receiver)s. Thank you!",
                minutes=format_minutes(minutes), provider=exchange.provider.name,
                receiver=exchange.receiver.name), "success")
        if exchange.is_finished:
            flash(_("This need was for one visit, so the exchange is now finished."), "info")
    else:
        flash(_("This visit was already confirmed. Nothing more was counted."), "info")
    return redirect(url_for(".detail", exchange_id=exchange.id))


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
@rate_limits.redeem
def confirm_form():
    """Type or paste a code (or its whole link) when the camera cannot scan it; the next page
    shows who, what and how long before anything is counted."""
    form = RedeemForm()
    if form.validate_on_submit():
        try:
            found = confirmations.find_code(db.session, form.code.data)
            confirmations.check_redeemer(found, current_user)
            if not found.is_redeemed:
                confirmations.check_usable(found)
        except DomainError as error:
            _show_under_code(error, form)
            return render_template("exchanges/confirm_form.html", form=form), error.status
        if found.is_redeemed:
            return render_template("exchanges/confirmed_already.html", exchange=found.exchange)
        token = confirmations.parse_code(form.code.data)
        question = confirmations.recent_confirmation(db.session, current_user, found.exchange)
        return _preview(found, token, question)
    return render_template("exchanges/confirm_form.html", form=form), 400 if form.errors else 200


def _show_under_code(error: DomainError, form: RedeemForm) -> None:
    # Every refusal of a typed code is about the code, so it is said where it was typed.
    form.code.errors.append(str(error.fields.get("code") or error.message))
