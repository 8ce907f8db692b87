"""The in-app scanner: the phone's camera reads the other party's QR code in the page.

The decoding happens in the browser (static/js/scan.js: the native BarcodeDetector, else the
vendored jsQR). Without JavaScript, or when the camera fails, the page still offers the
typed-code form, which posts to the confirm form of the exchanges blueprint.
"""
from __future__ import annotations

from flask import Blueprint, make_response, render_template, url_for
from flask_login import login_required

from carebank.confirmations.forms import RedeemForm
from carebank.web import base_url

bp = Blueprint("scan", __name__)


@bp.route("/scan")
@login_required
def scan():
    # The confirm path without a code: scan.js accepts only decoded URLs under it.
    confirm_prefix = url_for("exchanges.confirm_code", text="")
    page = render_template("scan/scan.html", form=RedeemForm(), confirm_prefix=confirm_prefix,
                           code_origin=base_url(), shareable=True)
    response = make_response(page)
    # Visits happen without signal: this page shows nothing personal (no balance; the pending
    # list is filled from the phone's own storage), so the service worker may keep it for
    # offline scanning. Logging out clears it with every other cache.
    response.headers["Cache-Control"] = "no-cache, private"
    return response
