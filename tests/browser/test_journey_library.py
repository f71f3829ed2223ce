"""Journey: the network's library as its members click it. The author organization's manager
writes a two-language template and proposes it for Kenya; the focal points of two other
members each find it in their review queue, tick the do-no-harm checklist and approve it
(one approval is not enough); the second member's manager adopts the approved version into
a draft wave, and the composer opens with both texts in their language columns."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from console.forms_library import CHECKLIST_LABELS
from tests.console.conftest import PASSWORD
from tests.support.network import make_network_world

ENGLISH = "Whatever the results, Kenya is one. Stay calm, stay safe."
SWAHILI = "Matokeo yoyote, Kenya ni moja. Tulia, uwe salama."
REASON = "Conflict-sensitive, no group named, facts checked."


@pytest.fixture
def world(db):
    """Three members of a network, whose admins (focal points) and managers have passwords,
    and a draft wave in a campaign of the second member."""
    world = make_network_world()
    for member in world.members:
        for user in (member.admin, member.manager):
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
    campaign = campaign_create(
        organization=world.second.organization,
        created_by=world.second.manager,
        preset="KE",
        name="Sauti 2027",
        election_date=dt.date.today() + dt.timedelta(days=60),
    )
    wave_services.wave_create(
        campaign=campaign, created_by=world.second.manager, name="A week before"
    )
    return world


def open_library(page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    expect(page.get_by_role("heading", name="The network's library")).to_be_visible()


def review_and_approve(page, sign_in, focal_point, version_pk):
    """A focal point finds the version in the review queue and approves it for Kenya."""
    sign_in(focal_point.username)
    open_library(page)
    page.get_by_role("link", name="1 waits for your decision").click()
    waiting = page.get_by_test_id(f"waiting-{version_pk}-KE")
    expect(waiting).to_contain_text("Peace Youth Kenya")
    waiting.get_by_role("link", name="Calm after the results v1").click()

    review = page.locator("#review")
    expect(review.get_by_role("heading")).to_have_text(
        "Your organization's decision, as its focal point"
    )
    review.get_by_label("Country").select_option("KE")
    review.get_by_role("group", name="Decision").get_by_label("Approve", exact=True).check()
    for label in CHECKLIST_LABELS.values():
        review.get_by_label(str(label)).check()
    review.get_by_label("Reason (logged with your decision)").fill(REASON)
    review.get_by_role("button", name="Log the decision").click()
    expect(page.get_by_role("status")).to_contain_text("Your decision is logged.")


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()


def test_a_template_is_written_proposed_approved_by_two_members_and_adopted_into_a_wave(
    world, sign_in, page
):
    # 1. The author's manager writes a template in English and Kiswahili and proposes it.
    sign_in(world.author.manager.username)
    open_library(page)
    page.get_by_role("link", name="Write a template").click()
    expect(page.get_by_role("heading", name="Write a template")).to_be_visible()
    page.get_by_label("Network").select_option(label="East Africa Peace Network")
    page.get_by_label("Name", exact=True).fill("Calm after the results")
    page.get_by_label("Purpose").select_option(label="Calm after the results")
    page.get_by_label("Tags").fill("results, calm")
    page.get_by_label("Text in English").fill(ENGLISH)
    page.get_by_label("Text in Kiswahili").fill(SWAHILI)
    page.get_by_role("button", name="Save the draft").click()

    expect(page.get_by_role("status")).to_contain_text("The template is saved as a draft")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calm after the results v1")
    expect(page.get_by_test_id("version-state")).to_have_text("Draft")
    version_pk = int(re.search(r"/console/library/(\d+)/$", page.url).group(1))

    page.get_by_label("Countries to review it for").fill("KE")
    page.get_by_role("button", name="Propose", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Proposed:")
    expect(page.get_by_test_id("country-state-KE")).to_have_text("KE: In review")
    expect(page.get_by_test_id("version-state")).to_have_text("In review")
    sign_out(page)

    # 2. The second member's focal point approves: logged, but one approval is not enough.
    review_and_approve(page, sign_in, world.second.admin, version_pk)
    expect(page.get_by_test_id("country-state-KE")).to_have_text("KE: In review")
    expect(page.locator("#log")).to_contain_text("Sauti ya Amani")
    expect(page.locator("#review")).to_have_count(0)  # its decision is made
    sign_out(page)

    # 3. The third member's focal point approves too: the version is approved for Kenya.
    review_and_approve(page, sign_in, world.third.admin, version_pk)
    expect(page.get_by_test_id("country-state-KE")).to_have_text("KE: Approved")
    expect(page.get_by_test_id("version-state")).to_have_text("Approved")
    log = page.locator("#log")
    expect(log.get_by_role("listitem").filter(has_text="Sauti ya Amani")).to_contain_text("Approve")
    expect(log.get_by_role("listitem").filter(has_text="Vijana wa Amani")).to_contain_text(REASON)
    expect(log.locator("li.ticked")).to_have_count(2 * len(CHECKLIST_LABELS))
    sign_out(page)

    # 4. The second member's manager adopts it into a draft wave; the composer has both texts.
    sign_in(world.second.manager.username)
    open_library(page)
    row = page.get_by_test_id(f"version-{version_pk}")
    expect(row.get_by_test_id(f"country-{version_pk}-KE")).to_have_text("KE: Approved")
    row.get_by_role("link", name="Calm after the results v1").click()
    adopt = page.locator("#adopt")
    adopt.get_by_label("Wave").select_option(label="Sauti 2027 · A week before (Draft)")
    adopt.get_by_role("button", name="Put it in the wave").click()

    expect(page.get_by_role("status")).to_contain_text("The wave's texts are the version's now.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Compose: A week before")
    expect(page.get_by_test_id("library-provenance")).to_contain_text(
        "From the library: Calm after the results v1"
    )
    english = page.get_by_role("region", name=re.compile(r"^English \(en\)"))
    swahili = page.get_by_role("region", name=re.compile(r"^Kiswahili \(sw\)"))
    expect(english.get_by_label("Text in English")).to_have_value(ENGLISH)
    expect(swahili.get_by_label("Text in Kiswahili")).to_have_value(SWAHILI)
