"""Who may do what: one table of actions and the roles allowed each.

The API's permission class, the console's views and menus, the services' own
checks (the two-person rule, the blackout approval) and the Django admin's
scoping all ask here, so a role means the same thing behind every door.
Funders appear only where an action names them: they see aggregate reports.
"""

from enum import StrEnum

from outreach.models.organizations import STAFF_ROLES, Role

ADMINS: frozenset[str] = frozenset({Role.ADMIN})
MANAGERS: frozenset[str] = frozenset({Role.ADMIN, Role.MANAGER})
REVIEWERS: frozenset[str] = frozenset({Role.ADMIN, Role.REVIEWER})
REPORT_READERS: frozenset[str] = STAFF_ROLES | {Role.FUNDER}


class Action(StrEnum):
    SEE_AUDIENCE = "audience.see"  # subscribers (numbers masked), segments, regions
    SEE_FULL_NUMBERS = "audience.see_full_numbers"
    CHANGE_AUDIENCE = "audience.change"  # import, consent, erasure, segments, regions
    SEE_CAMPAIGNS = "campaigns.see"  # campaigns, waves, their progress
    COMPOSE = "waves.compose"  # campaigns and waves: create, edit, submit, test-send
    RUN_WAVES = "waves.run"  # schedule, pause, resume, cancel
    REVIEW = "waves.review"  # approve or request changes (never one's own wave)
    COMMENT = "waves.comment"
    APPROVE_BLACKOUT = "waves.approve_blackout"
    SEE_INBOX = "inbox.see"
    REPLY = "inbox.reply"
    SIMULATE = "channels.simulate"  # text as a subscriber through a console channel
    SEE_CHANNELS = "channels.see"
    SEE_TEMPLATES = "templates.see"
    SYNC_TEMPLATES = "templates.sync"  # ask the provider for a channel's templates now
    SEE_KEYWORDS = "keywords.see"
    CHANGE_KEYWORDS = "keywords.change"  # the organization's own keywords
    SEE_ORGANIZATION = "organization.see"
    SEE_PRESETS = "presets.see"  # the country presets this server holds (not personal)
    SETUP = "setup.change"  # channels, members and roles, the organization's settings
    SEE_MEMBERS = "members.see"
    SEE_REPORTS = "reports.see"  # aggregates only
    SEE_LIBRARY = "library.see"  # the networks' shared templates, lexicons, notices
    SHARE_TEMPLATES = "library.share"  # write and propose templates and lexicon terms
    REVIEW_LIBRARY = "library.review"  # as the organization's focal point in a network
    MANAGE_NETWORK = "network.manage"  # create, invite, join, leave, name the focal point
    EXCHANGE_BUNDLES = "network.bundles"  # export and import signed bundles


ALLOWED: dict[Action, frozenset[str]] = {
    Action.SEE_AUDIENCE: STAFF_ROLES,
    Action.SEE_FULL_NUMBERS: MANAGERS,
    Action.CHANGE_AUDIENCE: MANAGERS,
    Action.SEE_CAMPAIGNS: STAFF_ROLES,
    Action.COMPOSE: MANAGERS,
    Action.RUN_WAVES: MANAGERS,
    Action.REVIEW: REVIEWERS,
    Action.COMMENT: STAFF_ROLES,
    Action.APPROVE_BLACKOUT: ADMINS,
    Action.SEE_INBOX: STAFF_ROLES,
    Action.REPLY: MANAGERS,
    Action.SIMULATE: MANAGERS,
    Action.SEE_CHANNELS: MANAGERS,
    Action.SEE_TEMPLATES: STAFF_ROLES,
    Action.SYNC_TEMPLATES: MANAGERS,
    Action.SEE_KEYWORDS: STAFF_ROLES,
    Action.CHANGE_KEYWORDS: MANAGERS,
    Action.SEE_ORGANIZATION: STAFF_ROLES,
    Action.SEE_PRESETS: STAFF_ROLES,
    Action.SETUP: ADMINS,
    Action.SEE_MEMBERS: MANAGERS,
    Action.SEE_REPORTS: REPORT_READERS,
    Action.SEE_LIBRARY: STAFF_ROLES,
    Action.SHARE_TEMPLATES: MANAGERS,
    Action.REVIEW_LIBRARY: STAFF_ROLES,
    Action.MANAGE_NETWORK: ADMINS,
    Action.EXCHANGE_BUNDLES: ADMINS,
}


def roles_for(action: Action) -> frozenset[str]:
    """The roles allowed `action`."""
    return ALLOWED[action]


def may(role: str | None, action: Action) -> bool:
    """Whether a member with `role` (None: no membership) may do `action`."""
    return role is not None and role in ALLOWED[action]


def allowed_actions(role: str | None) -> frozenset[Action]:
    """Every action a role may do: what the console's menus show."""
    return frozenset(action for action in Action if may(role, action))
