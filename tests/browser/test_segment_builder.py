"""The segment builder in the browser: the live count follows the ticked boxes (htmx)."""

from playwright.sync_api import expect

from outreach.models import Role
from outreach.services.subscribers import subscriber_for_address
from tests.support.people import opted_in


def test_ticking_a_language_changes_the_live_count_without_a_reload(
    organization, console_channel, make_member, sign_in
):
    for address, language in [("+254711000001", "sw"), ("+254711000002", "en")]:
        person = opted_in(subscriber_for_address(channel=console_channel, address=address))
        person.language = language
        person.save(update_fields=["language"])
    page = sign_in(make_member(organization, Role.MANAGER).user.username)
    page.goto("/console/audience/segments/new/")
    count = page.locator("[data-count]")
    expect(count).to_have_text("2")
    page.evaluate("window.notReloaded = true")

    page.get_by_label("sw", exact=True).check()

    expect(count).to_have_text("1")
    assert page.evaluate("window.notReloaded") is True
