"""One root for Amani's own errors; each also mixes in the standard type it resembles.

Services raise these; the API turns them into the one error shape
(`outreach.api.errors`), so a view never builds an error response by hand.
"""


class AmaniError(Exception):
    """Root of every error Amani raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(AmaniError, ValueError):
    """The caller sent something we cannot accept; `field` names what."""

    code = "invalid"


class NotAllowed(AmaniError, PermissionError):
    """The caller is known but their role may not do this."""

    code = "permission_denied"


class NotFound(AmaniError, LookupError):
    """No such object in the caller's organization (or at all: we do not say which)."""

    code = "not_found"
