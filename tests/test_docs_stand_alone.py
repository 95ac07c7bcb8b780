"""The project's docs stand alone: they name no file outside the repository, and the example config is valid."""
import re

import pytest

from app.config import SCHEMA, load, read_sections
from tests.support import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
EXAMPLE_CONFIG = REPO / "docs" / "examples" / "config.ini"
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(REPO)))
def test_docs_do_not_refer_to_the_private_spec(doc):
    text = doc.read_text()
    assert not re.search(r"\bSPEC\b|SPEC\.md|\.\./shared", text)


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(REPO)))
def test_relative_links_lead_to_files_of_the_repository(doc):
    for target in _LINK.findall(doc.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path = (doc.parent / target).resolve()
        assert path.is_relative_to(REPO) and path.exists(), f"{doc.name}: {target}"


def test_the_example_config_loads_and_sets_only_options_of_config_example_ini():
    settings = load(EXAMPLE_CONFIG)
    assert settings.field_attributes, "the examples need business attributes"
    example_ini = (REPO / "config.example.ini").read_text()
    for section, options in read_sections(EXAMPLE_CONFIG).items():
        if section.startswith("attribute:"):
            continue
        assert f"#[{section}]" in example_ini, section
        for option in options:
            assert section == "business-attributes" or option in SCHEMA[section]
            assert re.search(rf"^#{re.escape(option)} =", example_ini, re.M), f"[{section}] {option}"
