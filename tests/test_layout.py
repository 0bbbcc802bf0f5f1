"""The house keeps its shape: imports run downward, modules stay small, every module is tested.

Like mitmproxy's `test/filename_matching.py`: `tests/` mirrors the source tree, so
`proxy/capture/forward.py` is tested in `tests/capture/test_forward.py`; a module tested
somewhere else says where in `COVERED_ELSEWHERE`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.servers import REPO

FLOOR = (
    "model",
    "exchange",
    "operations",
    "contract",
    "sas",
    "signing",
    "inflate",
    "serve",
    "tagexpr",
)
"""The vocabulary: the modules directly in `proxy/`; they import only each other."""

FLOOR_PACKAGES = ("redact",)
"""Vocabulary too big for one module: a package on the floor, importing only the floor."""

LAYERS: tuple[tuple[str, ...], ...] = (
    tuple(f"proxy.{name}" for name in FLOOR + FLOOR_PACKAGES),
    ("proxy.decode",),
    ("proxy.rules",),
    ("proxy.store",),
    ("proxy.recording", "proxy.audit", "proxy.targets", "proxy.tls"),
    ("proxy.capture", "proxy.localhub", "proxy.replay", "proxy.io", "proxy.demo"),
    ("viewer",),
    ("proxy.cli",),
)
"""Bottom to top. A unit may import its own package and lower layers, never a sibling."""

ENTRY_POINTS = {"proxy", "proxy.__main__"}
"""`python -m proxy` and the package's version: above every layer."""

MAX_LINES = 400
MAX_FLOOR_MODULES = 12

COVERED_ELSEWHERE: dict[str, str] = {
    "proxy/audit/report.py": "tests/audit/test_run.py",
    "proxy/capture/app.py": "tests/capture/test_forward.py",
    "proxy/capture/headers.py": "tests/capture/test_forward.py",
    "proxy/capture/settings.py": "tests/capture/test_forward.py",
    "proxy/cli/audit.py": "tests/audit/test_run.py",
    "proxy/cli/ca.py": "tests/tls/test_tls.py",
    "proxy/cli/demo.py": "tests/demo/test_scenario.py",
    "proxy/cli/import_.py": "tests/io/test_sdk_recordings.py",
    "proxy/cli/replay.py": "tests/replay/test_run.py",
    "proxy/cli/view.py": "tests/viewer/test_security.py",
    "proxy/contract.py": "tests/localhub/test_reg_views.py",
    "proxy/decode/errors.py": "tests/decode/test_corpus.py",
    "proxy/decode/xml.py": "tests/decode/test_hostile.py",
    "proxy/demo/client.py": "tests/demo/test_scenario.py",
    "proxy/exchange.py": "tests/recording/test_recorder.py",
    "proxy/localhub/atom.py": "tests/localhub/test_reg_views.py",
    "proxy/localhub/context.py": "tests/localhub/test_reg_views.py",
    "proxy/localhub/decoding.py": "tests/localhub/test_reg_views.py",
    "proxy/localhub/installations.py": "tests/localhub/test_inst_views.py",
    "proxy/localhub/listing.py": "tests/localhub/test_reg_views.py",
    "proxy/localhub/patch.py": "tests/localhub/test_inst_views.py",
    "proxy/localhub/routes.py": "tests/localhub/test_reg_views.py",
    "proxy/localhub/settings.py": "tests/cli/test_hub.py",
    "proxy/localhub/state.py": "tests/localhub/test_reg_views.py",
    "proxy/localhub/validate.py": "tests/localhub/test_reg_views.py",
    "proxy/model.py": "tests/decode/test_registrations.py",
    "proxy/recording/target.py": "tests/recording/test_follow.py",
    "proxy/replay/load.py": "tests/replay/test_rules.py",
    "proxy/replay/remap.py": "tests/replay/test_rules.py",
    "proxy/replay/report.py": "tests/replay/test_run.py",
    "proxy/rules/common.py": "tests/rules/test_examples.py",
    "proxy/rules/context.py": "tests/rules/test_examples.py",
    "proxy/rules/findings.py": "tests/rules/test_examples.py",
    "proxy/rules/installation_templates.py": "tests/rules/test_examples.py",
    "proxy/rules/installations.py": "tests/rules/test_examples.py",
    "proxy/rules/patch.py": "tests/rules/test_examples.py",
    "proxy/rules/registration_ops.py": "tests/rules/test_examples.py",
    "proxy/rules/registration_templates.py": "tests/rules/test_examples.py",
    "proxy/rules/registrations.py": "tests/rules/test_examples.py",
    "proxy/rules/registry.py": "tests/rules/test_examples.py",
    "proxy/rules/responses.py": "tests/rules/test_examples.py",
    "proxy/rules/templates.py": "tests/rules/test_examples.py",
    "proxy/store/pg/keys.py": "tests/store/pg/test_write.py",
    "proxy/store/read.py": "tests/audit/test_run.py",
    "proxy/store/redecode.py": "tests/cli/test_decode.py",
    "proxy/store/rows.py": "tests/recording/test_recorder.py",
    "proxy/store/schema.py": "tests/recording/test_recorder.py",
    "proxy/store/write.py": "tests/recording/test_recorder.py",
    "proxy/targets/explain.py": "tests/targets/test_reach.py",
    "proxy/targets/patch.py": "tests/targets/test_history.py",
    "proxy/targets/recorded.py": "tests/targets/test_agreement.py",
    "proxy/targets/report.py": "tests/cli/test_targets.py",
    "proxy/targets/state.py": "tests/targets/test_history.py",
    "proxy/tls/authority.py": "tests/tls/test_tls.py",
    "proxy/tls/certs.py": "tests/tls/test_tls.py",
    "proxy/tls/handshake_log.py": "tests/tls/test_tls.py",
    "proxy/tls/listener.py": "tests/tls/test_tls.py",
    "proxy/tls/site.py": "tests/tls/test_tls.py",
    "proxy/tls/trust.py": "tests/tls/test_tls.py",
    "viewer/analysis.py": "tests/viewer/test_api.py",
    "viewer/app.py": "tests/viewer/test_api.py",
    "viewer/bodies.py": "tests/viewer/test_api.py",
    "viewer/db.py": "tests/viewer/test_security.py",
    "viewer/diff.py": "tests/viewer/test_api.py",
    "viewer/filters.py": "tests/viewer/test_api.py",
    "viewer/live.py": "tests/viewer/test_api.py",
    "viewer/loaders.py": "tests/viewer/test_api.py",
    "viewer/queries.py": "tests/viewer/test_api.py",
    "viewer/routes.py": "tests/viewer/test_api.py",
    "viewer/sample.py": "tests/viewer/test_api.py",
    "viewer/state.py": "tests/viewer/test_api.py",
    "viewer/templating.py": "tests/e2e/test_viewer_browser.py",
    "viewer/views.py": "tests/e2e/test_viewer_browser.py",
}
"""Modules without a mirrored test file, and the test file that exercises them."""

CROSS_CUTTING = {"e2e", "reliability", "node", "data"}
"""Test folders that mirror no package: real SDKs and browsers, faults across the house, and
the test data (`data/`)."""


def _sources() -> list[Path]:
    found = [*(REPO / "proxy").rglob("*.py"), *(REPO / "viewer").rglob("*.py")]
    return sorted(path.relative_to(REPO) for path in found)


def _module(path: Path) -> str:
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """The layer unit a module belongs to: a floor module, or its top-level package."""
    if module in ENTRY_POINTS or module.split(".")[0] == "viewer":
        return module if module in ENTRY_POINTS else "viewer"
    parts = module.split(".")
    if len(parts) >= 2 and (REPO / "proxy" / parts[1]).is_dir():
        return f"proxy.{parts[1]}"
    return module


def _rank(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def _imports(path: Path) -> set[str]:
    """Every hubscope module `path` imports, relative imports resolved, names as submodules."""
    module, is_package = _module(path), path.name == "__init__.py"
    known = {_module(p) for p in _sources()}
    found: set[str] = set()
    for node in ast.walk(ast.parse((REPO / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = module.split(".") if is_package else module.split(".")[:-1]
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
    return {name for name in found if name.split(".")[0] in ("proxy", "viewer")}


@pytest.mark.parametrize("path", _sources(), ids=str)
def test_imports_run_downward(path: Path) -> None:
    module = _module(path)
    unit = _unit(module)
    if unit in ENTRY_POINTS:
        return
    for imported in _imports(path):
        other = _unit(imported)
        if other == unit or other == "proxy":
            continue
        assert (
            other not in ENTRY_POINTS
            and _rank(other) < _rank(unit)
            or (_rank(other) == 0 and _rank(unit) == 0)
        ), f"{module} ({unit}) imports {imported} ({other}): not below it in LAYERS"


def test_every_package_is_placed_in_a_layer() -> None:
    packages = {
        f"proxy.{p.name}" for p in (REPO / "proxy").iterdir() if (p / "__init__.py").exists()
    }
    placed = {unit for layer in LAYERS for unit in layer}
    assert packages | {"viewer"} <= placed
    machinery = {"__init__", "__main__", "compiled"}  # how the package runs and loads
    floor = {p.stem for p in (REPO / "proxy").glob("*.py")} - machinery
    assert floor == set(FLOOR), "a new module directly in proxy/ belongs in a package or in FLOOR"


def test_the_floor_is_small_and_modules_are_short() -> None:
    assert len(FLOOR) + len(FLOOR_PACKAGES) + 2 <= MAX_FLOOR_MODULES
    long = {
        str(p): n for p in _sources() if (n := len((REPO / p).read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these modules (over {MAX_LINES} lines): {long}"


@pytest.mark.parametrize("path", [p for p in _sources() if p.name == "__init__.py"], ids=str)
def test_each_package_says_what_it_is_for_and_what_it_may_import(path: Path) -> None:
    doc = ast.get_docstring(ast.parse((REPO / path).read_text(encoding="utf-8"))) or ""
    assert doc, f"{path} has no docstring"
    if path.parent.name not in ("proxy",):
        assert "import" in doc, f"{path}: say what the package may import"


def _mirror(path: Path) -> Path:
    parts = path.parts[1:] if path.parts[0] == "proxy" else path.parts
    return Path("tests", *parts[:-1], f"test_{path.stem}.py")


TESTED = [p for p in _sources() if p.name not in ("__init__.py", "__main__.py")]


@pytest.mark.parametrize("path", TESTED, ids=str)
def test_every_module_has_its_test(path: Path) -> None:
    mirror = _mirror(path)
    elsewhere = COVERED_ELSEWHERE.get(str(path))
    assert (REPO / mirror).exists() or elsewhere, f"{path}: write {mirror} or list it"
    if elsewhere:
        assert not (REPO / mirror).exists(), f"{path} has {mirror}: drop it from COVERED_ELSEWHERE"
        assert (REPO / elsewhere).exists(), f"{path} is said to be tested in {elsewhere}"


def test_covered_elsewhere_names_only_real_modules() -> None:
    assert set(COVERED_ELSEWHERE) <= {str(p) for p in TESTED}


def test_test_folders_mirror_the_source() -> None:
    folders = {p.name for p in (REPO / "tests").iterdir() if p.is_dir() and p.name[0] != "_"}
    sources = {p.name for p in (REPO / "proxy").iterdir() if (p / "__init__.py").exists()}
    assert folders - CROSS_CUTTING <= sources | {"viewer"}, "a test folder with no package"


def test_the_readme_maps_every_folder() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    for package in sorted(
        p.name for p in (REPO / "proxy").iterdir() if (p / "__init__.py").exists()
    ):
        assert f"`proxy/{package}/`" in section, f"README: say what proxy/{package}/ is"
    for name in FLOOR:
        assert f"`{name}`" in section, f"README: say what proxy/{name}.py is"
