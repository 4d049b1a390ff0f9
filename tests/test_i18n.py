"""French and English: the choice of language, the catalog, French dates, labels per language, prompts.

JSON (and every other machine format) is the same in both languages; only what
people read changes.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import messages  # noqa: E402 - tools/messages.py, the catalog's extraction

# --- the catalog -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Any:
    return messages.read_catalog()


@pytest.fixture(scope="module")
def extracted() -> list[Any]:
    return messages.extract()


def test_every_message_has_a_french_translation(catalog: Any, extracted: list[Any]) -> None:
    missing = messages.gaps(catalog, extracted)
    assert not missing, f"untranslated (run tools/messages.py update, translate, compile): {missing[:10]}"


def test_the_catalog_finds_messages_of_every_kind(extracted: list[Any]) -> None:
    # _() calls, a Meta label, a counted noun, click's own, a command's help, a column heading.
    for message in ("no partnerships match", "Partnership treated", ("{n} partnership", "{n} partnerships"),
                    "Usage:", "Show one partnership in full.\n\nExample: partnerctl show turin", "first year"):
        assert message in extracted


def test_translations_keep_every_placeholder(catalog: Any) -> None:
    def placeholders(text: str) -> set[str]:
        return set(re.findall(r"\{[^{}]*\}", text)) | set(re.findall(r"%\(\w+\)s", text))

    for entry in catalog:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, (tuple, list)) else (entry.id,)
        strings = entry.string if isinstance(entry.string, (tuple, list)) else (entry.string,)
        wanted = placeholders(ids[-1]) | placeholders(ids[0])
        for string in strings:
            # A singular may drop the number ("1 a été donnée"); nothing may appear that the code does not pass.
            assert placeholders(string) <= wanted, (entry.id, string)


def test_the_committed_mo_is_the_compiled_po(catalog: Any) -> None:
    # The same messages and translations (headers included), whichever Babel compiled it.
    assert messages.compiled_is(messages.MO.read_bytes(), catalog), "run: python tools/messages.py compile"
    changed = messages.read_catalog()
    next(e for e in changed if e.id == "Options").string = "Choix"
    assert not messages.compiled_is(messages.MO.read_bytes(), changed)  # a .po changed since shows


def test_the_check_command_passes() -> None:
    assert messages.main(["check"]) == 0


# --- choosing the language ---------------------------------------------------------------------


@pytest.fixture
def no_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No --lang, no $PARTNERCTL_LANG, no settings file, an English locale: what each test then sets decides."""
    for name in ("PARTNERCTL_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "config" / "partnerctl" / "config.toml"


def french(result: Any) -> bool:
    return "Thématiques traitées" in result.stdout


def test_lang_fr_show_turin(invoke: Any, registry_path: Path) -> None:
    result = invoke(registry_path, "--lang", "fr", "show", "turin")
    assert result.exit_code == 0
    assert "Mobilité urbaine" in result.stdout and "avril 1991" in result.stdout
    assert "Relations internationales, Lyon - Turin (Italie)" in result.stdout  # the country by its French name
    assert "26 novembre 2013" in result.stdout
    english = invoke(registry_path, "show", "turin")
    assert "Urban mobility" in english.stdout and "April 1991" in english.stdout and "avril" not in english.stdout


def test_lang_after_the_command_name(invoke: Any, registry_path: Path) -> None:
    assert french(invoke(registry_path, "show", "turin", "--lang", "fr"))
    assert french(invoke(registry_path, "show", "turin", "--lang=fr"))


def test_the_locale_says_french(invoke: Any, registry_path: Path, no_choice: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert not french(invoke(registry_path, "show", "turin"))
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert french(invoke(registry_path, "show", "turin"))
    monkeypatch.setenv("LC_ALL", "C")  # LC_ALL wins over LANG, as for every program
    assert not french(invoke(registry_path, "show", "turin"))
    monkeypatch.setenv("LC_ALL", "fr_CA.UTF-8")
    assert french(invoke(registry_path, "show", "turin"))


def test_environment_beats_settings_beats_locale(invoke: Any, registry_path: Path, no_choice: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    no_choice.parent.mkdir(parents=True)
    no_choice.write_text('lang = "fr"\n', encoding="utf-8")
    assert french(invoke(registry_path, "show", "turin"))
    monkeypatch.setenv("PARTNERCTL_LANG", "en")
    assert not french(invoke(registry_path, "show", "turin"))
    assert french(invoke(registry_path, "--lang", "fr", "show", "turin"))


def test_an_unknown_language_is_a_usage_error(invoke: Any, registry_path: Path, no_choice: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke(registry_path, "--lang", "de", "show", "turin")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "partnerctl: error: --lang: unknown language 'de' (choose en or fr)\n"
    monkeypatch.setenv("PARTNERCTL_LANG", "klingon")
    assert invoke(registry_path, "show", "turin").exit_code == 2
    monkeypatch.delenv("PARTNERCTL_LANG")
    no_choice.parent.mkdir(parents=True)
    for setting in ("lang = 3\n", 'lang = "de"\n'):
        no_choice.write_text(setting, encoding="utf-8")
        result = invoke(registry_path, "show", "turin")
        assert result.exit_code == 3 and f"lang in {no_choice}" in result.stderr


def test_a_real_process_under_a_french_locale(registry_path: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PARTNERCTL_LANG", "LC_ALL", "LC_MESSAGES")}
    env.update(LANG="fr_FR.UTF-8", XDG_CONFIG_HOME=str(tmp_path / "none"))
    done = subprocess.run([sys.executable, "-m", "partnerctl", "--registry", str(registry_path), "show", "nowhere"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("partnerctl: erreur : aucun partenariat 'nowhere'")


# --- what changes and what does not --------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("show", "turin"), ("list",), ("timeline", "turin"), ("stats",), ("themes",), ("networks",),
    ("search", "lumière"), ("validate",), ("list", "--theme", "mobility"),
    ("timeline", "--upcoming"), ("anniversaries", "--year", "2026"),  # their titles too
])
def test_json_is_the_same_in_both_languages(invoke: Any, registry_path: Path, args: tuple[str, ...]) -> None:
    english = invoke(registry_path, *args, "--format", "json")
    french_ = invoke(registry_path, "--lang", "fr", *args, "--format", "json")
    assert english.exit_code == french_.exit_code == 0
    assert english.stdout == french_.stdout
    # TSV, for scripts, too.
    assert invoke(registry_path, *args).stdout == invoke(registry_path, "--lang", "fr", *args).stdout or \
        args[0] in ("show", "timeline")  # show and timeline print pages for people when piped


def test_tables_use_the_french_labels(invoke: Any, registry_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    monkeypatch.setenv("COLUMNS", "200")
    themes = invoke(registry_path, "--lang", "fr", "themes").stdout
    assert "THÉMATIQUE" in themes and "PARTENARIATS" in themes and "Mobilité urbaine" in themes
    listed = invoke(registry_path, "--lang", "fr", "list", "--theme", "mobility").stdout
    assert "PREMIÈRE" in listed and "ANNÉE" in listed and "VILLE" in listed and "CGLU" in listed  # 2 lines
    stats = invoke(registry_path, "--lang", "fr", "stats", "--by", "decade", "--by", "status").stdout
    assert "Par décennie (24 partenariats)" in stats and "années 1990" in stats and "inconnu" in stats


def test_help_and_usage_errors_in_french(invoke: Any, registry_path: Path) -> None:
    shown = invoke(registry_path, "--lang", "fr", "show", "--help").stdout
    assert "Utilisation :" in shown and "Afficher un partenariat en entier." in shown
    assert "Exemple : partnerctl show turin" in shown and "Afficher ce message et quitter." in shown
    result = invoke(registry_path, "--lang", "fr", "list", "--bogus")
    assert result.exit_code == 2
    assert result.stderr == "partnerctl: erreur : option inconnue '--bogus' (voir 'partnerctl list --help')\n"
    # And back in English in the same process (the help keeps its English original).
    assert "Show one partnership in full." in invoke(registry_path, "show", "--help").stdout


def test_errors_in_french(invoke: Any, registry_path: Path) -> None:
    result = invoke(registry_path, "--lang", "fr", "add-event", "turin", "--date", "2011-02-30", "--title", "X")
    assert result.exit_code == 2
    assert "date invalide '2011-02-30' : February 2011 n'a pas de jour 30" in result.stderr or \
        "date invalide '2011-02-30'" in result.stderr
    assert invoke(registry_path, "--lang", "fr", "show", "zzz").stderr.startswith(
        "partnerctl: erreur : aucun partenariat 'zzz'")


def test_french_dates() -> None:
    import gettext

    from partnerctl.core import dates, i18n

    with i18n.using("fr", gettext.NullTranslations()):
        assert dates.humanize("1991-04") == "avril 1991"
        assert dates.humanize("2013-11-26") == "26 novembre 2013"
        assert dates.humanize("2013-08-01") == "1er août 2013"
        assert dates.humanize("1991") == "1991"
        assert dates.humanize_span("2013-10-03", "2013-10-04") == "3–4 octobre 2013"
        assert dates.humanize_span("2013-10-03", "2013-11-04") == "3 octobre – 4 novembre 2013"
        assert dates.humanize_span("2001", "2008") == "2001 – 2008"
    assert dates.humanize("1991-04") == "April 1991"


def test_english_and_json_never_import_babel(registry_path: Path) -> None:
    code = ("import sys, partnerctl.cli as c; from typer.testing import CliRunner; "
            f"r = CliRunner().invoke(c.app, ['-r', {str(registry_path)!r}, 'show', 'turin']); "
            "print(r.exit_code, 'babel' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PARTNERCTL_LANG": "en"})
    assert done.stdout.split() == ["0", "False"]


# --- prompts ---------------------------------------------------------------------------------------


def _read_until(fd: int, wanted: bytes) -> bytes:
    """What the terminal shows until *wanted* (or the end); the deadline only keeps a broken run from hanging."""
    got = b""
    while wanted not in got:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        got += chunk
    return got


@pytest.mark.parametrize("answer, removed", [("oui", True), ("o", True), ("non", False), ("n", False)])
def test_remove_accepts_oui_and_non_on_a_terminal(registry_path: Path, answer: str, removed: bool) -> None:
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "partnerctl", "--lang", "fr", "--registry", str(registry_path),
                             "remove", "turin"], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    try:
        question = _read_until(master, b"[o/N] :").decode()
        os.write(master, answer.encode() + b"\n")
        rest = _read_until(master, b"\0").decode()
        proc.wait(timeout=120)
    finally:
        os.close(master)
    assert "Supprimer turin (Turin, Italie) avec ses 10 événements et ses 1 contact ? [o/N] :" in question or \
        "Supprimer turin (Turin, Italie)" in question
    assert ("[partnerships.turin]" in registry_path.read_text(encoding="utf-8")) is not removed
    if removed:
        assert proc.returncode == 0 and "partenariat turin (Turin) supprimé" in rest
    else:
        assert proc.returncode == 2 and "erreur : non supprimé : turin" in rest


def test_remove_in_english_still_takes_y_only(invoke: Any, registry_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    result = invoke(registry_path, "remove", "turin", input="oui\n\n")
    assert result.exit_code == 2 and "[y/N]:" in result.stderr  # "oui" is no answer in English: asked again
    result = invoke(registry_path, "--lang", "fr", "remove", "turin", input="oui\n")
    assert result.exit_code == 0 and "[o/N] :" in result.stderr


# --- vocabulary labels per language -------------------------------------------------------------------

HEAD = """\
[registry]
owner = "Lyon"
country = "FR"

[themes]
culture = "Culture"
urban-mobility = { en = "Urban mobility", fr = "Mobilité urbaine" }

[networks]
luci = "LUCI"

[partnerships.turin]
city = "Turin"
country = "IT"
themes = ["urban-mobility", "culture"]
networks = ["luci"]
"""


def test_a_label_per_language_and_the_single_label_form(invoke: Any, make_registry: Any) -> None:
    path = make_registry(HEAD)
    shown = invoke(path, "--lang", "fr", "show", "turin").stdout
    assert "Mobilité urbaine, Culture" in shown  # Culture has no French label: the English one
    assert "Urban mobility, Culture" in invoke(path, "show", "turin").stdout
    labels = invoke(path, "--lang", "fr", "themes", "--format", "json").stdout
    assert '"label": "Urban mobility"' in labels  # JSON carries the English label
    # fmt writes an inline table for an entry with several labels, one string for the others.
    assert invoke(make_registry(HEAD.replace('{ en = "Urban mobility", fr = "Mobilité urbaine" }',
                                             '{ fr = "Mobilité urbaine", en = "Urban mobility" }')), "fmt").exit_code == 0
    text = path.read_text(encoding="utf-8")
    assert '[themes]\nculture = "Culture"\nurban-mobility = { en = "Urban mobility", fr = "Mobilité urbaine" }\n' \
        in text
    assert invoke(path, "fmt", "--check").exit_code == 0
    assert "Mobilité urbaine" in invoke(path, "--lang", "fr", "show", "turin").stdout


def test_a_label_table_needs_english(invoke: Any, make_registry: Any) -> None:
    path = make_registry(HEAD.replace('{ en = "Urban mobility", fr', '{ fr'))
    result = invoke(path, "validate")
    assert result.exit_code == 3 and "themes.urban-mobility" in result.stdout + result.stderr


def test_the_shipped_registry_has_every_label_in_french(registry_path: Path) -> None:
    from partnerctl.storage import store

    reg = store.load(registry_path)
    fr = reg.translations["fr"]
    assert set(fr["themes"]) == set(reg.themes) and set(fr["networks"]) == set(reg.networks)
    assert fr["themes"]["urban-mobility"] == "Mobilité urbaine"


def test_json_export_round_trips_the_labels(invoke: Any, registry_path: Path, tmp_path: Path) -> None:
    exported = tmp_path / "lyon.json"
    assert invoke(registry_path, "export", "--format", "json", "-o", str(exported)).exit_code == 0
    target = tmp_path / "copy.toml"
    assert invoke(target, "init", "--owner", "Lyon", "--country", "France").exit_code == 0
    assert invoke(target, "import", str(exported)).exit_code == 0
    assert "Mobilité urbaine" in invoke(target, "--lang", "fr", "show", "turin").stdout


@pytest.mark.parametrize("index", ["1", ""])
def test_renaming_a_theme_keeps_its_french_label(invoke: Any, registry_path: Path, index: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_NO_INDEX", index)
    assert invoke(registry_path, "show", "turin").exit_code == 0  # an index to write through, when on
    assert invoke(registry_path, "themes", "rename", "urban-mobility", "mobility").exit_code == 0
    assert "mobility = { en = \"Urban mobility\", fr = \"Mobilité urbaine\" }\n" in registry_path.read_text("utf-8")
    assert "Mobilité urbaine" in invoke(registry_path, "--lang", "fr", "show", "turin").stdout
    assert invoke(registry_path, "themes", "remove", "mobility", "--force").exit_code == 0
    assert "Mobilité urbaine" not in registry_path.read_text("utf-8")
    assert invoke(registry_path, "validate").exit_code == 0


# --- the site in one language or both ---------------------------------------------------------------------


def test_the_site_in_french_and_english(invoke: Any, registry_path: Path, tmp_path: Path) -> None:
    both, plain = tmp_path / "both", tmp_path / "plain"
    result = invoke(registry_path, "--lang", "fr,en", "export", "--format", "html", "-o", str(both))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (f"partnerctl: 24 pages de partenariat et index.html écrits dans {both / 'fr'}; "
                             f"24 pages de partenariat et index.html écrits dans {both / 'en'}\n")
    assert sorted(p.name for p in both.iterdir() if not p.name.startswith(".")) == ["en", "fr"]  # and locks
    fr = (both / "fr" / "partnerships" / "turin.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in fr and "Mobilité urbaine" in fr and "avril 1991" in fr
    # A language switch on every page, to the same page in the other language.
    switch = '<a href="../../en/partnerships/turin.html" hreflang="en" lang="en">EN</a>'
    assert switch in fr and (both / "en" / "partnerships" / "turin.html").is_file()
    for page in (both / "fr").rglob("*.html"):
        assert '<nav class="languages"' in page.read_text(encoding="utf-8"), page
    assert '<a href="../fr/index.html" hreflang="fr" lang="fr">FR</a>' in (both / "en" / "index.html").read_text("utf-8")
    # The English pages are those of an English export, with the switch.
    assert invoke(registry_path, "export", "--format", "html", "-o", str(plain)).exit_code == 0
    en = (both / "en" / "partnerships" / "turin.html").read_text(encoding="utf-8")
    alone = (plain / "partnerships" / "turin.html").read_text(encoding="utf-8")
    assert re.sub(r'<nav class="languages".*</nav>\n', "", en) == alone
    assert '<html lang="en">' in alone and "languages" not in alone


def test_the_site_in_french_only(invoke: Any, registry_path: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert invoke(registry_path, "--lang", "fr", "export", "--format", "html", "-o", str(site)).exit_code == 0
    page = (site / "partnerships" / "turin.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in page and "Mobilité urbaine" in page and '<nav class="languages"' not in page


def test_french_labels_name_themes_in_french(invoke: Any, registry_path: Path) -> None:
    english = invoke(registry_path, "list", "--theme", "mobility", "--format", "ids").stdout
    assert invoke(registry_path, "--lang", "fr", "list", "--theme", "mobilité", "--format", "ids").stdout == english
    assert invoke(registry_path, "--lang", "fr", "timeline", "--theme", "urbanisme", "--format", "ids").stdout == \
        invoke(registry_path, "timeline", "--theme", "urban planning", "--format", "ids").stdout
    assert invoke(registry_path, "list", "--theme", "mobilité").exit_code == 2  # English: the English labels only
    added = invoke(registry_path, "--lang", "fr", "add-event", "turin", "--date", "2026-05", "--title", "Visite",
                   "--theme", "Urbanisme", "--json")
    assert added.exit_code == 0, added.stderr
    assert '"themes": [\n    "urban-planning"\n  ]' in added.stdout


def test_themes_add_and_rename_take_a_french_label(invoke: Any, registry_path: Path) -> None:
    assert invoke(registry_path, "themes", "add", "night-life", "Night life", "--label-fr", "Vie nocturne").exit_code == 0
    assert 'night-life = { en = "Night life", fr = "Vie nocturne" }\n' in registry_path.read_text("utf-8")
    assert invoke(registry_path, "themes", "rename", "culture", "culture", "--label-fr", "Culture et arts").exit_code == 0
    assert 'culture = { en = "Culture", fr = "Culture et arts" }\n' in registry_path.read_text("utf-8")
    again = invoke(registry_path, "themes", "rename", "culture", "culture", "--label-fr", "Culture et arts")
    assert again.exit_code == 2 and "nothing to change" in again.stderr
    bad = invoke(registry_path, "themes", "add", "x-y", "X", "--label-fr", "deux\nlignes")
    assert bad.exit_code == 2 and "must be one line" in bad.stderr
    assert invoke(registry_path, "validate").exit_code == 0


def test_a_mistyped_command_is_suggested_once(invoke: Any, registry_path: Path) -> None:
    assert invoke(registry_path, "shw", "turin").stderr == \
        "partnerctl: error: no such command 'shw'. Did you mean 'show'? (see 'partnerctl --help')\n"
    assert invoke(registry_path, "--lang", "fr", "shw", "turin").stderr == \
        "partnerctl: erreur : commande inconnue 'shw'. Vouliez-vous dire 'show' ? (voir 'partnerctl --help')\n"


def test_the_import_report_in_french(invoke: Any, registry_path: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("id,city,country,themes\nx1,Xville,Atlantis,nowhere-theme\nturin,Turin,Italy,\n", encoding="utf-8")
    result = invoke(registry_path, "--lang", "fr", "import", str(rows), "--dry-run")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[1] == f"partnerctl: {rows} ligne 3 : ignorée (déjà dans le registre sous turin) : turin,Turin,Italy,"
    assert lines[2].startswith(f"partnerctl: 2 lignes lues dans {rows} : 0 importées, 0 mises à jour, 1 ignorées")
    assert lines[2].endswith("(simulation : rien n'a été écrit)")


# --- issue 12's commands in French: history, undo, use ------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "a@example.org",
           "GIT_AUTHOR_DATE": "2026-11-29T10:00:00+01:00", "GIT_COMMITTER_DATE": "2026-11-29T10:00:00+01:00"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_history_in_french_and_its_json_in_neither(invoke: Any, registry_path: Path, monkeypatch: Any) -> None:
    repo = registry_path.parent
    monkeypatch.setenv("HOME", str(repo))  # no user git settings
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "registry.toml")
    _git(repo, "commit", "-q", "-m", "first")
    assert invoke(registry_path, "set", "turin", "status", "suspended").exit_code == 0
    _git(repo, "commit", "-q", "-am", "turin suspended")
    english = invoke(registry_path, "log", "--format", "json")
    assert english.exit_code == 0 and english.stdout == invoke(registry_path, "--lang", "fr", "log", "--json").stdout
    said = invoke(registry_path, "--lang", "fr", "diff")
    assert said.exit_code == 0 and said.stderr == "partnerctl: aucune modification depuis HEAD\n"
    undone = invoke(registry_path, "--lang", "fr", "undo")
    assert undone.exit_code == 0
    assert undone.stderr.startswith("partnerctl: écriture du ") and "annulée (0 version antérieure" in undone.stderr
    assert invoke(registry_path, "--lang", "fr", "undo").stderr.startswith("partnerctl: erreur : rien à annuler")


def test_a_label_per_language_in_what_changed() -> None:
    from partnerctl.core.semantic import describe, diff

    old = {"themes": {"light": "Light"}}
    new = {"themes": {"light": {"en": "Light", "fr": "Lumière"}, "sport": {"en": "Sport", "fr": "Sport"}}}
    assert describe(diff(old, new)) == ["(registry): theme light 'Light' → 'Light' (fr 'Lumière'); + theme sport 'Sport'"]


def test_use_in_french(invoke: Any, registry_path: Path, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    said = invoke(registry_path, "--lang", "fr", "use", str(registry_path))
    assert said.exit_code == 0
    assert said.stderr.startswith(f"partnerctl: le registre par défaut est désormais {registry_path} (réglé dans ")
    missing = invoke(registry_path, "--lang", "fr", "use", str(tmp_path / "none.toml"))
    assert missing.exit_code == 3 and "registre introuvable" in missing.stderr and "la ligne de commande" in missing.stderr


def test_figures_in_french(invoke: Any, registry_path: Path, tmp_path: Path) -> None:
    svg = tmp_path / "themes.svg"
    assert invoke(registry_path, "--lang", "fr", "stats", "--by", "theme", "--format", "svg", "-o", str(svg)).exit_code == 0
    text = svg.read_text(encoding="utf-8")
    assert "Par thématique (24 partenariats)" in text and "Mobilité urbaine" in text and "Urban mobility" not in text
    assert ",8\u00a0%)" in text  # 20,8 %: a decimal comma, a no-break space
    english = tmp_path / "themes-en.svg"
    assert invoke(registry_path, "stats", "--by", "theme", "--format", "svg", "-o", str(english)).exit_code == 0
    assert "Urban mobility" in english.read_text(encoding="utf-8")


def test_the_brief_in_french(invoke: Any, registry_path: Path) -> None:
    brief = invoke(registry_path, "--lang", "fr", "brief", "turin", "--format", "markdown")
    assert brief.exit_code == 0
    text = brief.stdout
    assert "Interne — à l'usage de l'équipe, ne pas publier" in text and "Mobilité urbaine" in text
    assert "## Prochain anniversaire" in text and "26 novembre 2013" in text
    assert "(*interne :* The exact day is uncertain" in text
    assert "False" not in text  # an item's internal flag is no note


def test_no_function_hides_the_message_lookup() -> None:
    """``folder, _, name = ...`` in a function that also says ``_("...")`` makes ``_`` a string there: its
    messages would fail (mypy says so only where it knows the types)."""
    import ast

    def binds(fn: ast.AST) -> bool:
        todo = list(ast.iter_child_nodes(fn))
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
                                 ast.DictComp, ast.GeneratorExp)):
                continue  # a scope of its own
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
                return True
            todo += ast.iter_child_nodes(node)
        return False

    found = []
    for path in sorted((REPO / "src" / "partnerctl").rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and binds(fn) and any(
                    isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_"
                    for n in ast.walk(fn)):
                found.append(f"{path.name}:{fn.lineno} {fn.name}")
    assert found == []


def test_a_type_error_is_said_in_french_and_unchanged_in_english(invoke: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[registry]\nowner = "Lyon"\ncountry = "FR"\n\n[partnerships.x]\ncity = "X"\ncountry = "IT"\n'
                   'since = "1991"\nstatus = "asleep"\n', encoding="utf-8")
    english = invoke(bad, "--lang", "en", "validate")
    french = invoke(bad, "--lang", "fr", "validate")
    assert english.exit_code == french.exit_code == 3
    assert "since:5: Input should be a valid integer" in english.stderr + english.stdout
    assert "Input should be 'active', 'suspended' or 'ended'" in english.stderr + english.stdout
    assert "since:5: la valeur doit être un nombre entier" in french.stderr + french.stdout
    assert "la valeur doit être 'active', 'suspended' ou 'ended'" in french.stderr + french.stdout
