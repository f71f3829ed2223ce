"""How the console writes values for people: durations, channel kinds and families, age bands.

One place for the words, so every page writes "2 h 5 min", "Twilio SMS" or "18-24" alike.
"""

from django.utils.translation import gettext as _

from outreach.models import AgeBand, ChannelKind

# A message's kind of channel in the library's renderings, by its brand name (not translated).
CHANNEL_FAMILY_NAMES = {
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "messenger": "Messenger",
}


def duration_words(seconds: float) -> str:
    """A short duration as people read it: "45 s", "4 min", "2 h 5 min"."""
    whole = int(seconds)
    if whole < 60:
        return _("%(n)d s") % {"n": whole}
    if whole < 3600:
        return _("%(n)d min") % {"n": whole // 60}
    return _("%(h)d h %(m)d min") % {"h": whole // 3600, "m": whole % 3600 // 60}


def kind_label(kind: str) -> str:
    """A channel kind in words (its code when the server no longer knows it)."""
    return str(ChannelKind(kind).label) if kind in ChannelKind.values else kind


def channel_family_name(family: str) -> str:
    """A family of channels (sms, whatsapp …) by its name; an unknown one as it is written."""
    return CHANNEL_FAMILY_NAMES.get(family, family)


def age_band_label(band: str) -> str:
    """An age band as people write it ("18-24"); empty for none, its code if unknown."""
    return str(AgeBand(band).label) if band in AgeBand.values else band
