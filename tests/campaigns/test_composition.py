"""Composing a wave's variants: placeholders, worst-case segments, cost and language checks."""

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.composition import (
    PLACEHOLDERS,
    LanguageCheck,
    Placeholder,
    PlaceholderError,
    VariantStats,
    check_language,
    estimate_cost,
    find_placeholders,
    message_as_sent,
    opt_out_footer,
    render_for_length,
    validate_placeholders,
    variant_stats,
)
from campaigns.links import short_link_length, short_link_prefix

CAMPAIGN = "Amani 2027"
LONGEST_REGION = "Elgeyo-Marakwet"  # the longest Kenyan county name
SWAHILI = "Amani ianze na mimi. Piga kura kwa amani, ukubali matokeo."
ENGLISH = "Peace starts with me. Vote in peace and accept the results."
USD = Decimal("0.0085")
text_without_braces = st.text(alphabet=st.characters(exclude_characters="{}"))


def stats(
    text: str,
    *,
    language: str = "sw",
    price: Decimal | None = USD,
    currency: str | None = "USD",
    max_segments: int = 10,
) -> VariantStats:
    return variant_stats(
        text,
        declared_language=language,
        campaign_name=CAMPAIGN,
        longest_region=LONGEST_REGION,
        price_per_segment=price,
        currency=currency,
        max_segments=max_segments,
    )


def render(text: str) -> str:
    return render_for_length(text, campaign_name=CAMPAIGN, longest_region=LONGEST_REGION)


# Placeholders


def test_the_three_placeholders_are_region_campaign_and_link():
    assert PLACEHOLDERS == ("region", "campaign", "link")


def test_placeholders_are_found_in_order_with_their_arguments_and_positions():
    text = "{campaign}: amani kwa {region}. Soma {link:https://x.org/a}"

    assert find_placeholders(text) == [
        Placeholder("campaign", None, start=0, end=10),
        Placeholder("region", None, start=22, end=30),
        Placeholder("link", "https://x.org/a", start=37, end=59),
    ]


def test_a_placeholder_spans_exactly_what_was_written():
    text = "Soma {link:http://x.org/a?b=1#c} sasa"

    (link,) = find_placeholders(text)

    assert text[link.start : link.end] == link.source == "{link:http://x.org/a?b=1#c}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        SWAHILI,
        "{campaign}: amani kwa {region}. Soma {link:https://amani.ke/amani}",
        "{region}{region}{campaign}",
        "Soma {link:http://example.org:8080/path?q=1}",
        "Tumia {{region}} kama ilivyo",
        "{{{region}}}",
    ],
)
def test_valid_templates_pass_validation(text):
    validate_placeholders(text)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Habari {name}", "Unknown placeholder {name}: use {region}, {campaign} or {link:URL}"),
        ("Habari {Region}", "Unknown placeholder {Region}"),
        ("Habari { region }", "Unknown placeholder { region }"),
        ("Habari {}", "Unknown placeholder {}"),
        ("Soma {link}", "{link} needs a URL"),
        ("Soma {link:}", "{link:} needs a URL"),
        ("Soma {link:ftp://x.org/a}", "{link:ftp://x.org/a} needs an http:// or https:// URL"),
        ("Soma {link:x.org/a}", "{link:x.org/a} needs an http:// or https:// URL"),
        ("Soma {link:https://}", "{link:https://} needs an http:// or https:// URL"),
        ("Soma {link:https://x.org/a b}", "{link:https://x.org/a b} needs an http"),
        ("Amani {region:Nairobi}", "{region:Nairobi} takes no argument"),
        ("Amani {campaign:x}", "{campaign:x} takes no argument"),
        ("a { b", "Unclosed { in '{ b'"),
        ("a {region b", "Unclosed { in '{region b'"),
        ("}", "Stray } at character 1"),
        ("amani }", "Stray } at character 7"),
        ("{region}}", "Stray } at character 9"),
        ("Soma {link:{region}}", "Nested braces in {link:{"),
    ],
)
def test_every_refusal_names_the_placeholder(text, named):
    with pytest.raises(PlaceholderError, match=re.escape(named)):
        validate_placeholders(text)


def test_a_placeholder_error_is_a_value_error():
    assert issubclass(PlaceholderError, ValueError)


def test_doubled_braces_are_literal_braces_not_placeholders():
    text = "Tumia {{region}} kama ilivyo, na }} au {{ peke yake"

    assert find_placeholders(text) == []
    assert render(text) == "Tumia {region} kama ilivyo, na } au { peke yake"


def test_doubled_braces_around_a_placeholder_keep_one_brace_each_side():
    assert render("{{{region}}}") == "{" + LONGEST_REGION + "}"


def test_rendering_refuses_an_invalid_template():
    with pytest.raises(PlaceholderError, match=re.escape("{name}")):
        render("Habari {name}")


@given(text_without_braces)
def test_text_without_braces_always_validates_and_renders_unchanged(text):
    validate_placeholders(text)

    assert find_placeholders(text) == []
    assert render(text) == text


@given(st.text())
def test_any_text_with_its_braces_doubled_renders_back_to_itself(text):
    template = text.replace("{", "{{").replace("}", "}}")

    validate_placeholders(template)

    assert render(template) == text


# Worst-case rendering


def test_region_and_campaign_render_as_the_names_given():
    assert render("{campaign}: amani kwa {region}") == f"{CAMPAIGN}: amani kwa {LONGEST_REGION}"


def test_a_link_renders_as_a_realistic_short_link_of_short_link_length():
    rendered = render("{link:https://example.org/very/long/path}")

    assert len(rendered) == short_link_length()
    assert rendered.startswith(short_link_prefix())


# Segments


def test_plain_swahili_is_gsm7_in_one_segment():
    result = stats(SWAHILI)

    assert (result.encoding, result.characters, result.units, result.segments) == (
        "GSM-7",
        len(SWAHILI),
        len(SWAHILI),
        1,
    )


@pytest.mark.parametrize(
    ("text", "characters", "units", "segments"),
    [
        ("€" * 80, 80, 160, 1),
        ("€" * 81, 81, 162, 2),
        ("{{" * 80, 80, 160, 1),
        ("{{" * 81, 81, 162, 2),
        ("}}" * 81, 81, 162, 2),
        ("€" * 153, 153, 306, 2),
        ("€" * 153 + "a", 154, 307, 3),
    ],
)
def test_gsm7_extension_characters_count_double(text, characters, units, segments):
    result = stats(text)

    assert result.encoding == "GSM-7"
    assert (result.characters, result.units, result.segments) == (characters, units, segments)


def test_a_single_emoji_makes_the_text_ucs2():
    assert stats(SWAHILI + " ✌").encoding == "UCS-2"


def test_an_emoji_outside_the_basic_plane_counts_two_units():
    result = stats("Amani 🙂")

    assert (result.encoding, result.characters, result.units) == ("UCS-2", 7, 8)


@pytest.mark.parametrize(
    ("units", "segments"),
    [(70, 1), (71, 2), (134, 2), (135, 3)],
)
def test_ucs2_fits_70_units_in_one_segment_then_67_per_segment(units, segments):
    result = stats("✌" + "a" * (units - 1))

    assert (result.encoding, result.units, result.segments) == ("UCS-2", units, segments)


def test_a_link_counts_as_short_link_length_not_the_length_of_its_url():
    url = "https://example.org/very/long/path"
    assert len(url) != short_link_length()

    result = stats(f"Soma zaidi: {{link:{url}}}")

    assert result.characters == len("Soma zaidi: ") + short_link_length()


def test_a_message_with_a_very_long_url_still_fits_one_segment():
    text = "a" * (160 - short_link_length()) + "{link:https://example.org/" + "p" * 200 + "}"

    assert stats(text).segments == 1


def test_region_counts_as_the_longest_region_name():
    result = stats("Amani kwa {region}")

    assert result.characters == len("Amani kwa ") + len(LONGEST_REGION)


def test_a_long_region_name_can_push_a_message_into_a_second_segment():
    text = "a" * (160 - len("{region}")) + "{region}"

    assert len(text) == 160
    assert stats(text).segments == 2


def test_variant_stats_refuse_an_invalid_template():
    with pytest.raises(PlaceholderError, match=re.escape("{link}")):
        stats("Soma {link}")


# The message as sent


def sent(text: str, *, language: str = "fr", with_footer: bool = True) -> str:
    return message_as_sent(
        text,
        language=language,
        campaign_name=CAMPAIGN,
        region="Kisumu",
        link=lambda url: "https://amani.ke/l/abc1234",
        with_footer=with_footer,
    )


def test_the_sent_message_ends_with_the_opt_out_footer_in_its_language():
    assert sent("Votez dans le calme.") == "Votez dans le calme. Répondez STOP pour arrêter."
    assert sent("Amani.", language="sw") == "Amani. Jibu STOP kujiondoa."
    assert sent("Votez dans le calme.", with_footer=False) == "Votez dans le calme."


def test_a_language_without_a_footer_of_its_own_gets_the_english_one():
    assert opt_out_footer("so") == opt_out_footer("en") == "Reply STOP to opt out."


def test_a_french_body_in_gsm7_is_counted_as_the_ucs2_message_its_footer_makes_it():
    body = "Votez dans le calme a {region}, la paix commence par vous."

    alone = variant_stats(
        body,
        declared_language="fr",
        campaign_name=CAMPAIGN,
        longest_region=LONGEST_REGION,
        price_per_segment=USD,
        currency="USD",
    )
    with_footer = variant_stats(
        body,
        declared_language="fr",
        campaign_name=CAMPAIGN,
        longest_region=LONGEST_REGION,
        price_per_segment=USD,
        currency="USD",
        with_footer=True,
    )

    assert (alone.encoding, alone.segments) == ("GSM-7", 1)
    assert (with_footer.encoding, with_footer.segments) == ("UCS-2", 2)
    assert with_footer.cost_per_message == USD * 2


def test_placeholders_in_doubled_braces_are_sent_as_written_not_filled():
    text = "{{campaign}} is {campaign}, {{region}} is {region}: {link:https://x.org}"

    assert sent(text, with_footer=False) == (
        "{campaign} is Amani 2027, {region} is Kisumu: https://amani.ke/l/abc1234"
    )


# Limits


def test_a_variant_is_over_limit_only_above_max_segments():
    assert stats("a" * 306, max_segments=2).over_limit is False
    assert stats("a" * 307, max_segments=2).over_limit is True


def test_the_default_limit_is_ten_segments():
    assert stats("a" * 153 * 10).over_limit is False
    assert stats("a" * (153 * 10 + 1)).over_limit is True


# Cost


def test_cost_per_message_is_price_per_segment_times_segments_to_four_places():
    result = stats("a" * 161)

    assert result.segments == 2
    assert result.cost_per_message == Decimal("0.0170")
    assert str(result.cost_per_message) == "0.0170"
    assert result.currency == "USD"


def test_an_unknown_price_gives_no_cost_and_no_currency():
    result = stats(SWAHILI, price=None, currency=None)

    assert (result.cost_per_message, result.currency) == (None, None)


def test_a_price_without_a_currency_is_refused():
    with pytest.raises(ValueError, match="currency"):
        stats(SWAHILI, currency=None)


def test_the_estimate_sums_cost_per_message_times_audience_over_languages():
    english = stats(ENGLISH, language="en")  # 1 segment: 0.0085
    swahili = stats("a" * 161)  # 2 segments: 0.0170

    total = estimate_cost({"en": (english, 100), "sw": (swahili, 250)})

    assert total == (Decimal("5.1000"), "USD")  # 0.85 + 4.25


def test_the_estimate_is_unknown_when_a_reached_variant_has_no_price():
    english = stats(ENGLISH, language="en")
    unpriced = stats(SWAHILI, price=None, currency=None)

    assert estimate_cost({"en": (english, 100), "sw": (unpriced, 1)}) == (None, None)


def test_the_estimate_ignores_an_unpriced_variant_nobody_receives():
    english = stats(ENGLISH, language="en")
    unpriced = stats(SWAHILI, price=None, currency=None)

    assert estimate_cost({"en": (english, 100), "sw": (unpriced, 0)}) == (Decimal("0.85"), "USD")


def test_the_estimate_refuses_mixed_currencies():
    dollars = stats(ENGLISH, language="en")
    shillings = stats(SWAHILI, price=Decimal("1.10"), currency="KES")

    with pytest.raises(ValueError, match="different currencies"):
        estimate_cost({"en": (dollars, 100), "sw": (shillings, 100)})


def test_the_estimate_for_nobody_is_zero():
    assert estimate_cost({}) == (Decimal(0), None)


# Language check


def test_english_declared_as_swahili_warns_naming_english():
    check = check_language(ENGLISH, "sw")

    assert (check.declared, check.detected, check.matches) == ("sw", "en", False)
    assert check.confidence is not None
    assert check.confidence >= 0.8
    assert check.warning == "This text looks like English (1.00), not Kiswahili (sw)."


def test_swahili_declared_as_swahili_does_not_warn():
    check = check_language(SWAHILI, "sw")

    assert (check.detected, check.matches, check.warning) == ("sw", True, None)


def test_two_words_are_not_judged():
    assert check_language("Amani kwanza", "en") == LanguageCheck(
        declared="en", detected=None, confidence=None, matches=None, warning=None
    )


def test_placeholders_are_ignored_when_detecting():
    # langdetect alone reads "region campaign link" and answers Indonesian.
    check = check_language("Karibu {region} {campaign} {link:https://example.org/peace}", "sw")

    assert (check.detected, check.matches, check.warning) == (None, None, None)


def test_a_text_that_is_mostly_a_url_is_not_judged_as_english():
    # langdetect alone reads the English words in the address and answers English.
    check = check_language("Soma zaidi: www.peace-starts-with-everyone-who-votes.org", "sw")

    assert (check.detected, check.matches, check.warning) == (None, None, None)


def test_swahili_with_placeholders_and_a_link_still_matches():
    text = "Vijana wa {region}, tuchague amani. Soma zaidi: {link:https://example.org/read-more}"

    assert check_language(text, "sw").matches is True


def test_a_language_without_an_english_name_is_named_by_its_code():
    check = check_language(ENGLISH, "luo")

    assert check.warning == "This text looks like English (1.00), not luo (luo)."


def test_variant_stats_check_the_template_not_its_rendering():
    result = stats(ENGLISH, language="sw")

    assert result.language == check_language(ENGLISH, "sw")
    assert result.language.matches is False
