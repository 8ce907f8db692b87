"""The minutes of a general assembly: a DRAFT before closing, then sealed at close (the PDF
stored, its SHA-256 in the audit log), read back as text with the counts and the Korean words."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pypdfium2
import pytest
import sqlalchemy as sa

from carebank.audit.models import AuditEntry
from carebank.core.database import utcnow
from carebank.governance import assemblies
from carebank.governance.models import Assembly
from carebank.members.models import Member
from tests import test_governance_assemblies as door
from tests.conftest import logged_in
from tests.test_governance_assemblies import hall, motion, officers

# The door tests' fixtures: 100 members in the register, and their assembly called.
neighbours, assembly = door.neighbours, door.assembly

def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(data)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


@pytest.fixture
def met(session, coordinator, assembly, neighbours):
    """The assembly of 100 with 48 present and 3 proxies, officers chosen, a special motion
    passed 34 to 17, held an hour ago; the coordinator reads Korean."""
    hall(session, coordinator, assembly, neighbours, in_person=48, by_proxy=3)
    officers(session, coordinator, assembly, neighbours)
    item = motion(session, coordinator, assembly, "정관 제5조 변경", special=True)
    assemblies.tally(session, coordinator, item.id, 34, 17, 0)
    session.get(Assembly, assembly.id).held_at = utcnow() - timedelta(hours=1)
    session.get(Member, coordinator.id).locale = "ko"
    session.commit()
    return assembly


def test_draft_minutes_are_marked_and_not_stored(session, console, met):
    draft = console.get(f"/api/v1/assemblies/{met.id}/minutes.pdf")
    assert draft.status_code == 200 and draft.mimetype == "application/pdf"
    assert "DRAFT" in pdf_text(draft.data)
    session.commit()
    stored = session.get(Assembly, met.id)
    assert stored.minutes_pdf is None and stored.minutes_sha256 is None
    assert session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "assembly.minutes")) == 0


def test_sealed_minutes_read_back_in_korean_with_the_counts(session, console, met, neighbours):
    assert console.post(f"/api/v1/assemblies/{met.id}/close").status_code == 200
    sealed = console.get(f"/api/v1/assemblies/{met.id}/minutes.pdf")
    text = pdf_text(sealed.data)
    assert "DRAFT" not in text
    for words in ("2027년 정기총회", "총회 의사록", "효자동 주민센터 강당", "정족수", "직접 출석: 48",
                  "대리 출석: 3", ": 100", ": 51", "정관 제5조 변경", "특별결의", "34", "17", "가결",
                  "의장: 조합원 0", "조합원 3", "조합원 5", "서명"):
        assert words in text, words


def test_sealed_minutes_hash_is_in_the_audit_log_and_download_is_the_same_bytes(session, app, console, met,
                                                                               make_member):
    closed = console.post(f"/api/v1/assemblies/{met.id}/close").get_json()["assembly"]
    sealed = console.get(f"/api/v1/assemblies/{met.id}/minutes.pdf").data
    digest = hashlib.sha256(sealed).hexdigest()
    assert closed["minutes_sha256"] == digest
    session.commit()
    assert session.get(Assembly, met.id).minutes_sha256 == digest
    reasons = session.scalars(sa.select(AuditEntry.reason).where(AuditEntry.action == "assembly.minutes")).all()
    assert len(reasons) == 1 and digest in reasons[0]
    assert console.get(f"/console/assemblies/{met.id}/minutes.pdf").data == sealed
    # The sealed minutes stay as they were signed, whatever changes later.
    session.get(Member, session.get(Assembly, met.id).chair_id).name = "Renamed later"
    session.commit()
    assert console.get(f"/api/v1/assemblies/{met.id}/minutes.pdf").data == sealed
    member = logged_in(app, make_member("Reader"))
    assert member.get(f"/governance/assemblies/{met.id}/minutes.pdf").data == sealed
    page = member.get(f"/governance/assemblies/{met.id}")
    assert page.status_code == 200 and "정관 제5조 변경" in page.get_data(as_text=True)


def test_closed_assembly_changes_no_more(session, console, met, neighbours):
    console.post(f"/api/v1/assemblies/{met.id}/close")
    again = console.post(f"/api/v1/assemblies/{met.id}/close")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "assembly_closed"
    late = console.post(f"/api/v1/assemblies/{met.id}/attendance", json={"member_id": neighbours[90].id})
    assert late.status_code == 409
    assert console.post(f"/api/v1/assemblies/{met.id}/motions", json={"title": "Late"}).status_code == 409


def test_assembly_closes_only_with_officers_and_every_motion_counted(session, console, coordinator, assembly,
                                                                    neighbours):
    hall(session, coordinator, assembly, neighbours, in_person=60, by_proxy=0)
    session.get(Assembly, assembly.id).held_at = utcnow() - timedelta(hours=1)
    session.commit()
    url = f"/api/v1/assemblies/{assembly.id}/close"
    no_officers = console.post(url)
    assert no_officers.status_code == 409 and no_officers.get_json()["error"]["code"] == "officers_not_set"
    officers(session, coordinator, assembly, neighbours)
    motion(session, coordinator, assembly)
    uncounted = console.post(url)
    assert uncounted.status_code == 409 and uncounted.get_json()["error"]["code"] == "motions_not_tallied"
    session.commit()
    assert session.get(Assembly, assembly.id).closed_at is None


def test_assembly_cannot_close_before_it_is_held(session, console, coordinator, assembly, neighbours):
    hall(session, coordinator, assembly, neighbours, in_person=60, by_proxy=0)
    officers(session, coordinator, assembly, neighbours)
    answer = console.post(f"/api/v1/assemblies/{assembly.id}/close")
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "not_yet_held"


def test_console_closes_and_shows_the_hash(session, console, met):
    assert console.post(f"/console/assemblies/{met.id}/close").status_code == 302
    session.commit()
    digest = session.get(Assembly, met.id).minutes_sha256
    page = console.get(f"/console/assemblies/{met.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and digest in page.get_data(as_text=True)


def test_name_the_font_lacks_prints_a_stand_in(session, console, met):
    session.get(Member, session.get(Assembly, met.id).chair_id).name = "José Ŧest"
    session.commit()
    text = pdf_text(console.get(f"/api/v1/assemblies/{met.id}/minutes.pdf").data)
    assert "Jose" in text
