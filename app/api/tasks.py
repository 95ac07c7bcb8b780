"""Tasks under /services/<service_id> (SPEC §5): the child views."""
from app.api import children
from app.services.children import TASKS

blueprint = children.blueprint_for(TASKS)
