"""The app runs in a real browser on a phone-sized screen."""


def test_a_member_logs_in_and_sees_their_balance(live_server, phone, make_member):
    from tests.browser.conftest import log_in

    member = make_member("Kim Young-ja")
    page = phone().new_page()
    log_in(page, live_server, member)
    assert page.locator(".balance-pill").inner_text() == "0 min"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
