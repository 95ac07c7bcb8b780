"""States under /services/<service_id> (SPEC §4): the child views and the transition."""
from app.api import children
from app.services.children import STATES

blueprint = children.blueprint_for(STATES, transitions=True)
