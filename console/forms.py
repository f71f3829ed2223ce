"""Forms over services: a service's `InvalidInput(field)` is shown next to that field.

`through_service` runs a service inside a savepoint, so a refused change leaves
nothing half-saved, and puts the service's message on the form field it names
(or above the form when the field is not one of the form's).
"""

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.db import transaction

from outreach.errors import AmaniError

T = TypeVar("T")


def through_service(form: forms.Form, call: Callable[[], T]) -> T | None:
    """Run `call` atomically; on a refusal, add its message to `form` and return None."""
    try:
        with transaction.atomic():
            return call()
    except AmaniError as error:
        field = error.field if error.field in form.fields else None
        message = error.message if field or not error.field else f"{error.field}: {error.message}"
        form.add_error(field, message)
        return None
