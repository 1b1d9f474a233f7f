"""The documentation site builds under --strict (broken links, anchors, references and docstring
markup fail it), its API reference covers every public name of `tf_overparam`, and its nav names
every page in docs/."""

import ast
import importlib
import inspect
import os
import pathlib
import pkgutil
import re
import subprocess
import sys
import types

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: The experiments ship inside the package (`tf_overparam.reproduce`) but are no library API.
NOT_API = {"reproduce"}


def imported_at_module_level():
    """Every module of the package that another module of it imports when it is imported
    (top-level import statements; an import inside a function is an opt-in)."""
    import tf_overparam

    root = pathlib.Path(tf_overparam.__file__).parent
    found = set()
    for path in root.rglob("*.py"):
        package = list(path.relative_to(root.parent).parts[:-1])  # the folder: its package
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = (package[:len(package) - node.level + 1] if node.level else [])
                module = ".".join(base + ([node.module] if node.module else []))
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def public_modules():
    """`tf_overparam`, its public subpackages and modules, and every deeper public module that
    nothing in the package imports up front: an opt-in entry point such as
    `tf_overparam.datasets.tfds`."""
    import tf_overparam

    modules = [tf_overparam]
    for info in pkgutil.iter_modules(tf_overparam.__path__):
        if not info.name.startswith("_") and info.name not in NOT_API:
            modules.append(importlib.import_module(f"tf_overparam.{info.name}"))
    imported = imported_at_module_level()
    for info in pkgutil.walk_packages(tf_overparam.__path__, "tf_overparam."):
        parts = info.name.split(".")[1:]
        if (len(parts) > 1 and parts[0] not in NOT_API and info.name not in imported
                and not any(part.startswith("_") for part in parts)):
            modules.append(importlib.import_module(info.name))
    return modules


def public_names(module):
    """`__all__`, or else the names a module defines that do not start with an underscore."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, value in vars(module).items() if not name.startswith("_")
            and not isinstance(value, types.ModuleType)
            and getattr(value, "__module__", module.__name__) == module.__name__]


def directives():
    """Every `::: identifier` of docs/api/*.md, with its YAML options."""
    found = []
    for page in sorted((DOCS / "api").glob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            match = re.match(r"^::: *([\w.]+) *$", line)
            if not match:
                continue
            block = []
            for following in lines[index + 1:]:
                if following.strip() and not following.startswith("    "):
                    break
                block.append(following[4:])
            options = (yaml.safe_load("\n".join(block)) or {}).get("options", {})
            found.append((page.name, match.group(1), options))
    return found


def resolve(identifier):
    """The object an identifier names: a module, or an attribute of one."""
    module_name, attribute = identifier, None
    while True:
        try:
            value = importlib.import_module(module_name)
            break
        except ModuleNotFoundError:
            module_name, _, tail = module_name.rpartition(".")
            attribute = tail if attribute is None else f"{tail}.{attribute}"
    for part in (attribute.split(".") if attribute else []):
        value = getattr(value, part)
    return value


def documented():
    """(identifiers, ids of objects) that the API pages render: each directive's target and, for a
    module rendered with its members, its public names (or the members the directive lists)."""
    names, objects = set(), set()
    for _, identifier, options in directives():
        value = resolve(identifier)
        names.add(identifier)
        objects.add(id(value))
        members = options.get("members", True)
        if inspect.ismodule(value) and members is not False:
            listed = members if isinstance(members, list) else public_names(value)
            for name in listed:
                names.add(f"{identifier}.{name}")
                objects.add(id(getattr(value, name)))
    return names, objects


def test_the_site_builds_under_strict(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(site)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "WARNING" not in done.stderr, done.stderr[-4000:]
    # The pages, the API reference rendered from the docstrings, the notebooks and the figures.
    assert (site / "index.html").is_file()
    layers = (site / "api" / "layers.html").read_text(encoding="utf-8")
    assert 'id="tf_overparam.layers.OverparamDense"' in layers
    assert "kernel_initializer" in layers  # an argument documented in the docstring
    for notebook in (ROOT / "colab").glob("*.ipynb"):
        assert (site / "colab" / f"{notebook.stem}.html").is_file(), notebook.name
    results = (site / "results.html").read_text(encoding="utf-8")
    for image in re.findall(r'<img[^>]*src="([^"]+\.png)"', results):
        assert (site / image).is_file(), image
    assert (site / "results" / "figure3" / "figure3.png").is_file()
    assert not (site / "results" / "_runs").exists()


def test_every_public_name_has_an_api_entry():
    modules = public_modules()
    assert {m.__name__ for m in modules} >= {
        "tf_overparam", "tf_overparam.layers", "tf_overparam.optimizers", "tf_overparam.losses",
        "tf_overparam.initializers", "tf_overparam.transforms", "tf_overparam.datasets",
        "tf_overparam.fullbatch", "tf_overparam.ops", "tf_overparam.theory",
        "tf_overparam.datasets.tfds"}
    assert not [m.__name__ for m in modules if ".reproduce" in m.__name__]
    names, objects = documented()
    missing = []
    for module in modules:
        if module.__name__ not in names and id(module) not in objects:
            missing.append(module.__name__)
        for name in public_names(module):
            qualified = f"{module.__name__}.{name}"
            if qualified not in names and id(getattr(module, name)) not in objects:
                missing.append(qualified)
    assert not missing, f"public names without an API entry (a ::: directive in docs/api/): {missing}"


def test_every_api_directive_names_something_that_exists():
    found = directives()
    assert len(found) >= 10
    for page, identifier, _ in found:
        assert identifier.startswith("tf_overparam"), (page, identifier)
        assert ".reproduce" not in identifier, (page, identifier)
        resolve(identifier)  # raises for a name that does not exist


def _nav_pages(entries):
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            yield from _nav_pages(value)
        else:
            yield value


def test_the_nav_names_every_page():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    nav = set(_nav_pages(config["nav"]))
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert {"index.md", "design.md", "results.md"} <= pages
    assert not pages - nav, f"pages missing from the nav in mkdocs.yml: {sorted(pages - nav)}"
    for notebook in (ROOT / "colab").glob("*.ipynb"):
        assert f"colab/{notebook.name}" in nav, notebook.name
    for page in nav:  # every entry is a page that exists (docs/) or a notebook (colab/)
        assert (DOCS / page).is_file() or (ROOT / page).is_file(), page


def test_the_doc_tools_are_in_the_extras():
    """`docs` names the site's tools; `dev` (what the test command installs) includes `docs`."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    named = {re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower()
             for requirement in extras["docs"]}
    assert {"mkdocs", "mkdocs-material", "mkdocstrings", "mkdocs-jupyter"} <= named
    assert "tf-overparam[docs]" in extras["dev"]
