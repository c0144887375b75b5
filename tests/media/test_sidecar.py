"""Folder convention and TOML sidecars (pure, no database)."""

from __future__ import annotations

from media.sidecar import SidecarResolver, convention, parse_classes


def test_convention_and_classes():
    assert convention(("История", "5-7 класс", "Рим")) == {
        "subject": "История", "class_from": 5, "class_to": 7, "tags": ["Рим"]}
    assert convention(("10 кл",)) == {"class_from": 10, "class_to": 10}
    assert parse_classes("1-4") == (1, 4) and parse_classes([5, 7]) == (5, 7)


def test_precedence_and_bad_values(tmp_path):
    root = tmp_path
    d = root / "Биология" / "6 класс"
    d.mkdir(parents=True)
    (root / "Биология" / "_media.toml").write_text('access = "teachers"\nlicence = "РЭШ"\n', "utf-8")
    (d / "_media.toml").write_text('licence = "CC BY"\nwhatever = 1\n', "utf-8")
    (d / "клетка.toml").write_text('access = "teacher-only"\ntitle = "Клетка"\n', "utf-8")
    r = SidecarResolver()
    meta = r.meta_for(root, d / "клетка.mp4")
    assert (meta.subject, meta.class_from, meta.licence, meta.title) == (
        "Биология", 6, "CC BY", "Клетка")
    assert meta.access == "teachers"  # an unknown level fails closed
    assert any("whatever" in w for w in r.warnings)
    assert any("teacher-only" in w for w in r.warnings)
    other = r.meta_for(root, d / "другое.mp4")
    assert other.access == "teachers" and other.title is None
