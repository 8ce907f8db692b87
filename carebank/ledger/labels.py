"""How each kind of transaction is named on pages, statements and in the console."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from carebank.ledger.models import TransactionKind

KIND_WORDS = {
    TransactionKind.VISIT: _l("Visit"),
    TransactionKind.GIFT: _l("Gift"),
    TransactionKind.DONATION: _l("Donation"),
    TransactionKind.GRANT: _l("Grant"),
    TransactionKind.REVERSAL: _l("Correction"),
}
