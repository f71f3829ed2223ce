from .channels import Channel, ChannelKind, ChannelPrice
from .health import ServiceHeartbeat
from .messages import (
    InboundIntent,
    InboundMessage,
    Keyword,
    MessageStatusEvent,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    SystemReply,
)
from .organizations import Membership, Organization, OrganizationOwned, Role
from .subscribers import (
    AgeBand,
    AnonymousTally,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    Gender,
    LanguageSource,
    OnboardingStep,
    Region,
    Subscriber,
)
from .users import User

__all__ = [
    "AgeBand",
    "AnonymousTally",
    "Channel",
    "ChannelKind",
    "ChannelPrice",
    "ConsentEvent",
    "ConsentKind",
    "ConsentSource",
    "ConsentStatus",
    "Gender",
    "InboundIntent",
    "InboundMessage",
    "Keyword",
    "LanguageSource",
    "Membership",
    "MessageStatusEvent",
    "OnboardingStep",
    "Organization",
    "OrganizationOwned",
    "OutboundKind",
    "OutboundMessage",
    "OutboundStatus",
    "Region",
    "Role",
    "ServiceHeartbeat",
    "Subscriber",
    "SystemReply",
    "User",
]
