"""Console: member cards. A coordinator sees a member's card, sets their PIN, blocks a lost
card, unlocks one after wrong PINs, and prints new cards one by one or in batches.

Printing issues: only the card secret's hash is kept, so a card can never be printed again,
and a new card stops the member's previous one at once. That is why every print is a POST.
"""
from __future__ import annotations

import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from carebank.cards import services as cards
from carebank.cards.forms import BatchForm, BlockForm, PinForm
from carebank.cards.pdf import render_cards
from carebank.centres.services import all_centres, managed_member
from carebank.confirmations import services as confirmations
from carebank.core.database import utcnow
from carebank.core.extensions import db
from carebank.members.models import Member
from carebank.web import base_url, saving
from carebank.web.console import bp
from carebank.web.forms import EmptyForm, options

# A web request renders at most this many cards; a bigger run goes through `flask cards pdf`.
MAX_BATCH = 1000


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
    if form.validate_change(clearing):
        with saving(form) as saved:
            cards.set_pin(db.session, member, "" if clearing else form.pin.data, current_user)
        if saved.ok:
            flash(_("PIN removed: a coordinator approves their check-ins.") if clearing
                  else _("PIN saved."), "success")
            return redirect(url_for(".member_card", member_id=member.id))
    return _render_member(member, form, BlockForm(), 400)


@bp.route("/members/<id:member_id>/card/block", methods=["POST"])
def card_block(member_id: int):
    member = managed_member(db.session, current_user, member_id)
    form = BlockForm()
    if form.validate_on_submit():
        with saving(form) as saved:
            cards.block_member_card(db.session, member, current_user, form.reason.data)
        if saved.ok:
            flash(_("Card blocked: it no longer works. Print a new card when the member needs one."), "success")
            return redirect(url_for(".member_card", member_id=member.id))
    return _render_member(member, PinForm(), form, 400)


@bp.route("/members/<id:member_id>/card/unlock", methods=["POST"])
def card_unlock(member_id: int):
    member = managed_member(db.session, current_user, member_id)
    if not EmptyForm().validate_on_submit():
        flash(str(cards.NO_CARD_TO_UNLOCK), "error")
        return _render_member(member, PinForm(), BlockForm(), 400)
    with saving() as saved:
        cards.unlock_member_card(db.session, member, current_user)
    if not saved.ok:
        return _render_member(member, PinForm(), BlockForm(), 400)
    flash(_("Card unlocked: the member can type their PIN again."), "success")
    return redirect(url_for(".member_card", member_id=member.id))


@bp.route("/members/<id:member_id>/card.pdf", methods=["POST"])
def card_pdf(member_id: int):
    """Issue a new card and download it as a card-sized PDF."""
    member = managed_member(db.session, current_user, member_id)
    with saving() as saved:
        pdf = _issue_pdf([member], sheet=False)
    if not saved.ok:
        return redirect(url_for(".member_card", member_id=member.id))
    return _pdf_response(pdf, f"card-{member.number}.pdf")


@bp.route("/members/<id:member_id>/card/print", methods=["POST"])
def card_print(member_id: int):
    """Issue a new card and show it at real size, for the browser to print."""
    member = managed_member(db.session, current_user, member_id)
    back = url_for(".member_card", member_id=member.id)
    with saving() as saved:
        page = _issue_print_page([member], back)
    return page if saved.ok else redirect(back)


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
    with saving() as saved:
        pdf = _issue_pdf(members, sheet=True)
    if not saved.ok:
        return redirect(url_for(".cards"))
    return _pdf_response(pdf, f"cards-{utcnow():%Y-%m-%d}.pdf")


@bp.route("/cards/print", methods=["POST"])
def cards_print():
    """Issue new cards to the chosen members and show them for the browser to print."""
    members = _chosen_members()
    if not isinstance(members, list):
        return members
    with saving() as saved:
        page = _issue_print_page(members, back=url_for(".cards"))
    return page if saved.ok else redirect(url_for(".cards"))


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
    members = cards.members_for_cards(
        db.session, current_user, centre_id=form.centre_id.data, since=form.since_utc(),
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


# New cards are issued (flushed) and drawn inside the caller's `saving` block: they are
# committed only once the PDF or page is made, so if drawing fails the old cards still work.

def _issue_pdf(members: list[Member], sheet: bool) -> bytes:
    issued = cards.issue_cards(db.session, current_user, members)
    return render_cards(cards.card_faces(issued, base_url()), sheet=sheet)


def _issue_print_page(members: list[Member], back: str) -> str:
    issued = cards.issue_cards(db.session, current_user, members)
    faces = cards.card_faces(issued, base_url())
    return render_template("console/cards/print.html", back=back,
                           cards=[(face, _qr(face.url)) for face in faces])


def _pdf_response(pdf: bytes, filename: str):
    response = send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=filename)
    # The PDF holds card secrets that are never shown again: no cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _qr(url: str) -> Markup:
    svg, _version = confirmations.qr_svg(url)
    # Inline in HTML, the XML declaration is noise: keep the <svg> element only.
    return Markup(svg[svg.index("<svg"):])
