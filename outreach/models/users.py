from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A member of staff (NGO manager, reviewer, admin) or a funder; never a subscriber."""

    class Meta:
        db_table = "outreach_user"
