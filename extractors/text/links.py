"""Symbolic links in local input folders: which to read and which to refuse.

A crawl folder can hold a link to anywhere (`/etc/shadow`); following it would ingest a file
the user never named. Links that leave the folder or glob they were found in are refused
(a `link_outside_input` dead letter each) unless the user asks to follow them.
"""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Iterator

from corpusmill import storage
from corpusmill.schema import DeadLetter, dead_letter

REASON = "link_outside_input"


def through_links(src: str, files: list[str], follow_links: bool) -> tuple[list[str], list[str]]:
    """The files of `src` to read, and those refused: links out of a local folder or glob.

    A link to a folder is listed, not descended into: one inside the root is dropped (its
    files are read under their own paths), one outside is refused or, with `follow_links`,
    read one level deep (links within it are not followed again, so no loop).
    """
    fs, p = storage.filesystem(src)
    if "file" not in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
        return files, []  # object stores have no links
    root = p.rstrip("/")
    while _glob.has_magic(root):
        root = os.path.dirname(root)
    if not os.path.isdir(root):
        return files, []  # a file named on its own is read, wherever it points
    real_root = os.path.realpath(root)
    read: list[str] = []
    refused: list[str] = []
    for f in files:
        local = storage.filesystem(f)[1]
        outside = os.path.commonpath([real_root, os.path.realpath(local)]) != real_root
        if outside and not follow_links:
            refused.append(f)
        elif os.path.isdir(local):
            read.extend(storage.expand(f) if outside else [])
        else:
            read.append(f)
    return sorted(read), refused


def refused_links(paths: tuple[str, ...], stage: str) -> Iterator[DeadLetter]:
    for path in paths:
        yield dead_letter(
            uri=path,
            stage=stage,
            reason=REASON,
            error="RecordError",
            message=f"{path} is a symbolic link to {os.path.realpath(storage.filesystem(path)[1])}, outside the "
            "input folder; not read (pass --follow-links to read it)",
        )
