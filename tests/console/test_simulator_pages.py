"""The phone simulator: a manager texts as a pretend subscriber and sees the replies."""

import pytest

from outreach.models import ConsentEvent, ConsentKind, Role
from outreach.services.channels import channel_create

# A simulated text commits as it arrives, as a webhook's would: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def manager(organization, console_as):
    return console_as(organization, Role.MANAGER)


def choose(client, channel, sender="0712345678"):
    return client.post("/console/simulator/", {"channel": channel.pk, "sender": sender})


def text(client, body):
    return client.post("/console/simulator/send/", {"body": body}, HTTP_HX_REQUEST="true")


def test_a_manager_sees_the_organizations_console_channels(manager, console_channel):
    page = manager.get("/console/simulator/").content.decode()

    assert "Console" in page
    assert 'name="sender"' in page


def test_the_pretend_sender_is_kept_in_the_session_not_the_url(manager, console_channel):
    response = choose(manager, console_channel)

    assert response.status_code == 302
    assert response["Location"] == "/console/simulator/"
    assert "+254712345678" in manager.get("/console/simulator/").content.decode()


def test_a_join_gets_the_welcome_in_the_pane_and_a_consent_event(manager, console_channel):
    choose(manager, console_channel)

    answer = text(manager, "JOIN")
    pane = manager.get("/console/simulator/conversation/").content.decode()

    assert answer.status_code == 200
    assert "JOIN" in answer.content.decode()
    assert "Welcome" in pane or "welcome" in pane
    assert 'class="bubble out"' in pane
    assert 'data-status="delivered"' in pane or 'data-status="sent"' in pane
    assert ConsentEvent.objects.filter(kind=ConsentKind.OPT_IN).count() == 1


def test_a_stop_gets_the_goodbye_and_the_opt_out_is_recorded(manager, console_channel):
    choose(manager, console_channel)
    text(manager, "JOIN")

    text(manager, "STOP")

    pane = manager.get("/console/simulator/conversation/").content.decode()
    assert pane.count('class="bubble in"') == 2
    assert ConsentEvent.objects.filter(kind=ConsentKind.OPT_OUT).count() == 1


def test_a_chat_id_that_is_not_digits_is_refused_next_to_the_sender(manager, organization):
    telegram = channel_create(
        organization=organization, name="Bot", kind="console_telegram", country="KE"
    )

    response = choose(manager, telegram, sender="not-a-chat")

    assert response.status_code == 400
    assert "digits only" in response.content.decode()


def test_another_organizations_channel_is_not_found(manager, other_organization):
    theirs = channel_create(
        organization=other_organization, name="Theirs", kind="console", country="KE"
    )

    assert choose(manager, theirs).status_code == 404


def test_a_twilio_channel_is_not_offered(manager, twilio_channel):
    response = choose(manager, twilio_channel)

    assert response.status_code == 400
    assert ConsentEvent.objects.count() == 0


def test_a_reviewer_cannot_open_the_simulator(organization, console_as, console_channel):
    reviewer = console_as(organization, Role.REVIEWER)

    assert reviewer.get("/console/simulator/").status_code == 403
    assert text(reviewer, "JOIN").status_code == 403
