"""The real Twilio SDK, through twilio_client(), talks to a local Twilio API, never the internet."""

import base64
import http.client
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from outreach.channels.twilio_client import RedirectingHttpClient, twilio_client
from tests.support.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FakeTwilioApi,
    running_twilio_api,
    twilio_signature,
)

OPENAPI = Path(__file__).resolve().parents[3].parent / "shared" / "twilio" / "twilio_api_v2010.json"
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
SENDER = "+15005550006"
RECIPIENT = "+254700000001"
SERVICE_SID = "MG" + "0" * 32


@pytest.fixture
def api(settings) -> Iterator[FakeTwilioApi]:
    with running_twilio_api() as api:
        settings.TWILIO_BASE_URL = api.base_url
        yield api


@pytest.fixture
def twilio(api: FakeTwilioApi) -> Client:
    return twilio_client(ACCOUNT_SID, AUTH_TOKEN)


def test_the_sdk_sends_through_the_local_api(api, twilio):
    message = twilio.messages.create(
        to=RECIPIENT, from_=SENDER, body="Amani kwa wote", status_callback="https://amani.test/cb"
    )

    assert message.sid.startswith("SM")
    assert len(message.sid) == 34
    assert message.status == "queued"
    assert message.to == RECIPIENT
    assert message.from_ == SENDER
    assert message.num_segments == "1"
    [sent] = api.sent
    assert (sent.account_sid, sent.to, sent.from_, sent.body) == (
        ACCOUNT_SID,
        RECIPIENT,
        SENDER,
        "Amani kwa wote",
    )
    assert sent.sid == message.sid
    assert sent.status_callback == "https://amani.test/cb"
    assert sent.messaging_service_sid is None
    assert sent.params["To"] == RECIPIENT


def test_the_versioned_sdk_path_goes_to_the_local_api_too(api, twilio):
    message = twilio.api.v2010.account.messages.create(to=RECIPIENT, from_=SENDER, body="Salaam")

    assert [sent.sid for sent in api.sent] == [message.sid]


def test_a_messaging_service_send_is_accepted(api, twilio):
    message = twilio.messages.create(to=RECIPIENT, messaging_service_sid=SERVICE_SID, body="Hi")

    assert message.status == "accepted"
    assert message.messaging_service_sid == SERVICE_SID
    assert api.sent[0].messaging_service_sid == SERVICE_SID
    assert api.sent[0].from_ is None


def test_a_failing_number_surfaces_as_a_twilio_rest_exception(api, twilio):
    api.fail_number(RECIPIENT, 21211)

    with pytest.raises(TwilioRestException) as raised:
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    assert (raised.value.status, raised.value.code) == (400, 21211)
    assert api.sent == []


def test_a_rate_limited_send_fails_once_then_the_next_succeeds(api, twilio):
    api.fail_next(1)

    with pytest.raises(TwilioRestException) as raised:
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")
    message = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    assert (raised.value.status, raised.value.code) == (429, 20429)
    assert [sent.sid for sent in api.sent] == [message.sid]


def test_a_server_error_surfaces_with_status_500(api, twilio):
    api.fail_next(1, code=20500, status=500)

    with pytest.raises(TwilioRestException) as raised:
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    assert (raised.value.status, raised.value.code) == (500, 20500)


def test_a_wrong_auth_token_is_refused_with_401(api):
    with pytest.raises(TwilioRestException) as raised:
        twilio_client(ACCOUNT_SID, "not-the-token").messages.create(
            to=RECIPIENT, from_=SENDER, body="Hi"
        )

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert api.sent == []


def test_another_accounts_path_is_refused_with_401(api, twilio):
    api.add_account("AC" + "b2" * 16, "other-token")

    with pytest.raises(TwilioRestException) as raised:
        twilio.api.v2010.accounts("AC" + "b2" * 16).messages.create(
            to=RECIPIENT, from_=SENDER, body="Hi"
        )

    assert (raised.value.status, raised.value.code) == (401, 20003)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"to": "", "from_": SENDER, "body": "Hi"}, 21604),
        ({"to": RECIPIENT, "body": "Hi"}, 21603),
        ({"to": RECIPIENT, "from_": SENDER}, 21602),
    ],
    ids=["no-to", "no-from-nor-service", "no-body"],
)
def test_an_incomplete_send_is_refused_with_twilios_code(api, twilio, fields, code):
    with pytest.raises(TwilioRestException) as raised:
        twilio.messages.create(**fields)

    assert (raised.value.status, raised.value.code) == (400, code)


def test_anything_but_creating_a_message_is_404(api, twilio):
    with pytest.raises(TwilioRestException) as raised:
        twilio.messages("SM" + "d" * 32).fetch()

    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_latency_is_honoured(api, twilio):
    api.latency = 0.2

    started = time.monotonic()
    twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    assert time.monotonic() - started >= 0.2


def test_a_server_slower_than_the_timeout_times_out(api, settings):
    settings.TWILIO_TIMEOUT_SECONDS = 0.1
    api.latency = 0.5

    with pytest.raises(requests.exceptions.Timeout):
        twilio_client(ACCOUNT_SID, AUTH_TOKEN).messages.create(
            to=RECIPIENT, from_=SENDER, body="Hi"
        )


def test_concurrent_sends_are_all_recorded(api, twilio):
    with ThreadPoolExecutor(max_workers=8) as pool:
        sids = list(
            pool.map(
                lambda n: twilio.messages.create(to=f"+2547000{n:05}", from_=SENDER, body="Hi").sid,
                range(40),
            )
        )

    assert sorted(sent.sid for sent in api.sent) == sorted(sids)
    assert len(set(sids)) == 40


def test_reset_forgets_sends_failures_and_latency(api, twilio):
    twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")
    api.fail_number(RECIPIENT, 21610)
    api.fail_next(2)
    api.latency = 5

    api.reset()
    message = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    assert [sent.sid for sent in api.sent] == [message.sid]
    assert api.latency == 0


def test_the_created_message_has_every_key_of_twilios_create_example(api):
    if not OPENAPI.exists():
        pytest.skip(f"Twilio's OpenAPI description is not at {OPENAPI}")
    operation = json.loads(OPENAPI.read_text())["paths"][MESSAGES]["post"]
    example = operation["responses"]["201"]["content"]["application/json"]["examples"]["create"]

    status, body = post_form(
        api,
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        To=RECIPIENT,
        From=SENDER,
        Body="Hi",
    )

    assert status == 201
    assert set(example["value"]) <= set(body)
    assert body["price"] is None
    assert body["error_code"] is None
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{body['sid']}.json"


def test_an_error_body_has_twilios_shape(api):
    api.fail_number(RECIPIENT, 21614)

    status, body = post_form(
        api,
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        To=RECIPIENT,
        From=SENDER,
        Body="Hi",
    )

    assert status == 400
    assert body == {
        "code": 21614,
        "message": body["message"],
        "more_info": "https://www.twilio.com/docs/errors/21614",
        "status": 400,
    }


def test_clients_are_shared_per_credentials_and_base_url(api, settings):
    first = twilio_client(ACCOUNT_SID, AUTH_TOKEN)

    assert twilio_client(ACCOUNT_SID, AUTH_TOKEN) is first
    assert twilio_client(ACCOUNT_SID, "another-token") is not first
    settings.TWILIO_BASE_URL = "http://127.0.0.1:9"
    assert twilio_client(ACCOUNT_SID, AUTH_TOKEN) is not first


def test_without_a_base_url_the_client_talks_to_twilio_with_the_timeout(settings):
    settings.TWILIO_BASE_URL = ""
    settings.TWILIO_TIMEOUT_SECONDS = 7

    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN)

    assert type(client.http_client) is TwilioHttpClient
    assert client.http_client.timeout == 7


def test_the_base_url_replaces_only_scheme_and_host():
    http_client = RedirectingHttpClient("http://127.0.0.1:4010/twilio/", timeout=1)

    assert (
        http_client.redirect("https://api.twilio.com/2010-04-01/Accounts.json?PageSize=5")
        == "http://127.0.0.1:4010/twilio/2010-04-01/Accounts.json?PageSize=5"
    )


def test_twilio_signature_agrees_with_the_request_validator():
    url = "https://amani.test/webhooks/twilio/status?org=pyk"
    params = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered", "To": RECIPIENT}

    signature = twilio_signature(AUTH_TOKEN, url, params)

    assert RequestValidator(AUTH_TOKEN).validate(url, params, signature)
    assert not RequestValidator("another-token").validate(url, params, signature)
    assert not RequestValidator(AUTH_TOKEN).validate(url, {**params, "To": SENDER}, signature)


def post_form(api: FakeTwilioApi, path: str, **fields: str) -> tuple[int, dict]:
    """POST `fields` form-encoded to the fake with the default account's basic auth."""
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    connection = http.client.HTTPConnection(urlsplit(api.base_url).netloc, timeout=5)
    try:
        connection.request(
            "POST",
            path,
            body=urlencode(fields),
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()
