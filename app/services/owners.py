"""Record-level writes of extension values on a service, state or task (SPEC §3.6, §4, §5)."""
from dataclasses import dataclass

from app.errors import NotFound
from app.services import extension_values as values
from app.services.services import get_service, integrity_refusals
from models import State, Task, database


@dataclass(frozen=True)
class Owner:
    """A service (kind "services", number None) or one of its states or tasks."""
    service_id: int
    kind: str = "services"
    number: int = None

    @property
    def owner_no(self):
        return values.owner_no(self.kind, self.number)


def lock_owner(owner):
    """Lock the owner's service and check that the owner exists; NotFound otherwise."""
    get_service(owner.service_id, for_update=True)
    if owner.kind == "services":
        return
    model, column, label = ((State, State.state_id, "state") if owner.kind == "states"
                            else (Task, Task.task_id, "task"))
    exists = (model
              .select(column)
              .where((model.service == owner.service_id) & (column == owner.number))
              .exists())
    if not exists:
        raise NotFound(f"no {label} {owner.number} in service {owner.service_id}",
                       error_code=f"{label.upper()}_NOT_FOUND")


def replace_value(owner, extension, loaded):
    """Replace the owner's whole value of one extension; return what is now stored."""
    with integrity_refusals([(extension, loaded)], unique_conflict=bool(extension.unique)):
        with database.atomic():
            lock_owner(owner)
            values.replace_values(owner.service_id, owner.owner_no, [(extension, loaded)])
    return loaded


def update_record(owner, extension, selector):
    """Overwrite the non-unique attributes of the record the selector picks; NotFound when none."""
    with database.atomic():
        lock_owner(owner)
        values.update_by_unique(extension, owner.service_id, owner.owner_no, selector)


def delete_record(owner, extension, selector):
    """Drop the record the selector picks; NotFound when none."""
    with database.atomic():
        lock_owner(owner)
        values.delete_by_unique(extension, owner.service_id, owner.owner_no, selector)
