"""Acting for a member: a coordinator edits, vets, posts and answers for a resident of their
centre. Each act goes through the same services the member would use and is recorded in the
audit log as "done by coordinator X for member Y".

Every function refuses a non-coordinator (NotAllowed) and a member outside the coordinator's
centre (NotFound, as if the member did not exist). Admins also manage centres and roles here.
Functions add and flush; the caller commits.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carebank.audit import services as audit
from carebank.centres import services as centres
from carebank.centres.models import Centre
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.core.policy import Policy
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import Exchange
from carebank.members import services as members
from carebank.members.models import Member, Role, VettingStatus
from carebank.posts import services as posts
from carebank.posts.models import Post, PostStatus

NOTE_MAX_LENGTH = 200
PROFILE_FIELDS = ("name", "neighbourhood", "languages", "offers_text", "phone", "locale")


def check_scope(coordinator: Member, member: Member) -> None:
    """Refuse a non-coordinator, and a member of another centre as if they did not exist."""
    centres.require_coordinator(coordinator)
    if not centres.manages(coordinator, member):
        raise NotFound(_l("That member does not exist."), code="member_not_found")


def _require_active(member: Member) -> None:
    if not member.is_active:
        raise Conflict(_l("This member is deactivated. Reactivate them first."), code="member_deactivated")


def _note(value, field: str = "note", required: bool = False) -> str:
    note = value.strip() if isinstance(value, str) else ""
    if required and not note:
        message = _l("Please give the reason.")
        raise ValidationFailed(message, code="reason_required", fields={field: message})
    if len(note) > NOTE_MAX_LENGTH:
        message = _l("A note can be at most %(max)s characters.", max=NOTE_MAX_LENGTH)
        raise ValidationFailed(message, fields={field: message})
    return note


def update_member(session: Session, coordinator: Member, member: Member, **fields) -> Member:
    """Change a member's profile; the audit entry names the fields that changed."""
    check_scope(coordinator, member)
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    before = {name: getattr(member, name) for name in fields}
    members.update_profile(session, member, **fields)
    changed = [name for name in fields if getattr(member, name) != before[name]]
    audit.record(session, coordinator, "member.edit", member=member, reason=", ".join(changed))
    return member


def set_vetting(session: Session, coordinator: Member, member: Member, status, note="") -> Member:
    """Record the centre's check of a carer. Verifying or suspending stamps who and when;
    going back to unverified clears them. Suspending needs a reason."""
    check_scope(coordinator, member)
    if member.id == coordinator.id:
        raise NotAllowed(_l("A colleague must check you; you cannot vet yourself."), code="self_vetting")
    try:
        status = VettingStatus(status)
    except ValueError:
        message = _l("Choose a status from the list.")
        raise ValidationFailed(message, fields={"status": message}) from None
    note = _note(note, required=status is VettingStatus.SUSPENDED)
    member.vetting = status
    decided = status is not VettingStatus.UNVERIFIED
    member.vetted_at = utcnow() if decided else None
    member.vetted_by_id = coordinator.id if decided else None
    session.flush()
    audit.record(session, coordinator, "member.vetting", member=member,
                 reason=f"{status.value}: {note}" if note else status.value)
    return member


def deactivate(session: Session, coordinator: Member, member: Member, reason="") -> Member:
    """Stop a member: their logins end and they cannot log in, and their open posts close
    (answers not yet accepted are cancelled). Nothing else is deleted; the ledger keeps their
    history."""
    check_scope(coordinator, member)
    if member.id == coordinator.id:
        raise NotAllowed(_l("You cannot deactivate yourself."), code="self_deactivation")
    if not member.is_active:
        raise Conflict(_l("This member is already deactivated."), code="already_deactivated")
    reason = _note(reason, "reason")
    member.deactivated_at = utcnow()
    members.end_logins(session, member)  # reactivating them later brings back no old login
    open_posts = session.scalars(
        sa.select(Post.id).where(Post.member_id == member.id, Post.status == PostStatus.OPEN)
    ).all()
    for post_id in open_posts:
        posts.close_post(session, coordinator, post_id)
    session.flush()
    audit.record(session, coordinator, "member.deactivate", member=member, reason=reason)
    return member


def reactivate(session: Session, coordinator: Member, member: Member) -> Member:
    check_scope(coordinator, member)
    if member.is_active:
        raise Conflict(_l("This member is active."), code="already_active")
    member.deactivated_at = None
    session.flush()
    audit.record(session, coordinator, "member.reactivate", member=member)
    return member


def post_for(session: Session, coordinator: Member, member: Member, *, policy: Policy, **fields) -> Post:
    """Post a need or an offer as the member; the post remembers who typed it."""
    check_scope(coordinator, member)
    _require_active(member)
    post = posts.create_post(session, member, policy=policy, **fields)
    post.created_by_id = coordinator.id
    session.flush()
    audit.record(session, coordinator, "post.create", member=member, reason=post.title, post_id=post.id)
    return post


def respond_for(session: Session, coordinator: Member, member: Member, post_id, message="") -> Exchange:
    """Answer a post as the member (a suggested match the coordinator found for them)."""
    check_scope(coordinator, member)
    _require_active(member)
    exchange = exchanges.respond(session, member, post_id, message)
    audit.record(session, coordinator, "exchange.respond", member=member,
                 post_id=exchange.post_id, exchange_id=exchange.id)
    return exchange


def accept_for(session: Session, coordinator: Member, member: Member, exchange_id) -> Exchange:
    """Accept a response to one of the member's posts, as the member."""
    return _decide_for(session, coordinator, member, exchange_id, exchanges.accept, "exchange.accept")


def decline_for(session: Session, coordinator: Member, member: Member, exchange_id) -> Exchange:
    return _decide_for(session, coordinator, member, exchange_id, exchanges.decline, "exchange.decline")


def _decide_for(session, coordinator, member, exchange_id, decision, action) -> Exchange:
    check_scope(coordinator, member)
    _require_active(member)
    exchange = decision(session, member, exchange_id)
    audit.record(session, coordinator, action, member=member, post_id=exchange.post_id,
                 exchange_id=exchange.id)
    return exchange


# Centre administration (admins only).

def require_admin(member: Member) -> None:
    if not member.is_admin:
        raise NotAllowed(_l("Only an administrator can manage centres."), code="not_admin")


def save_centre(session: Session, admin: Member, centre: Centre | None, **fields) -> Centre:
    """Create or change a centre, audited under that centre."""
    require_admin(admin)
    action = "centre.create" if centre is None else "centre.edit"
    centre = centres.save_centre(session, centre, **fields)
    audit.record(session, admin, action, reason=centre.name, centre_id=centre.id)
    return centre


def set_membership(session: Session, admin: Member, member: Member, *, centre_id, role) -> Member:
    """Move a member to a centre and give them a role (member, coordinator, admin)."""
    require_admin(admin)
    if member.id == admin.id:
        # Another admin must do it, so the bank never loses its last admin by a slip.
        raise NotAllowed(_l("You cannot change your own role or centre."), code="self_role")
    try:
        role = Role(role)
    except ValueError:
        message = _l("Choose a role from the list.")
        raise ValidationFailed(message, fields={"role": message}) from None
    centre = centres.get_centre(session, centre_id)
    before = f"{member.centre.name if member.centre else '-'} / {member.role.value}"
    member.centre_id, member.role = centre.id, role
    session.flush()
    session.refresh(member, ["centre"])
    audit.record(session, admin, "member.role", member=member,
                 reason=f"{before} → {centre.name} / {role.value}")
    return member
