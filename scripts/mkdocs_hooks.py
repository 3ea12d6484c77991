"""MkDocs hooks for the documentation site (mkdocs.yml names this file).

The pages are also read on GitHub, where a link such as ``../../configs/studies/seq_len.yaml``
from a study report opens the study file. The site is built from docs/ only, so such a link
would point outside it: here each repository file that a page links to outside docs/ is
published with the site under ``repo/`` (as a copy, the same file) and the link is pointed at
that copy. A link to a file that does not exist is left as it is, and the strict build fails on
it, as on any broken link.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File, Files

#: ``[text](target)`` and ``![alt](target)`` with a relative target (no scheme, no leading /).
LINK = re.compile(r"(\]\()(?!https?:|mailto:|#|/)([^)\s#]+)(#[^)\s]*)?(\))")
PUBLISHED = "repo"


def _outside_target(docs_dir: Path, page_src: str, target: str) -> Path | None:
    """The repository file a link from ``page_src`` (relative to docs/) points at, when outside docs/."""
    path = (docs_dir / posixpath.dirname(page_src) / target).resolve()
    repo = docs_dir.resolve().parent
    if path.is_relative_to(docs_dir.resolve()) or not path.is_relative_to(repo) or not path.is_file():
        return None
    return path


def on_files(files: Files, config) -> Files:  # noqa: ANN001
    docs_dir = Path(config["docs_dir"])
    repo = docs_dir.resolve().parent
    wanted: set[Path] = set()
    for file in list(files):
        if file.src_uri.endswith(".md") and file.abs_src_path:
            for match in LINK.finditer(Path(file.abs_src_path).read_text(encoding="utf-8")):
                target = _outside_target(docs_dir, file.src_uri, match.group(2))
                if target is not None:
                    wanted.add(target)
    for path in sorted(wanted):
        uri = f"{PUBLISHED}/{path.relative_to(repo).as_posix()}"
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001
    docs_dir = Path(config["docs_dir"])
    repo = docs_dir.resolve().parent

    def point(match: re.Match[str]) -> str:
        target = _outside_target(docs_dir, page.file.src_uri, match.group(2))
        if target is None:
            return match.group(0)
        copy = f"{PUBLISHED}/{target.relative_to(repo).as_posix()}"
        relative = os.path.relpath(copy, posixpath.dirname(page.file.src_uri) or ".")
        return f"{match.group(1)}{Path(relative).as_posix()}{match.group(3) or ''}{match.group(4)}"

    return LINK.sub(point, markdown)
