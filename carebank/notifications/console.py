"""Console: notifications that could not be delivered to the centre's members, so that someone
calls them instead (three failed tries on e-mail or push)."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from carebank.core.extensions import db
from carebank.notifications import delivery
from carebank.web.console import bp


@bp.route("/notifications/failures", endpoint="notification_failures")
def notification_failures():
    return render_template("console/notifications/failures.html",
                           failures=delivery.failures(db.session, current_user))
