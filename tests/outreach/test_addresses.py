"""Phone numbers become E.164, whatever way a young person or a paper form wrote them."""

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from outreach.addresses import normalize_phone_number, provider_address
from outreach.errors import InvalidInput

KENYAN_MOBILE = st.from_regex(r"7[0-9]{8}", fullmatch=True).filter(
    lambda n: phonenumbers.is_valid_number(phonenumbers.parse("+254" + n))
)
SEPARATORS = st.sampled_from(["", " ", "-", "."])


@given(national=KENYAN_MOBILE, separator=SEPARATORS)
def test_every_way_of_writing_a_kenyan_mobile_gives_one_e164(national, separator):
    grouped = separator.join([national[:3], national[3:6], national[6:]])
    spellings = [f"0{grouped}", f"+254{separator}{grouped}", f"254{grouped}", f"(0){grouped}"]

    results = {normalize_phone_number(spelling, region="KE") for spelling in spellings}

    assert results == {f"+254{national}"}


@given(national=KENYAN_MOBILE)
def test_normalising_is_idempotent(national):
    once = normalize_phone_number(f"0{national}", region="KE")

    assert normalize_phone_number(once, region="KE") == once
    assert normalize_phone_number(once, region="US") == once  # E.164 ignores the default region


@given(text=st.text(max_size=30))
def test_it_never_raises_anything_but_invalid_input(text):
    try:
        result = normalize_phone_number(text, region="KE")
    except InvalidInput:
        return
    assert result.startswith("+")


def test_a_number_from_another_country_keeps_its_country():
    assert normalize_phone_number("+256 772 123456", region="KE") == "+256772123456"


def test_a_landline_is_refused_where_mobiles_are_required():
    with pytest.raises(InvalidInput, match="not a mobile"):
        normalize_phone_number("+254 20 2222222", region="KE", mobile_only=True)


@pytest.mark.parametrize("raw", ["", "hello", "123", "+254 12"])
def test_garbage_is_refused_with_the_field_named(raw):
    with pytest.raises(InvalidInput) as error:
        normalize_phone_number(raw, region="KE", field="sender")
    assert error.value.field == "sender"


def test_provider_addresses_keep_short_codes_as_they_are():
    assert provider_address("22141", region="KE") == "22141"
    assert provider_address("+254712345678", region="KE") == "+254712345678"
