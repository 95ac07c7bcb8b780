"""The INI schema: config.example.ini, refused typos and types, and a bad file at gunicorn start-up."""
import re

import pytest

from app.config import SCHEMA, ConfigError, build_settings, load, render_example
from tests.support import REPO, gunicorn_start_failure

EXAMPLE = REPO / "config.example.ini"
# A '#' followed by no space marks a setting or [section] line; '# ' starts help.
SETTING_MARKER = re.compile(r"^#(?=[^\s#])", re.MULTILINE)


def uncommented_example(tmp_path):
    path = tmp_path / "uncommented.ini"
    path.write_text(SETTING_MARKER.sub("", EXAMPLE.read_text()))
    return path


def defaults():
    return {section: {key: option.default for key, option in options.items()}
            for section, options in SCHEMA.items()}


def test_example_parses_as_is_to_the_defaults():
    settings = load(EXAMPLE)
    assert settings.sections == defaults()
    assert settings.attributes == {}
    assert settings.field_attributes == {}


def test_example_holds_the_rendered_schema():
    # Fails when an option, default or help text changes in app/config/ but not in the file;
    # regenerate its option part with: python -c "from app.config import render_example as r; print(r())"
    assert render_example() in EXAMPLE.read_text()


def test_example_lists_every_option_at_its_default(tmp_path):
    path = uncommented_example(tmp_path)
    settings = load(path)
    assert settings.sections == defaults()
    text = path.read_text()
    for section, options in SCHEMA.items():
        assert f"[{section}]" in text
        for key in options:
            assert re.search(rf"^{re.escape(key)} =", text, re.MULTILINE), f"[{section}] {key} missing"


def test_uncommented_example_maps_the_business_attributes(tmp_path):
    settings = load(uncommented_example(tmp_path))
    assert settings.field_attributes == {
        "Service.type": "ServiceType",
        "Service.media_type": "MediaType",
        "State.type": "StateType",
        "Task.type": "TaskType",
        "Service.disposition": "DispositionCode",
        "State.disposition": "DispositionCode",
        "Task.disposition": "DispositionCode",
        "Service.application_type": "ApplicationType",
        "State.application_type": "ApplicationType",
        "Task.application_type": "ApplicationType",
        "Service.resource_type": "ResourceType",
        "State.resource_type": "ResourceType",
        "Task.resource_type": "ResourceType",
    }
    ids = {name: {value.id: value for value in values} for name, values in settings.attributes.items()}
    # The IDs of the vendor's documented Start Service example (SPEC §3.1) are all defined.
    assert ids["ServiceType"][100].name == "Sales"
    assert ids["MediaType"][1].display_name == "Voice"
    assert ids["DispositionCode"][10].name == "Resolved"
    assert ids["ApplicationType"][400].display_name == "GVP VoiceXML application"
    assert ids["ResourceType"][2].name == "Agent"
    assert all(len(values) >= 3 for values in settings.attributes.values())


def test_no_file_means_the_defaults_with_embedded_sqlite():
    settings = load(None)
    assert settings["database"]["url"] == "sqlite:///var/context-services.db"
    assert settings.sections == defaults()


def test_values_are_parsed_to_their_types(tmp_path):
    path = tmp_path / "cs.ini"
    path.write_text("[api]\nbase_path = /genesys/1/cs/\nmax_body_bytes = 2048\n"
                    "[extensions]\nrefresh_seconds = 1.5\nmode = FREE\n"
                    "[business-attributes]\nmap_names = yes\n")
    settings = load(path)
    assert settings["api"]["base_path"] == "/genesys/1/cs"
    assert settings["api"]["max_body_bytes"] == 2048
    assert (settings["extensions"]["mode"], settings["extensions"]["refresh_seconds"]) == ("free", 1.5)
    assert settings["business-attributes"]["map_names"] is True


@pytest.mark.parametrize("text, expected", [
    ("[databse]\nurl = sqlite:///x.db\n", "[databse]: unknown section (holding url)"),
    ("[api]\nmax_body_byte = 2048\n", "[api] max_body_byte: unknown option"),
    ("[api]\nmax_body_bytes = lots\n", "[api] max_body_bytes = 'lots': expected an integer"),
    ("[api]\nmax_body_bytes = 12\n", "[api] max_body_bytes = '12': must be at least 1024"),
    ("[extensions]\nrefresh_seconds = soon\n", "[extensions] refresh_seconds = 'soon': expected a number"),
    ("[extensions]\nrefresh_seconds = nan\n", "[extensions] refresh_seconds = 'nan': expected a finite number"),
    ("[business-attributes]\nmap_names = perhaps\n", "[business-attributes] map_names = 'perhaps': expected true or false"),
    ("[ids]\nlayout = narrow\n", "[ids] layout = 'narrow': expected one of default, wide"),
    ("[api]\nbase_path = genesys\n", "[api] base_path = 'genesys': expected a path"),
    ("[database]\nurl = postgres://db/cs\n", "[database] url = 'postgres://db/cs': the scheme must be sqlite or mysql"),
    ("[database]\nurl = mysql://cs:s3cret@db:3306\n", "[database] url = 'mysql://cs:***@db:3306': expected mysql://"),
    ("[DEFAULT]\nlevel = info\n", "[DEFAULT]: unknown section"),
    ("[business-attributes]\nService.colour = Colour\n", "[business-attributes] Service.colour: not a mappable field"),
    ("[business-attributes]\nService.type = ServiceType\n",
     "[business-attributes] Service.type = 'ServiceType': no [attribute:ServiceType] section"),
    ("[attribute:ServiceType]\nSales = hundred, Sales\n", "[attribute:ServiceType] Sales = 'hundred, Sales'"),
    ("[attribute:ServiceType]\nSales = 100, Sales\nsales = 101, Again\n", "[attribute:ServiceType] sales: duplicate"),
])
def test_a_wrong_file_names_file_section_and_option(tmp_path, text, expected):
    path = tmp_path / "cs.ini"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize("text, expected", [
    ("url = sqlite:///x.db\n", "line 1: an option before any [section]"),
    ("[api]\nmax_list = 5\nmax_list = 6\n", "line 3: [api] max_list appears twice"),
    ("[api]\n[api]\n", "line 2: [api] appears twice"),
    ("[api]\nmax_list\n", "line 2: neither [section] nor option = value"),
])
def test_a_file_that_is_not_ini_is_refused_with_its_line(tmp_path, text, expected):
    path = tmp_path / "cs.ini"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "absent.ini")


def test_a_dict_is_checked_like_a_file():
    with pytest.raises(ConfigError, match=r"^<test>: \[ids\] lease_seconds = 'True': expected an integer"):
        build_settings({"ids": {"lease_seconds": True}}, source="<test>")


@pytest.mark.parametrize("text, expected", [
    ("[api]\nmax_body_byte = 2048\n", "[api] max_body_byte: unknown option"),
    ("[loging]\nlevel = debug\n", "[loging]: unknown section"),
    ("[database]\nbusy_timeout_ms = forever\n", "[database] busy_timeout_ms = 'forever': expected an integer"),
])
def test_gunicorn_does_not_start_with_a_bad_config(tmp_path, text, expected):
    returncode, output = gunicorn_start_failure(text, tmp_path=tmp_path)
    assert returncode != 0
    assert f"configuration error: {tmp_path / 'cs.ini'}: {expected}" in output


# --- [profile]: the core profile schema ---------------------------------------------------

def test_the_uncommented_example_declares_the_built_in_profile(tmp_path):
    from app.config import DEFAULT_PROFILE
    assert load(uncommented_example(tmp_path)).profile == DEFAULT_PROFILE
    assert load(EXAMPLE).profile == DEFAULT_PROFILE


def test_a_profile_section_replaces_the_built_in_attributes():
    from app.config import ProfileAttribute
    settings = build_settings({"profile": {"Account": "string, length=12", "Phones": "STRING, multi",
                                           "Birthday": "date", "Score": "integer", "Vip": "boolean, multi"}})
    assert settings.profile == (ProfileAttribute("Account", "string", False, 12),
                                ProfileAttribute("Phones", "string", True, 255),
                                ProfileAttribute("Birthday", "date"), ProfileAttribute("Score", "integer"),
                                ProfileAttribute("Vip", "boolean", True))


@pytest.mark.parametrize("options, named", [
    ({"Phone": "text"}, "unknown type"),
    ({"Phone": "string, many"}, "'many'"),
    ({"Phone": "string, length=0"}, "length=0"),
    ({"Phone": "string, length=70000"}, "length=70000"),
    ({"Birthday": "date, length=10"}, "length=10"),
    ({"Phone": "string, multi, multi"}, "multi"),
    ({"customer_id": "string"}, "reserved"),
    ({"Extensions": "string"}, "reserved"),
    ({"Phone": "string", "phone": "string"}, "twice"),
    ({"9lives": "string"}, "start with a letter"),
    ({"a" * 27: "string"}, "at most 26"),
    ({}, "declares no attribute"),
])
def test_a_bad_profile_section_names_its_fault(options, named):
    with pytest.raises(ConfigError, match=r"\[profile\]") as refused:
        build_settings({"profile": options}, source="cs.ini")
    assert named in str(refused.value) and "cs.ini" in str(refused.value)
