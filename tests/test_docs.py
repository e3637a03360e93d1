"""The documentation: its numbers come from results files, the files name their commands, the
README is rendered from its template, and every measured-looking number on a page is a
placeholder. (The site build, the browser and the commands on the pages: test_docs_site.py.)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(DOCS))

import make_results  # noqa: E402
import results  # noqa: E402

#: a path of some machine: none may reach a results file or a page
MACHINE_PATH = re.compile(r"(?<![\w.~$])/(?:work|root|home|tmp|Users|var/folders|mnt)/")
#: numbers that look measured: a percentage, a ratio, a time, a size, a rate
#: (a ratio is written ``1.6×``; ``32 × 28`` is a shape)
MEASURED = re.compile(
    r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?:[×x](?=[\s,.;)*])|\s*"
    r"(?:%|per ?cent\b|ms\b|s\b|seconds?\b|minutes?\b|hours?\b|[kMG]i?B\b"
    r"|req(?:uests)?/s|requests per second|samples/s|samples per second|GFLOP/s"
    r"|times as fast|times faster))"
)
#: phrases with such numbers that are not measurements (each with its reason)
NOT_MEASURED = {
    "95% interval": "the confidence level of an interval, a setting",
    "95% error bars": "the confidence level of the error bars",
    "95% t interval": "the confidence level",
    "99% within": "a percentile's name (p99), the value beside it is a placeholder",
    "more than 2 GiB": "the readers' size limit, a setting",
    "OWNNET_MAX_BYTES=8GiB": "an example of raising that limit",
}


def pages() -> list[Path]:
    """Every Markdown source of the site, and the README's template."""
    found = [p for p in sorted(DOCS.rglob("*.md")) if "hooks" not in p.parts]
    return [*found, DOCS / "README.md.in"]


def without_placeholders(text: str) -> str:
    text = results.PLACEHOLDER.sub(" ", text)
    return re.sub(r"\\\{\{.*?\}\}", " ", text, flags=re.S)


def test_every_results_file_is_complete_and_names_the_command_that_made_it():
    found = results.read_all()  # each one validated: command, version, date, machine...
    assert set(found) == set(make_results.BY_NAME), (
        "docs/results/ and the registry in docs/make_results.py must list the same names"
    )
    for name, data in found.items():
        entry = make_results.BY_NAME[name]
        assert data["command"].startswith(entry.command), f"{name}: made by another command"
        assert data["regenerate"] == f"python docs/make_results.py --only {name}"
        assert set(results.MACHINE_KEYS) <= set(data["machine"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["date"])
        if entry.check is not None:
            check = data["check"]
            assert check["command"] == (
                f"ownnet sweep --preset {name[len('sweep-') :]} {make_results.CHECK_ARGS}"
            )
            assert check["values"], f"{name}: no small-settings result to compare with"


def test_no_results_file_holds_a_path_of_a_machine():
    for path in sorted((DOCS / "results").glob("*.json")):
        text = path.read_text()
        assert not MACHINE_PATH.search(text), f"{path.name}: {MACHINE_PATH.search(text)[0]}"


def test_a_results_file_is_written_whole_and_read_back(tmp_path):
    values = {"accuracy": 0.9751, "runs": [1, 2]}
    path = results.write(
        "example", command="ownnet train", values=values, seconds=1.25, directory=tmp_path
    )
    assert [p.name for p in tmp_path.iterdir()] == ["example.json"]  # no temporary left
    data = results.read("example", tmp_path)
    assert data["values"] == values and data["settings"] == "full"
    assert json.loads(path.read_text())["regenerate"].endswith("--only example")
    found = {"example": data}
    text, used = results.render("{{ example/accuracy | pct:1 }}% {{ example/runs/-1 }}", found, "t")
    assert (text, used) == ("97.5% 2", ["example"])
    for bad, message in (
        ("{{ example/nothing | pct }}", "has no 'nothing'"),
        ("{{ missing/accuracy | pct }}", "no results file missing.json"),
        ("{{ example/accuracy | weird }}", "unknown format"),
        ("{{ example/accuracy }}", "a float needs a format"),
    ):
        with pytest.raises(results.ResultsError, match=message):
            results.render(bad, found, "page.md")
    with pytest.raises(results.ResultsError, match="header keys"):
        results.write("bad", command="x", values={"date": 1}, seconds=0, directory=tmp_path)
    assert results.render(r"\{{ example/accuracy }}", found, "t")[0] == "{{ example/accuracy }}"


def test_every_measured_looking_number_on_the_pages_is_a_placeholder():
    found = []
    for page in pages():
        text = without_placeholders(page.read_text(encoding="utf-8"))
        for phrase in NOT_MEASURED:
            text = text.replace(phrase, " ")
        for m in MEASURED.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.append(f"{page.relative_to(ROOT)}:{line}: {m[0]!r}")
    assert not found, "numbers written by hand instead of read from a results file:\n" + (
        "\n".join(found)
    )


def test_every_results_placeholder_names_a_value_that_exists():
    found = results.read_all()
    for page in pages():
        text = page.read_text(encoding="utf-8")
        # the hook's own placeholders (src:, lines:, tables) are checked by the site build
        results.render(text, found, str(page.relative_to(ROOT)), other=_hook_kinds)


def _hook_kinds(body: str, here: str) -> str | None:
    kinds = r"(src|lines):|(results-table|api-table|readme-example)$"
    return "" if re.match(kinds, body) else None


def test_no_page_names_a_path_of_a_machine_or_who_built_it():
    for page in [*pages(), ROOT / "mkdocs.yml"]:
        text = page.read_text(encoding="utf-8")
        assert not MACHINE_PATH.search(text), f"{page.name}: {MACHINE_PATH.search(text)[0]}"
        for word in ("agent", "Claude", "assistant", "the lead", "helper"):
            assert word not in text, f"{page.name} speaks of {word!r}"


def test_the_readme_is_its_template_rendered_and_short():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == make_results.render_readme(), (
        "README.md differs from docs/README.md.in with the current results; "
        "run: python docs/make_results.py --readme"
    )
    assert len(readme.encode()) <= 10 * 1024
    setup = re.search(r"```bash\n(.*?)```", readme, re.S)[1].splitlines()
    assert setup == ["pip install . && ownnet train", "pip install -e '.[test]' && pytest"]
    assert readme.index("```bash") < 200, "the two set-up commands come first"
    assert len(re.findall(r"!\[", readme)) == 1, "one picture"
    for target in re.findall(r"\]\(((?:docs/)[^)#]+)", readme):
        assert (ROOT / target).exists(), f"the README links to {target}, which does not exist"


def test_the_registry_runs_each_sweep_preset_and_its_small_settings():
    from ownnet.experiments.presets import PRESETS

    sweeps = {n[len("sweep-") :] for n, e in make_results.BY_NAME.items() if e.check}
    assert sweeps == set(PRESETS), "every sweep preset has a results file, and only they"
    for name, entry in make_results.BY_NAME.items():
        assert entry.command.split()[0] in ("ownnet", "python"), name
        if entry.command.startswith("python"):
            assert (ROOT / entry.command.split()[1]).is_file(), name


def test_the_number_check_knows_a_measurement_when_it_sees_one():
    flagged = ["97.39%", "a 1.6× speed-up", "took 40 s", "137 MB", "1,775 req/s",
               "7,902 samples/s", "2.1 seconds", "3.5 minutes", "1.95 times as fast"]  # fmt: skip
    for text in flagged:
        assert MEASURED.search(text), text
    for text in ["28x28 pixels", "32 × 28 × 28", "lr 0.1, 5 epochs", "784-200-10", "3x3"]:
        assert not MEASURED.search(text), text


def test_every_module_of_the_package_is_in_the_api_reference():
    documented = set()
    for page in (DOCS / "api").glob("*.md"):
        documented |= set(re.findall(r"^::: (ownnet[\w.]*)", page.read_text(), re.M))
    src = ROOT / "src"
    missing = []
    for path in sorted((src / "ownnet").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if parts[-1] in ("__main__",) or name.startswith("ownnet.cli"):
            continue  # the command line is documented by its --help
        if name not in documented:
            missing.append(name)
    assert not missing, f"modules on no page of docs/api/: {missing}"
