"""Tasks under /services/<service_id> (SPEC §5): the child views."""
from app.access import default_roles
from app.api import children
from app.services.children import TASKS

blueprint = default_roles(children.blueprint_for(TASKS), read="reader", write="writer")
