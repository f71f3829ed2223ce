from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """Server-rendered pages for staff and funders, over the same services as the API."""

    name = "console"
    verbose_name = "Console"
