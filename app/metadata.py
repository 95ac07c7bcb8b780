"""The metadata a process caches, built from the settings: the core profile, the extension
registry and the identification keys — one recipe for the server and the commands, so an
import checks names and limits exactly as the server would."""
from collections import namedtuple

from app.config import RESERVED_PROFILE_NAMES
from app.services.extension_registry import ExtensionRegistry
from app.services.identification_keys import IdentificationKeys
from schemas.profiles import CoreProfile
from schemas.values import ExtensionLimits

Metadata = namedtuple("Metadata", "core registry keys")


def build_metadata(settings, *, refresh_seconds):
    """The core profile of [profile], a registry held to [extensions] (a profile extension may not
    take a core attribute's name nor a reserved one), and the keys over both."""
    core = CoreProfile(settings.profile)
    registry = ExtensionRegistry(
        mode=settings["extensions"]["mode"], refresh_seconds=refresh_seconds,
        base_path=settings["api"]["base_path"], limits=ExtensionLimits.from_options(settings["extensions"]),
        reserved_names={"profiles": [*RESERVED_PROFILE_NAMES, *(attribute.name for attribute in core.attributes)]})
    return Metadata(core, registry, IdentificationKeys(registry, core))
