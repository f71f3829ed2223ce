from .health import ServiceHeartbeat
from .organizations import Membership, Organization, OrganizationOwned, Role
from .users import User

__all__ = ["Membership", "Organization", "OrganizationOwned", "Role", "ServiceHeartbeat", "User"]
