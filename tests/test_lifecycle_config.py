"""[retention], [retention:<ServiceType>] and [lifecycle]: checked at start-up like every option."""
import pytest

from app.config import ConfigError, load

TYPES = ("[attribute:ServiceType]\nSales = 100, Sales\nSupport = 200, Support\n"
         "[attribute:Disposition]\nAbandoned = 40, Abandoned\n"
         "[business-attributes]\nService.type = ServiceType\nService.disposition = Disposition\n")


def settings_of(tmp_path, text):
    path = tmp_path / "cs.ini"
    path.write_text(text)
    return load(path)


def test_overrides_are_keyed_by_service_type_db_id_given_by_name_or_id(tmp_path):
    settings = settings_of(tmp_path, TYPES + "[retention]\ncompleted_days = 30\n"
                                            "[retention:sales]\ncompleted_days = 90\n"
                                            "[retention:7]\ncompleted_days = 0.5\n"
                                            "[lifecycle]\nauto_complete_after_s = 1800\n"
                                            "auto_complete_disposition = ABANDONED\n")
    assert settings["retention"]["completed_days"] == 30
    assert settings.retention_by_type == {100: 90, 7: 0.5}
    assert settings["lifecycle"]["auto_complete_after_s"] == 1800
    assert settings.auto_complete_disposition == 40


def test_defaults_keep_everything_and_complete_nothing(tmp_path):
    settings = load(None)
    assert settings["retention"]["completed_days"] == 0
    assert settings["lifecycle"] == {"auto_complete_after_s": 0, "auto_complete_disposition": "",
                                     "maintenance_pause_ratio": 1.0}
    assert settings.retention_by_type == {} and settings.auto_complete_disposition is None


def test_a_disposition_given_as_an_id_needs_no_attribute(tmp_path):
    settings = settings_of(tmp_path, "[lifecycle]\nauto_complete_disposition = 12\n")
    assert settings.auto_complete_disposition == 12


@pytest.mark.parametrize("text, expected", [
    ("[retention]\ncompleted_days = -1\n", "[retention] completed_days = '-1': must be at least 0"),
    ("[retention]\ncompleted_days = ever\n", "[retention] completed_days = 'ever': expected a number"),
    ("[retention]\nkeep_days = 3\n", "[retention] keep_days: unknown option"),
    (TYPES + "[retention:Marketing]\ncompleted_days = 3\n",
     "[retention:Marketing]: not a DB ID nor a known value name; values of ServiceType: sales, support"),
    ("[retention:Sales]\ncompleted_days = 3\n",
     "[retention:Sales]: not a DB ID nor a known value name; Service.type has no business attribute"),
    ("[retention:100]\ndays = 3\n", "[retention:100]: completed_days is missing"),
    ("[retention:100]\ncompleted_days = 3\nextra = 1\n", "[retention:100] extra: unknown option"),
    ("[retention:100]\ncompleted_days = x\n", "[retention:100] completed_days = 'x': expected a number"),
    (TYPES + "[retention:100]\ncompleted_days = 3\n[retention:Sales]\ncompleted_days = 4\n",
     "[retention:Sales]: service type 100 has a [retention:...] section already"),
    ("[lifecycle]\nauto_complete_after_s = -5\n", "[lifecycle] auto_complete_after_s = '-5': must be at least 0"),
    ("[lifecycle]\nauto_complete_after_s = 1.5\n", "[lifecycle] auto_complete_after_s = '1.5': expected an integer"),
    (TYPES + "[lifecycle]\nauto_complete_disposition = Gone\n",
     "[lifecycle] auto_complete_disposition = 'Gone': not a DB ID nor a known value name; values of Disposition"),
    ("[lifecycle]\nauto_complete_disposition = " + "x" * 65 + "\n", "longer than 64 characters"),
    ("[lifecycle]\nmaintenance_pause_ratio = -0.5\n", "[lifecycle] maintenance_pause_ratio = '-0.5': must be at least 0"),
    ("[lifecycle]\nmaintenance_pause_ratio = often\n", "[lifecycle] maintenance_pause_ratio = 'often': expected a number"),
])
def test_a_wrong_lifecycle_setting_names_file_section_and_option(tmp_path, text, expected):
    with pytest.raises(ConfigError) as caught:
        settings_of(tmp_path, text)
    assert str(caught.value).startswith(f"{tmp_path / 'cs.ini'}: ")
    assert expected in str(caught.value)
