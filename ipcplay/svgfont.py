"""The font of an SVG screenshot, inside the SVG.

Textual's SVG export (Rich's) names "Fira Code" and fetches it from a CDN: a
viewer offline, or a browser that blocks the fetch, falls back to whatever
monospace font it has, and box-drawing lines and block characters then come
out at other widths. Here the @font-face rules are replaced by ones whose data
is the font ipcplay ships (the one its GIFs and MP4s are drawn with), as
base64 in the file. With fontTools installed (the `[video]` extra) only the
characters the picture uses are kept, a few kilobytes; without it the whole
font goes in.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import re
from pathlib import Path

from ipcplay.video import font_path

FAMILY = "ipcplay-mono"
_FACE = re.compile(r"@font-face\s*\{[^}]*\}\s*", re.S)
_FAMILY = re.compile(r"font-family:\s*(?:\"Fira Code\"|Fira Code)\s*,\s*monospace")


def embed_font(svg: str) -> str:
    """`svg` with its font faces embedded; an SVG without Rich's matrix font
    is returned as it was."""
    if not _FAMILY.search(svg):
        return svg
    used = set(html.unescape(re.sub(r"<[^>]*>", " ", svg.split("</style>", 1)[-1])))
    faces = [_face(False, used)]
    if re.search(r"font-weight:\s*(bold|700)", svg.split("</style>", 1)[0].split("-matrix", 1)[-1]):
        faces.append(_face(True, used))
    head, sep, rest = svg.partition("<style>")
    if not sep:
        return svg
    rest = _FACE.sub("", rest, count=2)
    rest = _FAMILY.sub(f'font-family: "{FAMILY}", monospace', rest)
    return head + sep + "\n" + "".join(faces) + rest


def embed_font_in_file(path: Path) -> None:
    """Rewrite the SVG at `path` with its font inside."""
    text = path.read_text(encoding="utf-8")
    path.write_text(embed_font(text), encoding="utf-8")


def _face(bold: bool, chars: set[str]) -> str:
    data, mime = _font_data(bold, chars)
    return (
        "    @font-face {\n"
        f'        font-family: "{FAMILY}";\n'
        f'        src: url("data:{mime};base64,{base64.b64encode(data).decode()}");\n'
        f"        font-style: normal;\n"
        f"        font-weight: {700 if bold else 400};\n"
        "    }\n"
    )


def _font_data(bold: bool, chars: set[str]) -> tuple[bytes, str]:
    """The font, cut down to `chars` when fontTools is there (the licence
    travels with it: the name table is kept whole)."""
    raw = font_path(bold).read_bytes()
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont
    except ImportError:
        return raw, "font/ttf"
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.layout_features = ["*"]
    font = TTFont(io.BytesIO(raw))
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chars | {" "})))
    quiet = logging.getLogger("fontTools.subset")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "FFTM NOT subset": a table no renderer needs
    try:
        subsetter.subset(font)
    finally:
        quiet.setLevel(level)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue(), "font/ttf"
