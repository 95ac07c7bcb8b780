"""[auth] and [user:NAME] in the config file, and `context-services hash-password`."""
import pytest
from click.testing import CliRunner

from app.cli import main
from app.config import ConfigError, build_settings
from app.passwords import hash_password, verify
from tests.support import gunicorn_start_failure, render_ini

PASSWORD = "open sesame"


@pytest.fixture(scope="module")
def good_hash():
    return hash_password(PASSWORD)


def settings_with(users, **auth):
    return build_settings({"auth": {"mode": "basic", **auth}, **users}, source="cs.ini")


def test_users_and_their_highest_role_are_read(good_hash):
    settings = settings_with({"user:ann": {"password": good_hash, "roles": "reader, writer"},
                              "user:cid": {"password": good_hash, "roles": "admin"}})
    assert {name: user.role for name, user in settings.users.items()} == {"ann": "writer", "cid": "admin"}


def test_a_plain_text_password_stops_start_up_without_being_echoed():
    with pytest.raises(ConfigError) as refused:
        settings_with({"user:ann": {"password": "hunter2", "roles": "reader"}})
    message = str(refused.value)
    assert message.startswith("cs.ini: [user:ann] password: not a password hash")
    assert "hash-password" in message
    assert "hunter2" not in message


@pytest.mark.parametrize("weak", ["scrypt:1024:8:1$salt$abcdef", "pbkdf2:sha256:1000$salt$abcdef",
                                  "md5$salt$abcdef", "scrypt:x:8:1$salt$abcdef"])
def test_a_fast_or_unknown_kdf_stops_start_up(weak):
    with pytest.raises(ConfigError, match=r"\[user:ann\] password"):
        settings_with({"user:ann": {"password": weak, "roles": "reader"}})


@pytest.mark.parametrize("user, expected", [
    ({"roles": "reader"}, "needs exactly the options password and roles"),
    ({"password": "HASH", "roles": "owner"}, "expected one or more of reader, writer, admin"),
    ({"password": "HASH", "roles": ""}, "expected one or more of"),
    ({"password": "HASH", "roles": "reader", "email": "a@b"}, r"unknown: email"),
])
def test_a_user_section_is_checked(good_hash, user, expected):
    user = {key: good_hash if value == "HASH" else value for key, value in user.items()}
    with pytest.raises(ConfigError, match=expected):
        settings_with({"user:ann": user})


def test_a_user_name_with_odd_characters_is_refused(good_hash):
    with pytest.raises(ConfigError, match="a user name is"):
        settings_with({"user:a b": {"password": good_hash, "roles": "reader"}})


def test_basic_without_any_user_stops_start_up():
    with pytest.raises(ConfigError, match=r"mode = basic needs at least one \[user:<name>\]"):
        settings_with({})


def test_trusted_proxies_must_be_addresses():
    with pytest.raises(ConfigError, match="trusted_proxies"):
        build_settings({"auth": {"trusted_proxies": "127.0.0.1, nginx.local"}})
    assert build_settings({"auth": {"trusted_proxies": "10.0.0.2,::1"}})["auth"]["trusted_proxies"] == (
        "10.0.0.2", "::1")


def test_gunicorn_refuses_a_plain_text_password_at_start(tmp_path):
    text = render_ini({"database": {"url": f"sqlite:///{tmp_path}/cs.db"}, "auth": {"mode": "basic"},
                       "user:ann": {"password": "hunter2", "roles": "reader"}})
    returncode, output = gunicorn_start_failure(text, tmp_path=tmp_path)
    assert returncode != 0
    assert f"configuration error: {tmp_path / 'cs.ini'}: [user:ann] password: not a password hash" in output
    assert "hunter2" not in output


# --- context-services hash-password --------------------------------------------------------

def test_hash_password_prints_a_hash_of_the_password_typed_twice():
    result = CliRunner().invoke(main, ["hash-password"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip().splitlines()[-1]
    assert printed.startswith("scrypt:")
    assert verify(printed, PASSWORD)
    assert PASSWORD not in result.output            # the prompt does not echo it
    settings_with({"user:ann": {"password": printed, "roles": "reader"}})


def test_hash_password_asks_again_when_the_two_differ():
    result = CliRunner().invoke(main, ["hash-password"], input="one\ntwo\nthree\nthree\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert verify(result.stdout.strip().splitlines()[-1], "three")


def test_hash_password_makes_a_new_salt_each_time():
    runs = [CliRunner().invoke(main, ["hash-password"], input="same\nsame\n") for _ in range(2)]
    assert runs[0].stdout.strip().splitlines()[-1] != runs[1].stdout.strip().splitlines()[-1]


def test_the_deploy_example_turns_access_control_on():
    from app.config import load
    from tests.support import REPO
    settings = load(REPO / "deploy" / "context-services.ini")
    assert settings["auth"]["mode"] == "basic"
    assert settings["database"]["ssl"] == "verify"
    assert {name: user.role for name, user in settings.users.items()} == {
        "ivr": "writer", "desktop": "reader", "ops": "admin"}
