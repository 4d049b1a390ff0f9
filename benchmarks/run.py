"""Benchmark partnerctl: start-up floors, reads, writes, aggregates and exports from 100 to 260,000 partnerships.

    python benchmarks/run.py                              # scales 100,1000,26109,260000, 5 runs (about an hour)
    python benchmarks/run.py --scales 100,1000,26109      # without the synthetic 260,000 registry
    python benchmarks/run.py --quick                      # a tiny run that checks the script works
    python benchmarks/run.py --json out.json              # also save every figure (benchmarks/plot.py draws them)
    python benchmarks/run.py --baseline-python OLD/bin/python   # every case also on another install, interleaved
    python benchmarks/run.py --scales 260000 --build-only # build and check the registries, time nothing

Run it with the interpreter partnerctl is installed in (``.venv/bin/python``):
every command is a real process started as ``sys.executable -m partnerctl``
(never ``python3`` from the PATH: a pyenv shim alone costs ~130 ms), its
stdout piped to a file as in a script, its peak memory the child's max RSS
(``os.wait4``). The script drives partnerctl only through its command line.

Cases. Floors: ``python -c pass``, ``import typer``, a bare Typer app
(bare_typer.py) on the installed Typer. S: the shipped Lyon registry. At each
scale: reads (show, list --country, list --owner, search, stats --by country),
one-block writes (add-event, set, tag), whole-registry ones (remove, rename,
themes rename, fmt --check), exports (json, jsonl, csv, sqlite, html), the
first read after an outside edit of 1 and of 100 blocks, and peers answering
the same questions on the exports (jq, the sqlite3 CLI, sqlite-utils; a
missing one is skipped and said so). A write, and an outside edit, always
starts from the same file and index: the registry's folder (with its index
cache, ``XDG_CACHE_HOME`` inside it) is restored from a copy before each run,
outside the timing. Every case runs N times, the cases interleaved round by
round so that a busy machine slows all of them alike; the tables show medians
and ratios within the run.

Registries. The base is the twin-towns dataset (``../shared/data/twin_cities_raw.csv``,
or ``--csv``) imported with ``partnerctl import`` into a registry made with
``partnerctl init``: 26,109 partnerships. A smaller scale takes evenly spaced
partnerships of it; a larger one adds copies of every partnership with the
owner suffixed (``Berat 2``, id ``...-s2``), so ids and owner/partner pairs
stay unique, then takes evenly spaced ones. Every 100th partnership gets the
theme ``urban-mobility`` (the dataset has none) for ``themes rename``. These
are written directly as canonical TOML (head, then one block per partnership
in id order) and checked once with ``partnerctl validate`` and ``partnerctl
fmt --check``; they live in a temporary folder removed at the end, never in
the repository.

Comparing with another version (``--baseline-python``): make a virtual
environment with that version installed, e.g. for an old commit

    git -C . archive OLD_COMMIT | (mkdir /tmp/old && tar -x -C /tmp/old)
    python3 -m venv /tmp/old/.venv && /tmp/old/.venv/bin/pip install -q /tmp/old

and pass ``--baseline-python /tmp/old/.venv/bin/python``: each case then also
runs there (its own index cache), next to the same case here, and the report
adds the ratio new/old.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# shared/ sits beside the repository (or beside the folder holding its worktrees).
DATASET = next((d / "shared" / "data" / "twin_cities_raw.csv" for d in REPO.parents
                if (d / "shared" / "data" / "twin_cities_raw.csv").exists()),
               REPO.parent / "shared" / "data" / "twin_cities_raw.csv")
PY = sys.executable
SCALES = (100, 1_000, 26_109, 260_000)
QUICK_SCALES = (30, 300)
QUICK_BASE_ROWS = 120  # --quick imports this many rows of the dataset; 300 then needs copies
HTML_MAX = 26_109  # the html export (one page a partnership) only up to the real dataset unless --full
COUNTRY = "Italy"  # list --country: 5.5 % of the dataset's partners
THEME, THEME_NEW = "urban-mobility", "mobility"
THEMED_EVERY = 100
EDITS = 100  # the larger outside edit
RSS_LIMIT_MB = 300
GROUPS = ("floor", "S", "read", "write", "export", "edit", "peer")

HEADER = re.compile(r"^\[partnerships\.([a-z0-9-]+)\]$", re.M)
KEY = re.compile(r"^([A-Za-z0-9_-]+) = ")


@dataclass
class Interp:
    """An interpreter with partnerctl installed: this one ("new") or --baseline-python ("old")."""

    label: str
    python: str
    versions: str = ""


@dataclass
class Case:
    """One command to time, with what must be done (untimed) before each run."""

    name: str
    group: str
    argv: list[str]
    env: dict[str, str]
    scale: int | None = None
    interp: str | None = None
    prepare: Callable[[], None] | None = None
    may_fail: bool = False  # a case on the baseline install, which may lack a command
    times: list[float] = field(default_factory=list)
    rss_kb: int = 0
    out_bytes: int = 0
    failed: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else math.nan

    def as_dict(self) -> dict:
        return {"name": self.name, "group": self.group, "scale": self.scale, "interp": self.interp,
                "argv": self.argv, "median_ms": self.median_ms, "times_ms": [t * 1000 for t in self.times],
                "max_rss_mb": self.rss_kb / 1024, "stdout_bytes": self.out_bytes, "failed": self.failed}


@dataclass
class Scale:
    """A registry of n partnerships and what the cases ask about it."""

    n: int
    path: Path
    target: str
    city: str
    owner: str
    edited: dict[int, Path]  # the registry after an outside edit of that many blocks
    tag_theme: str
    toml_bytes: int = 0
    build_s: float = 0.0
    checks: dict = field(default_factory=dict)
    index: dict = field(default_factory=dict)


class Fixture:
    """A registry in a folder of its own, with its index cache inside (``XDG_CACHE_HOME``), restorable.

    ``snapshot()`` keeps a copy of the folder; ``restore()`` puts it back (same path, same file
    modification times), so a write starts from the same bytes and the same current index each run.
    """

    def __init__(self, root: Path, source: Path, base_env: dict[str, str]) -> None:
        self.live = root / "live"
        self.pristine = root / "pristine"
        self.live.mkdir(parents=True)
        self.registry = self.live / "registry.toml"
        shutil.copy2(source, self.registry)
        self.env = {**base_env, "XDG_CACHE_HOME": str(self.live / "cache")}

    def snapshot(self) -> None:
        shutil.copytree(self.live, self.pristine, symlinks=True)

    def restore(self) -> None:
        shutil.rmtree(self.live)
        shutil.copytree(self.pristine, self.live, symlinks=True)
        # Out of the timing: the copy's dirty pages (the 209 MB index at 260k) would otherwise be written
        # out by the timed write's own fsync of the index (56 ms at 260k against 2 ms), a cost no user's
        # write pays.
        os.sync()

    def cache_bytes(self) -> int:
        cache = self.live / "cache"
        return sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) if cache.exists() else 0


class Runner:
    """Runs children through spawner.py: stdout to a file, stderr to another, wall time and max RSS (os.wait4).

    Start it before loading anything large: see spawner.py for why.
    """

    def __init__(self, work: Path) -> None:
        self.out = work / "stdout"
        self.err = work / "stderr"
        self.cwd = work
        self.spawner = subprocess.Popen([PY, str(HERE / "spawner.py")], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def close(self) -> None:
        assert self.spawner.stdin
        self.spawner.stdin.close()
        self.spawner.wait()

    def once(self, argv: list[str], env: dict[str, str]) -> tuple[float, int, int, str]:
        """Wall time (s), max RSS (KiB), exit code and stderr of one run."""
        assert self.spawner.stdin and self.spawner.stdout
        # stderr goes to a file, not a pipe: a child writing more than a pipe holds would block.
        request = {"argv": argv, "env": env, "cwd": str(self.cwd), "out": str(self.out), "err": str(self.err)}
        self.spawner.stdin.write(json.dumps(request) + "\n")
        self.spawner.stdin.flush()
        line = self.spawner.stdout.readline()
        if not line:
            raise SystemExit("benchmarks/spawner.py stopped")
        answer = json.loads(line)
        return answer["elapsed"], answer["rss_kb"], answer["code"], self.err.read_text(errors="replace")

    def setup(self, argv: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> tuple[float, int, int, str]:
        """Run a preparation step (reported, not part of the cases); stop on an unexpected exit code."""
        elapsed, rss, code, err = self.once(argv, env)
        if code not in ok:
            raise SystemExit(f"set-up failed ({code}): {' '.join(argv)}\n{err}")
        return elapsed, rss, code, err

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8")

    def case(self, case: Case, timed: bool) -> None:
        if case.prepare:
            case.prepare()
        elapsed, rss, code, err = self.once(case.argv, case.env)
        if code != 0:
            if not case.may_fail:
                raise SystemExit(f"benchmark command failed ({code}): {' '.join(case.argv)}\n{err}")
            case.failed = f"exit {code}: {err.strip().splitlines()[-1] if err.strip() else ''}"
            return
        if timed:
            case.times.append(elapsed)
            case.rss_kb = max(case.rss_kb, rss)
            case.out_bytes = self.out.stat().st_size


def partnerctl(interp: Interp, registry: Path, *args: str) -> list[str]:
    return [interp.python, "-m", "partnerctl", "--registry", str(registry), *args]


# --- registries -----------------------------------------------------------------------------------


def sample_csv(dataset: Path, rows: int, target: Path) -> Path:
    """The dataset's header and *rows* evenly spaced rows of it."""
    with open(dataset, newline="", encoding="utf-8") as f:
        header, *body = list(csv.reader(f))
    kept = [body[i * len(body) // rows] for i in range(min(rows, len(body)))]
    with open(target, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *kept])
    return target


def synthetic_csv(target: Path, rows: int) -> Path:
    """A twin-towns-shaped CSV, for --quick when the dataset is absent."""
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["city1", "country1", "city2", "country2"])
        for i in range(rows):
            w.writerow(["Lyon" if i % 10 == 0 else f"Town {i // 7}", "France", f"Partner {i}",
                        COUNTRY if i % 3 == 0 else "Spain"])
    return target


def split_registry(text: str) -> tuple[str, list[str]]:
    """The head (owner, vocabularies) and the partnership blocks of a canonical registry, without blank lines."""
    starts = [m.start() for m in HEADER.finditer(text)]
    if not starts:
        raise SystemExit("the base registry has no partnership")
    head = text[: starts[0]].rstrip("\n")
    blocks = [text[a:b].rstrip("\n") for a, b in zip(starts, starts[1:] + [len(text)], strict=True)]
    if join_registry(head, blocks) != text:
        raise SystemExit("the base registry is not laid out as head and blocks joined by blank lines: "
                         "benchmarks/run.py must learn the new layout")
    return head, blocks


def join_registry(head: str, blocks: list[str]) -> str:
    return head + "\n\n" + "\n\n".join(blocks) + "\n"


def block_id(block: str) -> str:
    match = HEADER.match(block)
    assert match, block[:80]
    return match.group(1)


def insert_keys(block: str, after: set[str], lines: list[str]) -> str:
    """Insert *lines* among the block's top-level keys, after those named in *after* (canonical key order)."""
    rows = block.split("\n")
    at = len(rows)
    for i, row in enumerate(rows[1:], 1):
        key = KEY.match(row)
        if row.startswith("[") or (key and key.group(1) not in after):
            at = i
            break
    while at > 1 and rows[at - 1] == "":  # a sub-table is preceded by a blank line: stay above it
        at -= 1
    return "\n".join(rows[:at] + lines + rows[at:])


def has_key(block: str, key: str) -> bool:
    return re.search(rf"^{re.escape(key)} = ", block, re.M) is not None


def toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def copy_block(block: str, k: int, owner: str, country: str) -> str:
    """Copy *k* of a partnership: id suffixed ``-sK``, owner ``NAME K`` (the registry's owner when it had none)."""
    pid = block_id(block)
    new = f"{pid}-s{k}"
    rows = []
    for row in block.split("\n"):
        for prefix in (f"[partnerships.{pid}]", f"[partnerships.{pid}.", f"[[partnerships.{pid}."):
            if row.startswith(prefix):
                row = prefix.replace(pid, new) + row[len(prefix):]
                break
        else:
            if row.startswith('owner = "') and row.endswith('"'):
                row = f'{row[:-1]} {k}"'
        rows.append(row)
    out = "\n".join(rows)
    if not has_key(out, "owner"):
        out = insert_keys(out, {"city", "aliases", "country", "region"},
                          [f"owner = {toml_str(f'{owner} {k}')}", f"owner_country = {toml_str(country)}"])
    return out


def with_theme(block: str) -> str:
    """The block with the theme THEME (when it has no themes yet)."""
    if has_key(block, "themes"):
        return block
    before = {"city", "aliases", "country", "region", "owner", "owner_country", "status", "kind", "since",
              "since_note"}
    return insert_keys(block, before, ["themes = [", f'    "{THEME}",', "]"])


def edit_city(block: str) -> str:
    """An edit made outside partnerctl: the partner city's name changed (the file stays canonical)."""
    return re.sub(r'^(city = ".*)"$', r'\1 (edited)"', block, count=1, flags=re.M)


def scale_blocks(head: str, blocks: list[str], n: int) -> list[str]:
    """*n* evenly spaced partnerships of *blocks*, with copies when *n* is larger, in id order, some themed."""
    pool = blocks
    if n > len(blocks):
        owner = tomllib.loads(head)["registry"]
        copies = math.ceil(n / len(blocks))
        pool = blocks + [copy_block(b, k, owner["owner"], owner.get("country", ""))
                         for k in range(2, copies + 1) for b in blocks]
        pool.sort(key=block_id)
        ids = [block_id(b) for b in pool]
        if len(set(ids)) != len(ids):
            raise SystemExit("copied partnerships' ids collide with existing ones")
    chosen = [pool[i * len(pool) // n] for i in range(n)]
    return [with_theme(b) if i % THEMED_EVERY == 0 else b for i, b in enumerate(chosen)]


def build_scale(n: int, head: str, blocks: list[str], work: Path, run: Runner, new: Interp,
                env: dict[str, str]) -> Scale:
    """Write the registry of *n* partnerships and check it once with validate and fmt --check."""
    start = time.perf_counter()
    chosen = scale_blocks(head, blocks, n)
    path = work / f"scale-{n}.toml"
    path.write_text(join_registry(head, chosen), encoding="utf-8")
    mid = chosen[len(chosen) // 2]
    record = tomllib.loads(mid)["partnerships"][block_id(mid)]
    vocab = tomllib.loads(head)
    tag_theme = next((t for t in vocab.get("themes", {}) if t not in (THEME, THEME_NEW)
                      and t not in record.get("themes", [])), None)
    if tag_theme is None or THEME not in vocab.get("themes", {}) or THEME_NEW in vocab.get("themes", {}):
        raise SystemExit(f"the registry must declare {THEME!r} and another theme, and not {THEME_NEW!r}")
    edited = {}
    for count in (1, EDITS):
        picks = {i * len(chosen) // min(count, len(chosen)) + len(chosen) // (3 * count) for i in
                 range(min(count, len(chosen)))}
        edited[count] = work / f"scale-{n}-edited-{count}.toml"
        edited[count].write_text(join_registry(head, [edit_city(b) if i in picks else b
                                                      for i, b in enumerate(chosen)]), encoding="utf-8")
    scale = Scale(n=len(chosen), path=path, target=block_id(mid), city=record["city"],
                  owner=record.get("owner", vocab["registry"]["owner"]), edited=edited, tag_theme=tag_theme,
                  toml_bytes=path.stat().st_size, build_s=time.perf_counter() - start)
    # The check is part of building: without an index (it reads the whole file), once.
    plain = {**env, "PARTNERCTL_NO_INDEX": "1"}
    elapsed, rss, _, _ = run.setup(partnerctl(new, path, "validate"), plain)
    scale.checks["validate"] = {"s": elapsed, "max_rss_mb": rss / 1024}
    elapsed, rss, code, err = run.setup(partnerctl(new, path, "fmt", "--check"), plain, ok=(0, 1))
    scale.checks["fmt_check"] = {"s": elapsed, "max_rss_mb": rss / 1024, "canonical": code == 0}
    if code != 0:
        # Our text layout drifted from partnerctl's canonical form: let partnerctl rewrite it (and say so).
        print(f"note: the {n} registry was not canonical, rewritten with partnerctl fmt: {err.strip()}",
              file=sys.stderr)
        run.setup(partnerctl(new, path, "fmt"), plain)
        scale.toml_bytes = path.stat().st_size
    return scale


# --- cases ------------------------------------------------------------------------------------------


def warm_up(interp: Interp, fx: Fixture, run: Runner, target: str) -> None:
    """A user's cache folder keeps what their first write built (the validators' schemas): a dry-run
    write puts it in the copy every timed write starts from, as it is on a user's machine."""
    run.once(partnerctl(interp, fx.registry, "add-event", target, "--date", "2024-05", "--title", "Warm-up",
                        "--dry-run"), fx.env)


def floor_cases(interp: Interp, env: dict[str, str]) -> list[Case]:
    py = interp.python
    return [Case("python -c pass", "floor", [py, "-c", "pass"], env, interp=interp.label),
            Case("import typer", "floor", [py, "-c", "import typer"], env, interp=interp.label),
            Case("bare Typer app", "floor", [py, str(HERE / "bare_typer.py")], env, interp=interp.label)]


def s_cases(interp: Interp, root: Path, sample: Path, env: dict[str, str], run: Runner, old: bool) -> list[Case]:
    read = Fixture(root / "read", sample, env)
    write = Fixture(root / "write", sample, env)
    for fx in (read, write):  # the first read builds the index: writes start from a current one
        run.once(partnerctl(interp, fx.registry, "show", "turin", "--format", "json"), fx.env)
    warm_up(interp, write, run, "turin")
    write.snapshot()
    cases = [("S show turin --format json", read, ["show", "turin", "--format", "json"]),
             ("S list --theme mobility --format json", read, ["list", "--theme", "mobility", "--format", "json"]),
             ("S add-event turin", write, ["add-event", "turin", "--date", "2024-05", "--title", "Benchmark"])]
    return [Case(name, "S", partnerctl(interp, fx.registry, *args), fx.env, interp=interp.label,
                 prepare=fx.restore if fx is write else None, may_fail=old) for name, fx, args in cases]


def indexed(interp: Interp, sc: Scale, root: Path, env: dict[str, str], run: Runner) -> Fixture:
    """A copy of the scale's registry whose index the first read has built (its cost kept, once per install)."""
    fx = Fixture(root, sc.path, env)
    elapsed, rss, code, err = run.once(partnerctl(interp, fx.registry, "show", sc.target, "--format", "json"), fx.env)
    if code != 0 and interp.label == "new":
        raise SystemExit(f"set-up failed ({code}): {interp.python} show {sc.target} at {sc.n}\n{err}")
    if code != 0:  # the baseline install cannot read it: its cases fail once and are reported as skipped
        return fx
    sc.index.setdefault(interp.label, {"s": elapsed, "max_rss_mb": rss / 1024, "bytes": fx.cache_bytes()})
    return fx


def scale_cases(interp: Interp, sc: Scale, root: Path, env: dict[str, str], run: Runner, full: bool,
                old: bool) -> list[Case]:
    """Every partnerctl case at one scale, on this interpreter's own copies of the registry and index."""
    read = indexed(interp, sc, root / "read", env, run)
    write = indexed(interp, sc, root / "write", env, run)
    warm_up(interp, write, run, sc.target)
    write.snapshot()
    out = root / "out"
    out.mkdir()
    show = ["show", sc.target, "--format", "json"]

    def edited(count: int) -> Callable[[], None]:
        def prepare() -> None:
            write.restore()
            shutil.copyfile(sc.edited[count], write.registry)  # new bytes, new mtime: the index is stale
        return prepare

    def gone(path: Path) -> Callable[[], None]:
        def prepare() -> None:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        return prepare

    specs: list[tuple[str, str, Fixture, list[str], Callable[[], None] | None]] = [
        ("show ID --format json", "read", read, show, None),
        (f"list --country {COUNTRY} --format json", "read", read, ["list", "--country", COUNTRY, "--format", "json"],
         None),
        ("list --owner OWNER --format json", "read", read, ["list", "--owner", sc.owner, "--format", "json"], None),
        ("search CITY --format json", "read", read, ["search", sc.city, "--format", "json"], None),
        ("stats --by country --format json", "read", read, ["stats", "--by", "country", "--format", "json"], None),
        ("add-event", "write", write, ["add-event", sc.target, "--date", "2024-05", "--title", "Benchmark"],
         write.restore),
        ("set status", "write", write, ["set", sc.target, "status", "suspended"], write.restore),
        ("tag", "write", write, ["tag", sc.target, sc.tag_theme], write.restore),
        ("remove --yes", "write", write, ["remove", sc.target, "--yes"], write.restore),
        ("rename", "write", write, ["rename", sc.target, f"{sc.target}-renamed"], write.restore),
        ("themes rename", "write", write, ["themes", "rename", THEME, THEME_NEW, "--label", "Mobility"],
         write.restore),
        ("fmt --check", "write", read, ["fmt", "--check"], None),
        ("export json", "export", read, ["export", "--format", "json"], None),
        ("export jsonl", "export", read, ["export", "--format", "jsonl"], None),
        ("export csv", "export", read, ["export", "--format", "csv"], None),
        ("export sqlite", "export", read, ["export", "--format", "sqlite", "-o", str(out / "x.sqlite")],
         gone(out / "x.sqlite")),
    ]
    if sc.n <= HTML_MAX or full:
        specs.append(("export html", "export", read, ["export", "--format", "html", "-o", str(out / "site")],
                      gone(out / "site")))
    specs += [("read after 1 outside edit", "edit", write, show, edited(1)),
              (f"read after {EDITS} outside edits", "edit", write, show, edited(EDITS))]
    return [Case(name, group, partnerctl(interp, fx.registry, *args), fx.env, scale=sc.n, interp=interp.label,
                 prepare=prep, may_fail=old) for name, group, fx, args, prep in specs]


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def peer_cases(sc: Scale, root: Path, new: Interp, env: dict[str, str], run: Runner,
               tools: dict[str, str]) -> list[Case]:
    """jq on the JSON export and SQL on the SQLite export, asked what show, list --country and stats answer."""
    if not tools:
        return []
    data = root
    data.mkdir(parents=True)
    exported = data / "registry.json"
    run.setup(partnerctl(new, sc.path, "export", "--format", "json", "-o", str(exported)), env)
    db = data / "registry.sqlite"
    run.setup(partnerctl(new, sc.path, "export", "--format", "sqlite", "-o", str(db)), env)
    questions = {
        "show ID": (f"SELECT * FROM partnerships WHERE id = {sql_str(sc.target)}",
                    ["--arg", "id", sc.target, ".partnerships[] | select(.id == $id)"]),
        f"list --country {COUNTRY}": (f"SELECT * FROM partnerships WHERE country = {sql_str(COUNTRY)}",
                                      ["--arg", "c", COUNTRY, "[.partnerships[] | select(.country == $c)]"]),
        "stats --by country": ("SELECT country AS key, count(*) AS count FROM partnerships GROUP BY country "
                               "ORDER BY count DESC, key",
                               [".partnerships | group_by(.country) | map({key: .[0].country, count: length})"
                                " | sort_by(-.count)"]),
    }
    cases = []
    for question, (sql, jq) in questions.items():
        if "jq" in tools:
            cases.append(Case(f"jq: {question}", "peer", [tools["jq"], *jq, str(exported)], env, scale=sc.n))
        if "sqlite3" in tools:
            cases.append(Case(f"sqlite3: {question}", "peer", [tools["sqlite3"], "-json", str(db), sql], env,
                              scale=sc.n))
        if "sqlite-utils" in tools:
            cases.append(Case(f"sqlite-utils: {question}", "peer", [tools["sqlite-utils"], "query", str(db), sql],
                              env, scale=sc.n))
    return cases


def find_peers() -> dict[str, str]:
    """The peer tools found: beside this interpreter first (a venv's sqlite-utils), then on the PATH."""
    found = {}
    for tool in ("jq", "sqlite3", "sqlite-utils"):
        beside = Path(PY).parent / tool
        path = str(beside) if beside.exists() else shutil.which(tool)
        if path:
            found[tool] = path
        else:
            print(f"note: {tool} is not installed: its peer cases are skipped", file=sys.stderr)
    return found


# --- measuring and reporting ------------------------------------------------------------------------


def measure(cases: list[Case], runs: int, run: Runner, warm: Callable[[Case], bool]) -> None:
    """One untimed round of the *warm* cases (bytecode, caches), then *runs* interleaved timed rounds."""
    start = time.perf_counter()
    for case in cases:
        if warm(case):
            run.case(case, timed=False)
    for r in range(runs):
        for case in cases:
            if not case.failed:
                run.case(case, timed=True)
        print(f"  round {r + 1}/{runs} done, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ms(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.1f}" if value < 1000 else f"{value:,.0f}"


def mb(value: int) -> str:
    return f"{value / 1e6:.2f} MB"


class Results:
    """Look-ups over the measured cases."""

    def __init__(self, cases: list[Case]) -> None:
        self.by = {(c.name, c.scale, c.interp): c for c in cases}

    def get(self, name: str, scale: int | None = None, interp: str | None = "new") -> Case | None:
        case = self.by.get((name, scale, interp))
        return case if case and case.times else None

    def median(self, name: str, scale: int | None = None, interp: str | None = "new") -> float:
        case = self.get(name, scale, interp)
        return case.median_ms if case else math.nan


def report_floors(res: Results, cases: list[Case], baseline: bool) -> str:
    rows = [["case", "median ms", "vs pass", "vs bare app", "max RSS MB"] + (["new/old"] if baseline else [])]
    for c in cases:
        if c.scale is not None or c.interp != "new":
            continue
        pass_ms, bare = res.median("python -c pass"), res.median("bare Typer app")
        row = [c.name, ms(c.median_ms), f"{c.median_ms / pass_ms:.2f}x",
               f"{c.median_ms / bare:.2f}x" if c.name not in ("python -c pass", "import typer") else "",
               f"{c.rss_kb / 1024:.1f}"]
        if baseline:
            row.append(ratio_text(c.median_ms, res.median(c.name, None, "old")))
        rows.append(row)
    return table(rows)


def ratio_text(a: float, b: float) -> str:
    return "" if math.isnan(a) or math.isnan(b) or b == 0 else f"{a / b:.2f}x"


def slope(res: Results, name: str, scales: list[int], interp: str | None) -> str:
    """Growth between the two largest scales as an exponent: ~0 flat, ~1 in proportion to the file."""
    pts = [(n, res.median(name, n, interp)) for n in scales]
    pts = [(n, t) for n, t in pts if not math.isnan(t)]
    if len(pts) < 2:
        return ""
    (n1, t1), (n2, t2) = pts[-2], pts[-1]
    return f"{math.log(t2 / t1) / math.log(n2 / n1):.2f}"


def report_scales(res: Results, cases: list[Case], scales: list[int], what: str) -> str:
    groups = {c.name: c.group for c in cases if c.scale is not None}
    names = [n for n in groups if what != "new/old" or groups[n] != "peer"]  # peers have no baseline
    bare = res.median("bare Typer app")
    head = ["case"] + [f"{n:,}" for n in scales]
    if what == "ms":
        head += ["exponent", f"vs bare app at {scales[-1]:,}"]
    rows = [head]
    for name in names:
        interp = None if groups[name] == "peer" else "new"
        row = [name]
        for n in scales:
            case = res.get(name, n, interp)
            if case is None:
                row.append("")
            elif what == "ms":
                row.append(ms(case.median_ms))
            elif what == "rss":
                row.append(f"{case.rss_kb / 1024:.0f}")
            elif what == "out":
                row.append(f"{case.out_bytes / 1e3:,.1f}")
            else:  # new/old
                row.append(ratio_text(case.median_ms, res.median(name, n, "old")) if interp else "")
        if what == "ms":
            row += [slope(res, name, scales, interp), ratio_text(res.median(name, scales[-1], interp), bare)]
        rows.append(row)
    return table(rows)


def targets(res: Results, scales: list[Scale], real: int | None) -> list[list[str]]:
    """The issue's targets, each as [target, figure, met], from ratios within this run."""
    checks: list[list[str]] = []
    ns = [s.n for s in scales]
    largest = max(ns) if ns else None

    def check(label: str, value: float, limit: float, unit: str = "x") -> None:
        if math.isnan(value):
            return
        figure = f"{value:.2f}x" if unit == "x" else f"{value:.0f} MB"
        checks.append([label, figure, "yes" if value <= limit else "NO"])

    pass_ms, bare = res.median("python -c pass"), res.median("bare Typer app")
    check("S show turin --format json <= 8x python -c pass", res.median("S show turin --format json") / pass_ms, 8)
    for n in ns:
        check(f"show ID --format json at {n:,} <= 8x python -c pass", res.median("show ID --format json", n) / pass_ms,
              8)
    # The scale that is the real dataset: its imported count, or the default scale made from it (26,109 before
    # the import skipped the gazetteer's duplicates; 26,102 now), within 1 %.
    real = next((n for n in ns if real and abs(n - real) <= real / 100), None)
    if real in ns:
        for name in ("remove --yes", "rename"):
            check(f"{name} at {real:,} <= 1.5x add-event", res.median(name, real) / res.median("add-event", real),
                  1.5)
    if real in ns and largest and largest > real:
        for name in ("add-event", "set status", "tag"):
            check(f"{name} at {largest:,} <= 1.3x at {real:,}", res.median(name, largest) / res.median(name, real),
                  1.3)
    if largest:
        for name in ("stats --by country --format json", f"list --country {COUNTRY} --format json"):
            check(f"{name} at {largest:,} <= 2x bare Typer app", res.median(name, largest) / bare, 2)
        worst = max((c for c in res.by.values() if c.scale == largest and c.interp == "new" and c.times),
                    key=lambda c: c.rss_kb, default=None)
        if worst:
            check(f"peak RSS at {largest:,} < {RSS_LIMIT_MB} MB (worst: {worst.name})", worst.rss_kb / 1024,
                  RSS_LIMIT_MB, unit="MB")
    for sc in scales:
        index = sc.index.get("new", {}).get("bytes")
        if index:
            checks.append([f"index size / TOML size at {sc.n:,} ({mb(index)} / {mb(sc.toml_bytes)})",
                           f"{index / sc.toml_bytes:.2f}x", "-"])
    for n in ns:
        current = res.median("show ID --format json", n)
        check(f"read after 1 outside edit at {n:,} <= 1.5x a read with a current index",
              res.median("read after 1 outside edit", n) / current, 1.5)
        check(f"read after {EDITS} outside edits at {n:,} <= 3x a read with a current index",
              res.median(f"read after {EDITS} outside edits", n) / current, 3)
    return checks


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def versions(interp: Interp, env: dict[str, str], run: Runner) -> str:
    code = ("import importlib.metadata as m, platform\n"
            "print('Python', platform.python_version(), '/ typer', m.version('typer'), '/ partnerctl',"
            " m.version('partnerctl'))")
    run.setup([interp.python, "-c", code], env)
    return run.stdout().strip()


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"tiny: scales {','.join(map(str, QUICK_SCALES))} from {QUICK_BASE_ROWS} imported rows,"
                             " 2 runs; checks the script works")
    parser.add_argument("--scales", help=f"partnerships per registry, comma-separated (default "
                                         f"{','.join(map(str, SCALES))})")
    parser.add_argument("--runs", type=int, help="timed runs per case (default 5, --quick 2)")
    parser.add_argument("--full", action="store_true", help=f"also export html above {HTML_MAX:,} partnerships")
    parser.add_argument("--csv", type=Path, default=DATASET, help="the twin-towns dataset")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--baseline-python", help="another interpreter with another partnerctl installed: "
                                                  "every case also runs there, interleaved; prints new/old")
    parser.add_argument("--build-only", action="store_true",
                        help="build and check the registries and their indexes, time no case")
    args = parser.parse_args(argv)
    try:
        args.scales = sorted({int(s.replace("_", "")) for s in args.scales.split(",")}) if args.scales else sorted(
            QUICK_SCALES if args.quick else SCALES)
    except ValueError:
        parser.error("--scales takes whole numbers separated by commas")
    if any(n < 1 for n in args.scales):
        parser.error("--scales must be positive")
    args.runs = args.runs or (2 if args.quick else 5)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="partnerctl-bench-"))
    # Installed packages have compiled bytecode; each registry's index lives in its own cache folder.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "FORCE_COLOR") and not k.startswith("PARTNERCTL_")}
    env["XDG_CACHE_HOME"] = str(work / "cache")
    run = Runner(work)
    try:
        report = bench(args, run, work, env)
    finally:
        run.close()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def bench(args: argparse.Namespace, run: Runner, work: Path, env: dict[str, str]) -> dict:
    interps = [Interp("new", PY)]
    if args.baseline_python:
        interps.append(Interp("old", args.baseline_python))
    for interp in interps:
        interp.versions = versions(interp, env, run)
    started = time.perf_counter()

    # The base registry: the dataset imported by partnerctl (one run, reported).
    base = work / "base.toml"
    run.setup([PY, "-m", "partnerctl", "init", str(base), "--owner", "Lyon", "--country", "France"], env)
    if args.csv.exists():
        rows = sample_csv(args.csv, QUICK_BASE_ROWS, work / "quick.csv") if args.quick else args.csv
    elif args.quick:
        rows = synthetic_csv(work / "synthetic.csv", QUICK_BASE_ROWS)
    else:
        raise SystemExit(f"{args.csv} not found: give the twin-towns dataset with --csv")
    import_s, import_rss, _, import_err = run.setup(partnerctl(interps[0], base, "import", str(rows)),
                                                    {**env, "PARTNERCTL_NO_INDEX": "1"})
    head, blocks = split_registry(base.read_text(encoding="utf-8"))
    real = len(blocks)
    base_info = {"csv": str(rows), "partnerships": real, "toml_bytes": base.stat().st_size, "import_s": import_s,
                 "import_max_rss_mb": import_rss / 1024, "import_summary": import_err.strip().splitlines()[-1]}

    scales: list[Scale] = []
    for n in args.scales:
        scales.append(build_scale(n, head, blocks, work, run, interps[0], env))
        print(f"built {scales[-1].n:,} partnerships in {scales[-1].build_s:.1f} s "
              f"(validate {scales[-1].checks['validate']['s']:.1f} s)", file=sys.stderr, flush=True)

    sample = work / "sample.toml"
    run.setup([PY, "-m", "partnerctl", "init", str(sample), "--sample"], env)
    tools = {} if args.build_only else find_peers()
    cases: list[Case] = []
    for interp in interps:
        cases += floor_cases(interp, env)
    for interp in interps:
        cases += s_cases(interp, work / f"S-{interp.label}", sample, env, run, interp.label == "old")
    for sc in scales:
        for interp in interps:
            where = work / f"{sc.n}-{interp.label}"
            if args.build_only:
                indexed(interp, sc, where, env, run)
            else:
                cases += scale_cases(interp, sc, where, env, run, args.full, interp.label == "old")
        cases += peer_cases(sc, work / f"{sc.n}-peers", interps[0], env, run, tools)
    if not args.build_only:
        # Twins next to each other: new and old see the same moment of a busy machine.
        cases.sort(key=lambda c: (c.scale or 0, GROUPS.index(c.group)))
    setup_s = time.perf_counter() - started

    header = (f"partnerctl benchmark: {datetime.date.today()}, {platform.node()}, {platform.machine()}, "
              f"{os.cpu_count()} CPUs, {cpu_model()}, load {os.getloadavg()[0]:.1f}; "
              + "; ".join(f"{i.label}: {i.versions}" for i in interps)
              + f"; {args.runs} runs per case (median), interleaved")
    print(header, flush=True)
    print(f"\nbase: {real:,} partnerships imported from {Path(base_info['csv']).name} by partnerctl import in "
          f"{import_s:.1f} s, max RSS {import_rss / 1024:.0f} MB ({base_info['import_summary']})")
    build_rows = [["partnerships", "TOML", "index", "index/TOML", "build", "validate", "validate RSS", "fmt --check",
                   "canonical", "index build", "index build RSS"]]
    for sc in scales:
        idx = sc.index.get("new", {})
        build_rows.append([f"{sc.n:,}", mb(sc.toml_bytes), mb(idx.get("bytes", 0)),
                           f"{idx.get('bytes', 0) / sc.toml_bytes:.2f}x", f"{sc.build_s:.1f} s",
                           f"{sc.checks['validate']['s']:.1f} s", f"{sc.checks['validate']['max_rss_mb']:.0f} MB",
                           f"{sc.checks['fmt_check']['s']:.1f} s", "yes" if sc.checks["fmt_check"]["canonical"]
                           else "no (fmt)", f"{idx.get('s', 0):.1f} s", f"{idx.get('max_rss_mb', 0):.0f} MB"])
    print(table(build_rows))
    for sc in scales:
        print(f"  {sc.n:,}: ID {sc.target}, OWNER {sc.owner}, CITY {sc.city}, tag {sc.tag_theme}")
    print(f"set-up (import, registries, checks, indexes, exports for the peers): {setup_s:.0f} s", flush=True)

    result = {"date": str(datetime.date.today()), "machine": platform.node(), "cpus": os.cpu_count(),
              "cpu": cpu_model(), "interpreters": {i.label: {"python": i.python, "versions": i.versions}
                                                   for i in interps},
              "runs": args.runs, "base": base_info, "setup_s": setup_s,
              "scales": [{"partnerships": sc.n, "toml_bytes": sc.toml_bytes, "build_s": sc.build_s,
                          "checks": sc.checks, "index": sc.index, "target": sc.target, "owner": sc.owner,
                          "city": sc.city} for sc in scales],
              "peers": sorted(tools), "cases": [], "targets": []}
    if args.build_only:
        return result

    # Warming the smallest scale compiles every module a command imports; --quick saves that round.
    warm = (None,) if args.quick else (None, min(args.scales))
    measure(cases, args.runs, run, warm=lambda c: c.scale in warm)
    res = Results(cases)
    baseline = len(interps) > 1
    ns = [sc.n for sc in scales]
    print("\nfloors and the shipped registry (S)")
    print(report_floors(res, cases, baseline))
    print("\nmedian wall time (ms) by partnerships; exponent: log-log growth between the two largest scales "
          "(0 flat, 1 with the file)")
    print(report_scales(res, cases, ns, "ms"))
    print("\nmax RSS (MB)")
    print(report_scales(res, cases, ns, "rss"))
    print("\nstdout (kB)")
    print(report_scales(res, cases, ns, "out"))
    if baseline:
        print("\nnew/old (median ratio, same rounds)")
        print(report_scales(res, cases, ns, "new/old"))
    skipped = [c for c in cases if c.failed]
    for c in skipped:
        print(f"note: {c.name} ({c.interp}, {c.scale}) skipped: {c.failed}")
    checks = targets(res, scales, real)
    print()
    print(table([["target", "figure", "met"], *checks]))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    result["cases"] = [c.as_dict() for c in cases]
    result["targets"] = checks
    return result


if __name__ == "__main__":
    main()
