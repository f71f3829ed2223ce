"""A manager rehearses a conversation through the API alone: texts in, the replies back."""

import pytest

from outreach.models import Role

# The simulated text commits as it arrives, as a webhook's would: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def text(organization, member_client, console_channel):
    manager = member_client(organization, Role.MANAGER)

    def send(body: str, sender: str = "0712345678") -> dict:
        response = manager.post(
            f"/api/v1/channels/{console_channel.pk}/simulate-inbound/",
            {"sender": sender, "body": body},
        )
        assert response.status_code == 200, response.content
        return response.json()

    return send


def test_a_join_answers_with_the_welcome_the_subscriber_would_receive(text):
    exchange = text("JIUNGE")

    assert exchange["inbound"]["intent"] == "join"
    assert exchange["inbound"]["handled"] is True
    [welcome] = exchange["replies"][:1]
    assert welcome["language"] == "sw"
    assert welcome["status"] in ("sent", "delivered", "undelivered")
    assert "ACHA" in welcome["body"]  # how to stop, in Kiswahili


def test_a_stop_answers_with_the_one_goodbye(text):
    text("JOIN")

    exchange = text("STOP")

    assert exchange["inbound"]["intent"] == "stop"
    assert len(exchange["replies"]) == 1
    assert exchange["replies"][0]["body"]


def test_a_text_to_a_channel_that_is_not_a_console_is_refused(
    organization, member_client, twilio_channel
):
    manager = member_client(organization, Role.MANAGER)

    response = manager.post(
        f"/api/v1/channels/{twilio_channel.pk}/simulate-inbound/",
        {"sender": "0712345678", "body": "JOIN"},
    )

    assert response.status_code == 400
    assert "channel" in response.json()["error"]["fields"]
