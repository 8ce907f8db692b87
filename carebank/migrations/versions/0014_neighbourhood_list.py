"""neighbourhoods from a list: each centre's 행정동 as rows, free-text values mapped to them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

The centre's one-per-line text becomes rows of `neighbourhoods`. Members' and posts'
free-text neighbourhoods that match an entry (any case, spaces collapsed, NFC, with or without
the district in front: "종로구 효자동" and "효자동") take the entry's name, and a member with
no centre joins the entry's centre. Values that match nothing stay as typed; the admin console
lists them to be assigned.
"""
import unicodedata
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

centres = sa.table('centres', sa.column('id', sa.Integer), sa.column('neighbourhoods', sa.Text))
neighbourhoods = sa.table('neighbourhoods', sa.column('id', sa.Integer), sa.column('centre_id', sa.Integer),
                          sa.column('name', sa.String), sa.column('district', sa.String),
                          sa.column('created_at', sa.DateTime(timezone=True)))
members = sa.table('members', sa.column('id', sa.Integer), sa.column('neighbourhood', sa.String),
                   sa.column('centre_id', sa.Integer))
posts = sa.table('posts', sa.column('id', sa.Integer), sa.column('neighbourhood', sa.String),
                 sa.column('member_id', sa.Integer))


def _key(text):
    return " ".join(unicodedata.normalize("NFC", text or "").split()).casefold()


def _entry(line: str) -> tuple[str, str]:
    """(district, name) of a line: "종로구 효자동" names its district, "효자동" does not."""
    words = unicodedata.normalize("NFC", line).split()
    if len(words) >= 2 and words[0].endswith(("구", "군", "시")):
        return words[0][:40], " ".join(words[1:])[:80]
    return "", " ".join(words)[:80]


def upgrade() -> None:
    op.create_table('neighbourhoods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('district', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_neighbourhoods_centre_id_centres')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_neighbourhoods')),
    sa.UniqueConstraint('centre_id', 'name', name=op.f('uq_neighbourhoods_centre_id')),
    sa.UniqueConstraint('district', 'name', name=op.f('uq_neighbourhoods_district'))
    )
    with op.batch_alter_table('neighbourhoods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_neighbourhoods_centre_id'), ['centre_id'], unique=False)
    bind = op.get_bind()
    entries = _fill_list(bind)
    _map_free_text(bind, entries)
    with op.batch_alter_table('centres', schema=None) as batch_op:
        batch_op.drop_column('neighbourhoods')


def _fill_list(bind) -> list[dict]:
    """One row per centre line; a line another centre already lists is left to the first."""
    now = datetime.now(timezone.utc)
    rows, seen = [], set()
    for centre_id, text in bind.execute(sa.select(centres.c.id, centres.c.neighbourhoods).order_by(centres.c.id)):
        for line in (text or "").splitlines():
            district, name = _entry(line)
            if not name or (district, _key(name)) in seen or (centre_id, _key(name)) in seen:
                continue
            seen |= {(district, _key(name)), (centre_id, _key(name))}
            rows.append({"centre_id": centre_id, "name": name, "district": district, "created_at": now})
    if rows:
        bind.execute(neighbourhoods.insert(), rows)
    return rows


def _lookup(entries: list[dict]) -> dict[str, list[dict]]:
    """Entries by every key that means them: the name, and "district name"."""
    found: dict[str, list[dict]] = {}
    for entry in entries:
        keys = {_key(entry["name"])}
        if entry["district"]:
            keys.add(_key(f'{entry["district"]} {entry["name"]}'))
        for key in keys:
            found.setdefault(key, []).append(entry)
    return found


def _pick(candidates: list[dict], centre_id):
    """The one entry meant; between namesakes in two districts, the one of the member's centre."""
    if len(candidates) == 1:
        return candidates[0]
    mine = [entry for entry in candidates if entry["centre_id"] == centre_id]
    return mine[0] if len(mine) == 1 else None


def _map_free_text(bind, entries: list[dict]) -> None:
    lookup = _lookup(entries)
    centre_of = {}
    for member_id, text, centre_id in bind.execute(sa.select(members.c.id, members.c.neighbourhood, members.c.centre_id)):
        centre_of[member_id] = centre_id
        entry = _pick(lookup.get(_key(text), []), centre_id)
        if entry is None:
            continue
        changes = {}
        if entry["name"] != text:
            changes["neighbourhood"] = entry["name"]
        if centre_id is None:
            changes["centre_id"] = centre_of[member_id] = entry["centre_id"]
        if changes:
            bind.execute(members.update().where(members.c.id == member_id).values(**changes))
    # Posts in bulk by distinct value: a city has far more posts than spellings.
    for text, author_centre in bind.execute(
            sa.select(posts.c.neighbourhood, members.c.centre_id).distinct()
            .select_from(posts.join(members, members.c.id == posts.c.member_id))):
        entry = _pick(lookup.get(_key(text), []), author_centre)
        if entry is None or entry["name"] == text:
            continue
        authors = sa.select(members.c.id).where(
            members.c.centre_id.is_(None) if author_centre is None else members.c.centre_id == author_centre)
        bind.execute(posts.update().where(posts.c.neighbourhood == text, posts.c.member_id.in_(authors))
                     .values(neighbourhood=entry["name"]))


def downgrade() -> None:
    with op.batch_alter_table('centres', schema=None) as batch_op:
        batch_op.add_column(sa.Column('neighbourhoods', sa.Text(), nullable=False, server_default=''))
    bind = op.get_bind()
    lines: dict[int, list[str]] = {}
    query = sa.select(neighbourhoods.c.centre_id, neighbourhoods.c.district, neighbourhoods.c.name) \
        .order_by(neighbourhoods.c.id)
    for centre_id, district, name in bind.execute(query):
        lines.setdefault(centre_id, []).append(f"{district} {name}" if district else name)
    for centre_id, names in lines.items():
        bind.execute(centres.update().where(centres.c.id == centre_id).values(neighbourhoods="\n".join(names)))
    with op.batch_alter_table('neighbourhoods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_neighbourhoods_centre_id'))
    op.drop_table('neighbourhoods')
