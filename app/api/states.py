"""States under /services/<service_id> (SPEC §4): the child views and the transition."""
from app.access import default_roles
from app.api import children
from app.services.children import STATES

blueprint = default_roles(children.blueprint_for(STATES, transitions=True), read="reader", write="writer")
