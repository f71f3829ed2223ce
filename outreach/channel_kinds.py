"""What each kind of channel is, as data: its address scheme, limits, window and pricing unit.

One row per kind. The adapters (outreach/channels/) speak to the providers; this table is
what the rest of Amani needs to know about a kind without importing a provider's module:
how its addresses are written, how long one message may be, whether a bulk message needs
the person's 24-hour window (or, for WhatsApp, an approved template outside it), what a
message costs in, and the provider's own default throughput.
"""

from dataclasses import dataclass, replace


class Scheme:
    """How an address is written: `tel:+254712345678`, `telegram:123456789`, …"""

    TEL = "tel"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    MESSENGER = "messenger"

    ALL = (TEL, WHATSAPP, TELEGRAM, MESSENGER)
    # Schemes whose values are E.164 numbers: one number is one person on all of them.
    PHONE = (TEL, WHATSAPP)


class PricingUnit:
    SEGMENT = "segment"  # SMS: each 160 GSM-7 (70 UCS-2) characters
    CONVERSATION = "conversation"  # WhatsApp: per template message opening a conversation
    FREE = "free"  # Telegram, Messenger


@dataclass(frozen=True)
class ChannelKindSpec:
    label: str
    scheme: str
    max_characters: int
    pricing_unit: str
    # Messages per second the provider allows one sender by default.
    default_rate: int
    # Hours after the person's last message during which anything may be sent; None: always.
    window_hours: int | None = None
    # Outside the window an approved template may still be sent (WhatsApp).
    templates_outside_window: bool = False
    # Counted in SMS segments (encoding and length decide the cost).
    counts_segments: bool = False
    # Records, never sends (the demo and tests).
    console: bool = False
    # Can publish posts to a Facebook Page (a Messenger channel's page token).
    page_posts: bool = False


SMS = ChannelKindSpec(
    "SMS", Scheme.TEL, 1600, PricingUnit.SEGMENT, default_rate=10, counts_segments=True
)
WHATSAPP = ChannelKindSpec(
    "WhatsApp",
    Scheme.WHATSAPP,
    4096,
    PricingUnit.CONVERSATION,
    default_rate=80,
    window_hours=24,
    templates_outside_window=True,
)
TELEGRAM = ChannelKindSpec("Telegram", Scheme.TELEGRAM, 4096, PricingUnit.FREE, default_rate=30)
MESSENGER = ChannelKindSpec(
    "Messenger",
    Scheme.MESSENGER,
    2000,
    PricingUnit.FREE,
    default_rate=40,
    window_hours=24,
    page_posts=True,
)


def _console(spec: ChannelKindSpec) -> ChannelKindSpec:
    return replace(spec, label=f"Console {spec.label} (records, never sends)", console=True)


# Keys are ChannelKind values (outreach.models.channels).
KINDS: dict[str, ChannelKindSpec] = {
    "twilio_sms": replace(SMS, label="Twilio SMS"),
    "twilio_whatsapp": replace(WHATSAPP, label="WhatsApp through Twilio"),
    "whatsapp_cloud": replace(WHATSAPP, label="WhatsApp Cloud API (Meta)"),
    "telegram": replace(TELEGRAM, label="Telegram bot"),
    "messenger": replace(MESSENGER, label="Facebook Messenger (Page)"),
    "console": replace(SMS, label="Console (records, never sends)", console=True),
    "console_whatsapp": _console(WHATSAPP),
    "console_telegram": _console(TELEGRAM),
    "console_messenger": _console(MESSENGER),
}


def spec_of(kind: str) -> ChannelKindSpec:
    return KINDS[kind]


def kinds_with_scheme(scheme: str) -> list[str]:
    return [kind for kind, spec in KINDS.items() if spec.scheme == scheme]


# Kinds whose provider is told per message where to report its status (StatusCallback).
TWILIO_KINDS = ("twilio_sms", "twilio_whatsapp")
