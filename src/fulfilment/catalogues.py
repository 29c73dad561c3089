"""gettext catalogues: `.po` files compiled in memory, once per process, so that no
compiled catalogue is kept in the tree and no app built after the first reads them again."""

from __future__ import annotations

import functools
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations


@functools.cache
def compiled(path: Path, language: str) -> Translations:
    """The catalogue at `path` (a `messages.po` of `language`), compiled."""
    with path.open("rb") as source:
        catalogue = read_po(source, locale=language)
    binary = BytesIO()
    write_mo(binary, catalogue)
    binary.seek(0)
    return Translations(binary)
