"""Settings: defaults, file, environment, and clear errors."""

import pytest

from config.settings import SettingsError, load_settings


def test_defaults():
    s = load_settings(environ={})
    assert s.ui.language == "ru"
    assert s.database.url == ""


def test_file_and_environment(tmp_path):
    f = tmp_path / "ibc.toml"
    f.write_text('[school]\nname = "Гимназия №1"\n[projector]\nport = 4353\n', encoding="utf-8")
    s = load_settings(f, environ={"IBC_PROJECTOR__PORT": "4354", "IBC_DATABASE_URL": "postgresql://u@h/d"})
    assert s.school.name == "Гимназия №1"
    assert s.projector.port == 4354
    assert s.database.url == "postgresql://u@h/d"


def test_unknown_key_names_file_and_key(tmp_path):
    f = tmp_path / "ibc.toml"
    f.write_text("[projector]\nhots = 'x'\n", encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        load_settings(f, environ={})
    assert str(f) in str(err.value) and "projector.hots" in str(err.value)
    assert "unknown key" in str(err.value)


def test_wrong_type_and_bad_url(tmp_path):
    f = tmp_path / "ibc.toml"
    f.write_text("[projector]\nport = 'abc'\n[database]\nurl = 'mysql://x/y'\n", encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        load_settings(f, environ={})
    msg = str(err.value)
    assert "projector.port" in msg and "database.url" in msg and "unsupported database" in msg


def test_environment_error_names_variable():
    with pytest.raises(SettingsError, match="IBC_UI__IDLE_TIMEOUT_S: ui.idle_timeout_s"):
        load_settings(environ={"IBC_UI__IDLE_TIMEOUT_S": "1"})


def test_broken_toml_and_missing_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[school\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(f, environ={})
    with pytest.raises(SettingsError, match="file not found"):
        load_settings(tmp_path / "none.toml", environ={})


def test_cli_reports_settings_error_without_traceback(tmp_path, capsys):
    from ibc.cli import main

    f = tmp_path / "ibc.toml"
    f.write_text("[ui]\nlanguage = 'fr'\n", encoding="utf-8")
    assert main(["--config", str(f), "db", "status"]) == 2
    err = capsys.readouterr().err
    assert "ui.language" in err and "Traceback" not in err
