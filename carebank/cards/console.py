"""Console: member cards. A coordinator sees a member's card, sets their PIN, blocks a lost
card, unlocks one after wrong PINs, and prints new cards one by one or in batches.

Printing issues: only the card secret's hash is kept, so a card can never be printed again,
and a new card stops the member's previous one at once. That is why every print is a POST.
"""
from __future__ import annotations

import io
from datetime import datetime, time

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import DateField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from carebank.cards import services as cards
from carebank.cards.pdf import render_cards
from carebank.centres.services import all_centres, managed_member
from carebank.confirmations import services as confirmations
from carebank.core.database import utcnow
from carebank.core.errors import DomainError
from carebank.core.extensions import db
from carebank.members.models import Member
from carebank.web import apply_domain_error, base_url
from carebank.web.console import bp
from carebank.web.forms import EmptyForm, local_to_utc, options

# A web request renders at most this many cards; a bigger run goes through `flask cards pdf`.
MAX_BATCH = 1000


class PinForm(FlaskForm):
    pin = PasswordField(
        _l("New PIN"), validators=[Optional(), Length(max=20)],
        description=_l("4 digits the member chooses and remembers. They type it on the carer's phone."),
    )


class BlockForm(FlaskForm):
    reason = StringField(
        _l("Why"), validators=[DataRequired(), Length(max=200)],
        description=_l("For example: lost on the bus, 3 March"),
    )


class BatchForm(FlaskForm):
    which = RadioField(
        _l("Print cards for"),
        choices=options([("without_card", _l("Members without a working card")),
                         ("since", _l("Members registered since a date")),
                         ("all", _l("All members"))]),
        default="without_card", validators=[InputRequired()],
    )
    since = DateField(_l("Registered since"), validators=[Optional()])
    centre_id = SelectField(_l("Centre"), coerce=lambda v: int(v) if v else None, default="")

    def validate(self, extra_validators=None) -> bool:
        # `Optional` on the date ends its own checks, so "since" without a date is caught here.
        if not super().validate(extra_validators):
            return False
        if self.which.data == "since" and self.since.data is None:
            self.since.errors = [_("Choose the date.")]
            return False
        return True


@bp.route("/members/<id:member_id>/card")
def member_card(member_id: int):
    member = managed_member(db.session, current_user, member_id)
    return _render_member(member, PinForm(), BlockForm())


def _render_member(member: Member, pin_form: PinForm, block_form: BlockForm, status: int = 200):
    return render_template(
        "console/cards/member.html", member=member, card=cards.current_card(db.session, member.id),
        latest=cards.latest_card(db.session, member.id), pin_form=pin_form, block_form=block_form,
        button_form=EmptyForm(), max_failures=cards.MAX_PIN_FAILURES,
    ), status


@bp.route("/members/<id:member_id>/pin", methods=["POST"])
def member_pin(member_id: int):
    member = managed_member(db.session, current_user, member_id)
    form, clearing = PinForm(), request.form.get("action") == "clear"
    if form.validate_on_submit() and (clearing or form.pin.data):
        try:
            cards.set_pin(db.session, member, "" if clearing else form.pin.data, current_user)
        except DomainError as error:
            apply_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("PIN removed: a coordinator approves their check-ins.") if clearing
                  else _("PIN saved."), "success")
            return redirect(url_for(".member_card", member_id=member.id))
    elif not form.errors:
        form.pin.errors = [_("Type the 4 digits of the new PIN.")]
    return _render_member(member, form, BlockForm(), 400)


@bp.route("/members/<id:member_id>/card/block", methods=["POST"])
def card_block(member_id: int):
    member = managed_member(db.session, current_user, member_id)
    form = BlockForm()
    card = cards.current_card(db.session, member.id)
    if card is not None and form.validate_on_submit():
        try:
            cards.block_card(db.session, card, current_user, form.reason.data)
        except DomainError as error:
            apply_domain_error(error, form)
        else:
            db.session.commit()
            flash(_("Card blocked: it no longer works. Print a new card when the member needs one."), "success")
            return redirect(url_for(".member_card", member_id=member.id))
    elif card is None:
        flash(_("This member has no working card to block."), "error")
    return _render_member(member, PinForm(), form, 400)


@bp.route("/members/<id:member_id>/card/unlock", methods=["POST"])
def card_unlock(member_id: int):
    member = managed_member(db.session, current_user, member_id)
    card = cards.current_card(db.session, member.id)
    if card is None or not EmptyForm().validate_on_submit():
        flash(_("This member has no working card to unlock."), "error")
        return _render_member(member, PinForm(), BlockForm(), 400)
    cards.unlock_card(db.session, card, current_user)
    db.session.commit()
    flash(_("Card unlocked: the member can type their PIN again."), "success")
    return redirect(url_for(".member_card", member_id=member.id))


@bp.route("/members/<id:member_id>/card.pdf", methods=["POST"])
def card_pdf(member_id: int):
    """Issue a new card and download it as a card-sized PDF."""
    member = managed_member(db.session, current_user, member_id)
    issued = _issue_or_refuse([member])
    if issued is None:
        return redirect(url_for(".member_card", member_id=member.id))
    return _pdf_response(render_cards(cards.card_faces(issued, base_url()), sheet=False),
                         f"card-{member.number}.pdf")


@bp.route("/members/<id:member_id>/card/print", methods=["POST"])
def card_print(member_id: int):
    """Issue a new card and show it at real size, for the browser to print."""
    member = managed_member(db.session, current_user, member_id)
    issued = _issue_or_refuse([member])
    if issued is None:
        return redirect(url_for(".member_card", member_id=member.id))
    return _print_page(issued, back=url_for(".member_card", member_id=member.id))


# Endpoint "console.cards", the name other pages link to (`cards` here is the service module).
@bp.route("/cards", endpoint="cards")
def batch():
    return _render_batch(_batch_form())


@bp.route("/cards.pdf", methods=["POST"])
def cards_pdf():
    """Issue new cards to the chosen members and download them on A4 sheets."""
    members = _chosen_members()
    if not isinstance(members, list):
        return members
    issued = _issue_or_refuse(members)
    if issued is None:
        return redirect(url_for(".cards"))
    return _pdf_response(render_cards(cards.card_faces(issued, base_url()), sheet=True),
                         f"cards-{utcnow():%Y-%m-%d}.pdf")


@bp.route("/cards/print", methods=["POST"])
def cards_print():
    """Issue new cards to the chosen members and show them for the browser to print."""
    members = _chosen_members()
    if not isinstance(members, list):
        return members
    issued = _issue_or_refuse(members)
    if issued is None:
        return redirect(url_for(".cards"))
    return _print_page(issued, back=url_for(".cards"))


def _batch_form() -> BatchForm:
    form = BatchForm()
    form.centre_id.choices = options(
        [("", _l("Every centre")), *((c.id, c.name) for c in all_centres(db.session))])
    return form


def _render_batch(form: BatchForm, status: int = 200):
    return render_template("console/cards/batch.html", form=form, max_batch=MAX_BATCH), status


def _chosen_members():
    """The members the batch form picks, or the form again (400) with what is wrong."""
    form = _batch_form()
    if not form.validate_on_submit():
        return _render_batch(form, 400)
    since = form.since.data if form.which.data == "since" else None
    members = cards.members_for_cards(
        db.session, current_user, centre_id=form.centre_id.data if current_user.is_admin else None,
        since=local_to_utc(datetime.combine(since, time())) if since else None,
        without_card=form.which.data == "without_card",
    )
    if not members:
        flash(_("No member matches, so no card was printed."), "info")
        return redirect(url_for(".cards"))
    if len(members) > MAX_BATCH:
        flash(_("That is %(count)s members, more than %(max)s at once. Choose fewer, or print them "
                "with the command `flask cards pdf`.", count=len(members), max=MAX_BATCH), "error")
        return _render_batch(form, 400)
    return members


def _issue_or_refuse(members: list[Member]) -> list[cards.IssuedCard] | None:
    """New cards for the members (flushed, committed once the page or PDF is made), or None
    with the reason flashed."""
    try:
        return cards.issue_cards(db.session, current_user, members)
    except DomainError as error:
        apply_domain_error(error)
        return None


def _pdf_response(pdf: bytes, filename: str):
    # Rendered before the commit: if drawing failed, the old cards would still work.
    db.session.commit()
    response = send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=filename)
    # The PDF holds card secrets that are never shown again: no cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _print_page(issued: list[cards.IssuedCard], back: str):
    faces = cards.card_faces(issued, base_url())
    page = render_template("console/cards/print.html", back=back,
                           cards=[(face, _qr(face.url)) for face in faces])
    db.session.commit()
    return page


def _qr(url: str) -> Markup:
    svg, _version = confirmations.qr_svg(url)
    # Inline in HTML, the XML declaration is noise: keep the <svg> element only.
    return Markup(svg[svg.index("<svg"):])
