"""MkDocs hook: the committed figures and the notebooks in the site, without copies in docs/.

- `results/<part>/*.png` (the figures `python -m reproduce` writes; never `results/_runs/`) are
  added to the site at the same path, `results/<part>/<name>.png`.
- `colab/*.ipynb` are added at the same path too, `colab/<name>.ipynb`; mkdocs-jupyter renders
  them (not executed: they are committed without outputs).
- The pages link to these files as they lie in the repository (`../results/figure3/figure3.png`
  from docs/), so the links also work when the Markdown is read on GitHub; in the site they are
  rewritten to the added files. A link to any other file of the repository outside docs/ (a
  script, a test) points at the file in the repository (`repo_url`).
- nbconvert's HTML templates are found where nbconvert is installed, also when that is not
  `sys.prefix` (a virtual environment that reaches another one's site-packages).
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
RESULTS, NOTEBOOKS = "results", "colab"

# A Markdown link or image target, or an HTML src/href attribute.
_LINK = re.compile(r"(\]\()([^)\s]+)(\))|((?:src|href)=\")([^\"]+)(\")")


def _site_path(repo_path: str) -> str | None:
    """Where a repository file (path relative to the root) is in the site, or None."""
    parts = repo_path.split("/")
    if (len(parts) == 3 and parts[0] == RESULTS and not parts[1].startswith("_")
            and parts[2].endswith(".png")):
        return repo_path
    if len(parts) == 2 and parts[0] == NOTEBOOKS and parts[1].endswith(".ipynb"):
        return repo_path
    return None


def _repository_file(path: Path, config) -> File:
    """A file of the repository at its own path in the site. (A real source folder, not
    `File.generated`: mkdocs-jupyter's page wrapper finds the notebook through `src_dir`.)"""
    return File(path.relative_to(ROOT).as_posix(), src_dir=str(ROOT), dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls)


def on_config(config):
    try:
        import nbconvert
    except ImportError:
        return config
    # <prefix>/lib/pythonX.Y/site-packages/nbconvert/__init__.py → <prefix>/share/jupyter
    share = Path(nbconvert.__file__).resolve().parents[4] / "share" / "jupyter"
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if (share / "nbconvert" / "templates").is_dir() and str(share) not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join(paths + [str(share)])
    return config


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files, config):
    for path in sorted((ROOT / RESULTS).glob("*/*.png")):
        if not path.parent.name.startswith("_"):
            files.append(_repository_file(path, config))
    for path in sorted((ROOT / NOTEBOOKS).glob("*.ipynb")):
        files.append(_repository_file(path, config))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri.startswith(NOTEBOOKS + "/"):
        return markdown
    page_dir = posixpath.dirname(page.file.src_uri)
    repo_url = config.get("repo_url") or ""

    def rewrite(match):
        groups = match.groups()
        before, target, after = groups[0:3] if groups[0] else groups[3:6]
        if re.match(r"^[a-z]+:|^#|^/", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        # The target as a path from the repository root, seen from docs/<page_dir>/.
        in_repo = posixpath.normpath(posixpath.join("docs", page_dir, path))
        if in_repo.startswith("docs/") or in_repo.startswith(".."):
            return match.group(0)  # inside docs/ (MkDocs checks it), or outside the repository
        site = _site_path(in_repo)
        if site is not None:
            new = posixpath.relpath(site, page_dir or ".")
        elif (ROOT / in_repo).exists() and repo_url:
            kind = "tree" if (ROOT / in_repo).is_dir() else "blob"
            new = f"{repo_url.rstrip('/')}/{kind}/main/{in_repo}"
        else:
            return match.group(0)  # MkDocs reports it under --strict
        return f"{before}{new}{'#' + anchor if anchor else ''}{after}"

    return _LINK.sub(rewrite, markdown)
