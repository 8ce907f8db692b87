"""API v1: the session, sign-up, the member's own profile and public member objects."""
from __future__ import annotations

from flask import after_this_request, jsonify
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from carebank.api import api
from carebank.api import serialize as out
from carebank.api.handler import body, created, login_required, text
from carebank.centres import services as centres
from carebank.core import rate_limits
from carebank.core.extensions import db
from carebank.core.security import end_session, start_session
from carebank.members import reset_mail, resets
from carebank.members import services as members
from carebank.web.pwa import CLEAR_SITE_DATA


@api.get("/session")
def get_session():
    member = out.member_with_balance(current_user) if current_user.is_authenticated else None
    return jsonify({"member": member, "csrf_token": generate_csrf()})


@api.post("/session")
@rate_limits.login
def log_in():
    data = body()
    member = members.log_in(db.session, text(data, "email"), text(data, "password"))
    start_session(member)  # committed with the rehashed password, if any, by the blueprint
    return jsonify({"member": out.member_with_balance(member)})


@api.delete("/session")
def log_out():
    end_session()
    # A shared phone keeps nothing of the member: cached pages, the worker and the outbox go.
    return "", 204, {"Clear-Site-Data": CLEAR_SITE_DATA}


@api.post("/members")
@rate_limits.signup
def sign_up():
    data = body()
    member = members.create_member(
        db.session, name=text(data, "name"), email=text(data, "email"), password=text(data, "password"),
        neighbourhood=text(data, "neighbourhood") or "", locale=text(data, "locale"),
    )
    start_session(member)
    return created({"member": out.member_with_balance(member)})


@api.get("/me")
@login_required
def me():
    return jsonify({"member": out.member_with_balance(current_user), "profile": out.profile(current_user)})


@api.patch("/me")
@login_required
def update_me():
    data = body()
    fields = {k: text(data, k) for k in data
              if k in {"name", "neighbourhood", "languages", "offers_text", "phone", "locale"}}
    if "phone_shared_with_partners" in data:  # a JSON boolean; the service refuses anything else
        fields["phone_shared_with_partners"] = data["phone_shared_with_partners"]
    members.update_profile(db.session, current_user, **fields)
    return jsonify({"member": out.member_with_balance(current_user), "profile": out.profile(current_user)})


@api.get("/members/<id:member_id>")
@login_required
def get_member(member_id: int):
    """Another member's public object; with their balance for themself and their centre."""
    member = members.get_member(db.session, member_id)
    shown = out.member_with_balance if _sees_balance(current_user, member) else out.member
    return jsonify({"member": shown(member)})


def _sees_balance(viewer, member) -> bool:
    # A balance is personal, as on the web profile: only the member and whoever manages them
    # in the console (their centre's coordinators, admins) see it.
    return viewer.id == member.id or centres.manages(viewer, member)


@api.post("/password-resets")
@reset_mail.limited
def request_password_reset():
    """202 whether or not the address is a member's; the link is mailed after the commit."""
    issued = resets.request_reset(db.session, text(body(), "email"))
    if issued:
        mail = reset_mail.reset_mail(*issued)

        @after_this_request
        def send(response):  # runs once the blueprint has committed the route's work
            reset_mail.send(mail)
            return response
    return "", 202


@api.post("/password-resets/<token>")
def complete_password_reset(token: str):
    resets.complete_reset(db.session, token, text(body(), "password"))
    return "", 204
