"""Status reports wait in an inbox and are applied in batches: once each, only forward."""

import json
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from outreach.channels.twilio_sms import STATUS_OF_TWILIO
from outreach.models import (
    ConsentStatus,
    MessageStatusEvent,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    StatusReportInbox,
)
from outreach.services.dispatch import claim_batch, claimed_messages
from outreach.services.outbound import messages_record_sent, messages_take_in_flight, transmit
from outreach.services.status import (
    ORPHAN_AFTER,
    UNKNOWN,
    _apply_sql,
    status_receive,
    status_reports_apply,
    status_reports_apply_all,
)
from tests.support.people import make_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed_over(twilio_channel):
    def make(sid: str) -> OutboundMessage:
        return OutboundMessage.objects.create(
            organization_id=twilio_channel.organization_id,
            channel=twilio_channel,
            to_address="+254712000001",
            kind=OutboundKind.WAVE,
            body="Amani",
            status=OutboundStatus.SENDING,
            provider_message_id=sid,
            wave_id=5,
        )

    return make


def receive(channel, sid: str, status: str, error_code: str = "") -> None:
    status_receive(
        channel=channel,
        provider_message_id=sid,
        provider_status=status,
        status=STATUS_OF_TWILIO.get(status, UNKNOWN),  # as the Twilio webhook translates it
        error_code=error_code,
    )


def test_a_report_waits_in_the_inbox_until_it_is_applied(twilio_channel, handed_over):
    message = handed_over("SMa")

    receive(twilio_channel, "SMa", "delivered")

    message.refresh_from_db()
    assert message.status == OutboundStatus.SENDING
    assert StatusReportInbox.objects.count() == 1
    assert status_reports_apply_all() == 1
    message.refresh_from_db()
    assert message.status == OutboundStatus.DELIVERED
    assert not StatusReportInbox.objects.exists()


def test_a_batch_moves_each_message_to_the_furthest_status_it_reports(twilio_channel, handed_over):
    first, second = handed_over("SMb"), handed_over("SMc")
    for sid, status in [("SMb", "sent"), ("SMb", "delivered"), ("SMc", "undelivered")]:
        receive(twilio_channel, sid, status, "30003" if status == "undelivered" else "")

    status_reports_apply()

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == OutboundStatus.DELIVERED
    assert (second.status, second.error_code) == (OutboundStatus.UNDELIVERED, "30003")
    assert MessageStatusEvent.objects.count() == 3


def test_a_repeated_report_is_stored_once_even_within_one_batch(twilio_channel, handed_over):
    handed_over("SMd")
    for _ in range(3):
        receive(twilio_channel, "SMd", "delivered")

    assert status_reports_apply() == 3

    assert MessageStatusEvent.objects.filter(provider_message_id="SMd").count() == 1


def test_a_late_sent_in_a_later_batch_never_undoes_delivered(twilio_channel, handed_over):
    message = handed_over("SMe")
    receive(twilio_channel, "SMe", "delivered")
    status_reports_apply()

    receive(twilio_channel, "SMe", "sent")
    status_reports_apply()

    message.refresh_from_db()
    assert message.status == OutboundStatus.DELIVERED


def test_a_report_for_an_unknown_message_waits_for_it_then_is_kept_and_logged(
    twilio_channel, caplog
):
    receive(twilio_channel, "SMnobody", "delivered")

    status_reports_apply()
    waiting = StatusReportInbox.objects.count()
    StatusReportInbox.objects.update(received_at=timezone.now() - ORPHAN_AFTER * 2)
    status_reports_apply()

    assert waiting == 1
    assert MessageStatusEvent.objects.get().message_id is None
    assert "unknown messages" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_report_applied_while_its_message_is_being_recorded_is_attached(
    twilio_channel, twilio_api
):
    """The provider's callback can beat the worker's record statement to the commit."""
    person = make_subscriber(
        organization_id=twilio_channel.organization_id,
        channel=twilio_channel,
        address="+254712000009",
        consent_status=ConsentStatus.OPTED_IN,
    )
    OutboundMessage.objects.create(
        organization_id=twilio_channel.organization_id,
        channel=twilio_channel,
        subscriber=person,
        to_address=person.address,
        kind=OutboundKind.WAVE,
        body="Amani",
        wave_id=5,
    )
    claim = claim_batch(channel_id=twilio_channel.pk, limit=1)
    (message,) = messages_take_in_flight(claimed_messages(twilio_channel, claim))
    result = transmit(message)
    recording, applied = threading.Event(), threading.Event()

    def record_slowly() -> None:
        # The worker's record statement runs, then its commit waits until the report is in.
        try:
            with transaction.atomic():
                messages_record_sent([(message, result)])
                recording.set()
                applied.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=record_slowly)
    worker.start()
    recording.wait(10)
    receive(twilio_channel, result.provider_message_id, "delivered")
    status_reports_apply()
    applied.set()
    worker.join()
    status_reports_apply_all()  # the next apply: the beat's, or the next callback's

    message.refresh_from_db()
    assert message.status == OutboundStatus.DELIVERED
    assert MessageStatusEvent.objects.get().message_id == message.pk


def test_a_batch_takes_at_most_its_limit(twilio_channel, handed_over):
    for n in range(5):
        handed_over(f"SMf{n}")
        receive(twilio_channel, f"SMf{n}", "delivered")

    assert status_reports_apply(limit=2) == 2
    assert StatusReportInbox.objects.count() == 3


def test_delivered_and_read_in_one_batch_end_at_read(twilio_channel, handed_over):
    message = handed_over("SMg")
    receive(twilio_channel, "SMg", "read")
    receive(twilio_channel, "SMg", "delivered")

    status_reports_apply()

    message.refresh_from_db()
    assert message.status == OutboundStatus.READ


@pytest.mark.parametrize(
    ("first", "then"), [("delivered", "undelivered"), ("undelivered", "delivered")]
)
def test_of_two_final_reports_in_one_batch_the_last_received_stands(
    twilio_channel, handed_over, first, then
):
    message = handed_over("SMt")
    now = timezone.now()
    with time_machine.travel(now + timedelta(seconds=5), tick=False):  # stored first, came last
        receive(twilio_channel, "SMt", then, "30003" if then == "undelivered" else "")
    with time_machine.travel(now, tick=False):
        receive(twilio_channel, "SMt", first, "30003" if first == "undelivered" else "")

    status_reports_apply()

    message.refresh_from_db()
    assert message.status == then


def test_a_final_report_in_a_later_batch_changes_nothing(twilio_channel, handed_over):
    message = handed_over("SMu")
    receive(twilio_channel, "SMu", "delivered")
    status_reports_apply()

    receive(twilio_channel, "SMu", "undelivered", "30003")
    status_reports_apply()

    message.refresh_from_db()
    assert message.status == OutboundStatus.DELIVERED


def test_a_batch_finds_its_messages_by_index_though_statistics_predate_every_send(
    twilio_channel,
):
    """Fan-out refreshes the statistics while every provider id is still empty; the batch
    that applies the receipts must still look each message up by index, not scan the table
    once per report (a million-message wave's inbox would stall until autovacuum)."""
    OutboundMessage.objects.bulk_create(
        OutboundMessage(
            organization_id=twilio_channel.organization_id,
            channel=twilio_channel,
            to_address=f"+2547120{n:05d}",
            kind=OutboundKind.WAVE,
            body="Amani",
            status=OutboundStatus.QUEUED,
            wave_id=5,
        )
        for n in range(20_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE outreach_outboundmessage")  # as fan-out does
    sent = list(OutboundMessage.objects.order_by("pk")[:2000])
    for message in sent:
        message.provider_message_id, message.status = f"SM{message.pk}", OutboundStatus.SENDING
    OutboundMessage.objects.bulk_update(sent, ["provider_message_id", "status"])
    for message in sent:
        receive(twilio_channel, message.provider_message_id, "delivered")

    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (COSTS OFF) " + _apply_sql(), {"limit": 2000, "orphan_after": ORPHAN_AFTER}
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    probe = plan[plan.index("SubPlan") :].split("CTE stored")[0]
    assert "Seq Scan on outreach_outboundmessage" not in probe, plan
    assert status_reports_apply() == 2000


@pytest.mark.django_db(transaction=True)
def test_a_callback_stores_its_report_in_one_statement_committed_at_once(twilio_channel):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as statements:
        status_receive(
            channel=twilio_channel,
            provider_message_id="SMone",
            provider_status="delivered",
            status=OutboundStatus.DELIVERED,
            raw={"MessageStatus": "delivered"},
        )

    # One round trip to the database, not BEGIN, SET, INSERT and COMMIT (the tests then
    # apply the inbox in-process, in statements of its own) …
    first = statements.captured_queries[0]["sql"]
    assert first.startswith("SET LOCAL synchronous_commit TO OFF; INSERT INTO")
    # … and the report is there for every other connection at once, as it was sent.
    with connection.copy().cursor() as other:
        other.execute(
            "SELECT provider_status, status, raw FROM outreach_statusreportinbox"
            " WHERE provider_message_id = 'SMone'"
        )
        [(provider_status, status, raw)] = other.fetchall()
    assert (provider_status, status) == ("delivered", "delivered")
    assert json.loads(raw) == {"MessageStatus": "delivered"}


def test_inside_a_callers_transaction_a_report_rolls_back_with_it(twilio_channel):
    def receive_then_give_up() -> None:
        with transaction.atomic():
            receive(twilio_channel, "SMrolled", "delivered")
            raise RuntimeError("the caller gives up")

    with pytest.raises(RuntimeError):
        receive_then_give_up()

    assert not StatusReportInbox.objects.filter(provider_message_id="SMrolled").exists()
