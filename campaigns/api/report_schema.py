"""The report's JSON shape, typed for the OpenAPI schema (what a funder's tool can read).

The report is built by campaigns.selectors.reports; these serializers only describe it, and
a test validates real reports against the schema they produce. A count is null when it is
withheld (it describes fewer than k people, or covers for a cell that does).
"""

from rest_framework import serializers

COUNT_HELP = "Perturbed by at most privacy.max_perturbation; null when withheld."
RATE_HELP = "Computed from the published counts; null when one of them is withheld or 0."


def _count(help_text: str = COUNT_HELP) -> serializers.IntegerField:
    return serializers.IntegerField(allow_null=True, min_value=0, help_text=help_text)


def _rate() -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, min_value=0, max_value=1, help_text=RATE_HELP)


def _money(help_text: str) -> serializers.CharField:
    return serializers.CharField(allow_null=True, help_text=help_text)


class ReportFiguresSerializer(serializers.Serializer):
    targeted = _count(
        "People a wave was made for, once per wave: a fallback to a person's next channel "
        "is not a second target (by channel: on their first channel)."
    )
    sent = _count("Messages handed to the provider (by channel: that channel's addresses).")
    delivered = _count()
    failed = _count()
    undelivered = _count()
    canceled = _count()
    replies = _count("Free replies and poll answers.")
    opt_outs = _count()
    clicks = _count("Clicks on tracked links (nobody is known behind a click).")
    poll_answers = _count()
    segments = _count("SMS segments billed.")
    delivery_rate = _rate()
    reply_rate = _rate()
    opt_out_rate = _rate()
    click_rate = _rate()
    cost = _money("Decimal string; follows the published segments; null when withheld.")
    cost_per_delivered = _money("Decimal string.")


class ReportTotalsSerializer(ReportFiguresSerializer):
    currency = serializers.CharField(allow_null=True, help_text='ISO 4217, or "mixed".')
    fatigue_capped = _count("People left out of a wave by the weekly fatigue cap.")


class ReportRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The cell: a day, a region's name, a language ...")
    suppressed = serializers.BooleanField(help_text="The whole row is withheld.")
    figures = ReportFiguresSerializer()


class ReportWaveRowSerializer(ReportRowSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReportBreakdownSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(
        choices=["language", "region", "age_band", "gender", "channel", "day"]
    )
    rows = ReportRowSerializer(many=True)


class ReportErrorSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["failed", "undelivered"])
    error_code = serializers.CharField(help_text='The provider\'s error code, or "none".')
    messages = _count()
    suppressed = serializers.BooleanField()


class ReportPollOptionSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1)
    name = serializers.CharField()
    answers = _count()
    suppressed = serializers.BooleanField()


class ReportPollSerializer(serializers.Serializer):
    wave_id = serializers.IntegerField()
    wave = serializers.CharField()
    options = ReportPollOptionSerializer(many=True)


class ReportPagePostSerializer(serializers.Serializer):
    """A wave's post on the Facebook Page: the Page's public aggregates, as Meta gives them."""

    wave_id = serializers.IntegerField()
    wave = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["scheduled", "published"], help_text="Scheduled: Meta publishes it at its time."
    )
    provider_post_id = serializers.CharField(help_text="Meta's id of the post.")
    scheduled_for = serializers.DateTimeField(
        allow_null=True, help_text="When it is (or was) published."
    )
    reactions = serializers.IntegerField(
        allow_null=True, min_value=0, help_text="Null when the Page's counts cannot be read."
    )
    comments = serializers.IntegerField(allow_null=True, min_value=0)
    shares = serializers.IntegerField(allow_null=True, min_value=0)
    engagement_read_at = serializers.DateTimeField(
        allow_null=True, help_text="When the counts were last read (hourly, for 30 days)."
    )


class ReportCampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    election_date = serializers.DateField(allow_null=True)
    timezone = serializers.CharField(help_text="The campaign's days are local days here.")
    organization = serializers.CharField()


class ReportWaveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReportPeriodSerializer(serializers.Serializer):
    # "from" is a Python keyword: the fields are named in get_fields.
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.DateField(allow_null=True, help_text="Campaign-local day."),
            "to": serializers.DateField(allow_null=True, help_text="Campaign-local day."),
        }


class ReportPrivacySerializer(serializers.Serializer):
    k = serializers.IntegerField(help_text="No published figure describes fewer people.")
    method = serializers.ChoiceField(
        choices=["cell-key", "none"], help_text='"none": staff asked for exact figures.'
    )
    max_perturbation = serializers.IntegerField(
        help_text="A published count is its true value plus or minus at most this."
    )


class CampaignReportBodySerializer(serializers.Serializer):
    """A campaign's (or one wave's) report: aggregates only."""

    campaign = ReportCampaignSerializer()
    wave = ReportWaveSerializer(allow_null=True)
    period = ReportPeriodSerializer()
    generated_at = serializers.DateTimeField()
    k = serializers.IntegerField()
    suppressed = serializers.BooleanField(help_text="False only when staff asked for exact ones.")
    privacy = ReportPrivacySerializer()
    totals = ReportTotalsSerializer()
    breakdown = ReportBreakdownSerializer(allow_null=True, help_text="With `by` only.")
    errors = ReportErrorSerializer(many=True)
    series = ReportRowSerializer(many=True, help_text="One row per campaign-local day.")
    waves = ReportWaveRowSerializer(many=True)
    polls = ReportPollSerializer(many=True)
    page_posts = ReportPagePostSerializer(
        many=True,
        help_text="The waves' Facebook Page posts: public counts of a Page, naming nobody, "
        "so shown as given (not perturbed).",
    )
