"""A recording as a video: the asciicast replayed through a terminal emulator
(pyte) and drawn cell by cell with the font ipcplay ships, so a GIF or an MP4
looks the same on every machine that makes it.

Why not a separate player: a teacher should get a video from `pip install
"ipcplay[video]"` alone. Pillow draws and writes the GIF; the MP4 goes
through the ffmpeg binary that the imageio-ffmpeg wheel carries.

Frames are sampled at a fixed rate; a sample whose picture did not change
only lengthens the previous frame (a GIF frame then lasts longer; an MP4,
which needs a constant rate, repeats it, which costs the encoder almost
nothing). Only the rows the emulator marks as changed are redrawn.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import math
import os
import tempfile
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

FPS = 10
CELL_W = 10
"""Pixels per column; the font size is chosen so one advance is exactly this,
so box-drawing lines meet their neighbours."""
ADVANCE = 1233 / 2048
"""DejaVu Sans Mono's advance width, in ems."""
BACKGROUND = (18, 18, 18)
FOREGROUND = (224, 224, 224)
ALPHA_LEVELS = 4
"""Anti-aliasing kept to this many steps: a frame then holds few colours, so
the GIF's 256-colour palette holds them all exactly, frame after frame."""

RGB = tuple[int, int, int]
Event = Sequence[Any]  # [t, code, data], as in the .cast file


class MissingVideoPackages(RuntimeError):
    """The optional `[video]` packages are not installed."""


def read_cast(path: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    """An asciicast v2 file: its header and its events."""
    with path.open(encoding="utf-8") as file:
        header = json.loads(file.readline())
        events = [json.loads(line) for line in file if line.strip()]
    return header, events


def font_path(bold: bool = False) -> Path:
    """The monospace font shipped with ipcplay (DejaVu Sans Mono, free licence)."""
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    return Path(str(resources.files("ipcplay") / "fonts" / name))


def require(gif: bool, mp4: bool) -> None:
    """Fail before a recording starts, not after it, when a package is missing."""
    need = []
    if gif or mp4:
        need += [("PIL", "Pillow"), ("pyte", "pyte")]
    if mp4:
        need.append(("imageio_ffmpeg", "imageio-ffmpeg"))
    missing = []
    for module, package in need:
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        what = " and ".join(opt for opt, wanted in (("--gif", gif), ("--mp4", mp4)) if wanted)
        raise MissingVideoPackages(
            f"{what} needs {', '.join(missing)}: pip install 'ipcplay[video]'"
        )


@dataclass(frozen=True)
class Video:
    """A video written, and what it cost, for the recorder's report."""

    path: Path
    width_px: int
    height_px: int
    frames: int  # distinct pictures (GIF) or frames written (MP4)
    duration_s: float
    size_bytes: int
    render_s: float


_NAMED = ("black", "red", "green", "brown", "blue", "magenta", "cyan", "white")


@functools.lru_cache(maxsize=4096)
def _rgb(name: str, default: RGB) -> RGB:
    """A pyte colour: 'default', a name ('red', 'brightblue') or 'rrggbb'."""
    if name == "default" or not name:
        return default
    if len(name) == 6:
        with contextlib.suppress(ValueError):
            return (int(name[0:2], 16), int(name[2:4], 16), int(name[4:6], 16))
    bright = name.startswith("bright")
    base = name[6:] if bright else name
    if base in _NAMED:
        import pyte.graphics

        hexa = pyte.graphics.FG_BG_256[_NAMED.index(base) + (8 if bright else 0)]
        return _rgb(hexa, default)
    return default


class Painter:
    """Draws a pyte screen into one palette image, a row at a time.

    Why a palette image: a terminal frame holds few colours (each cell's
    background, its text colour and ALPHA_LEVELS - 2 blends of the two), so
    every colour gets its own palette entry as it first appears, and a GIF is
    exact without a quantiser (which costs more than the drawing)."""

    def __init__(self, cols: int, rows: int, cell_w: int = CELL_W) -> None:
        from PIL import Image, ImageFont

        size = cell_w / ADVANCE
        self.fonts = {
            False: ImageFont.truetype(str(font_path(False)), size),
            True: ImageFont.truetype(str(font_path(True)), size),
        }
        ascent, descent = self.fonts[False].getmetrics()
        self.cw, self.ch, self.ascent = cell_w, ascent + descent, ascent
        self.cols, self.rows = cols, rows
        self.image = Image.new("P", (cols * self.cw, rows * self.ch), 0)
        self.colours: dict[RGB, int] = {BACKGROUND: 0}
        self._glyphs: dict[tuple[str, bool, int], list[tuple[int, Image.Image]]] = {}
        # What each cell shows now: pyte redraws whole rows, where often one
        # number changed, so only the cells that differ are drawn again.
        self._shown: list[list[Any]] = [[None] * cols for _ in range(rows)]

    def palette(self) -> list[int]:
        """The colours so far, flat, in index order (indices never change)."""
        return [component for rgb in self.colours for component in rgb]

    def index(self, rgb: RGB) -> int:
        """`rgb`'s palette entry; past 256 colours, the nearest one's."""
        entry = self.colours.get(rgb)
        if entry is None:
            if len(self.colours) < 256:
                entry = self.colours[rgb] = len(self.colours)
            else:
                near = min(self.colours, key=lambda colour: _distance(colour, rgb))
                entry = self.colours[near]
        return entry

    def glyph(self, char: str, bold: bool, cells: int) -> list[tuple[int, Image.Image]]:
        """The character's coverage, cropped to its cells (block and box
        glyphs reach a pixel past them), as one 1-bit mask per alpha step."""
        key = (char, bold, cells)
        if key not in self._glyphs:
            from PIL import Image, ImageDraw

            mask = Image.new("L", (self.cw * cells, self.ch), 0)
            ImageDraw.Draw(mask).text(
                (0, self.ascent), char, fill=255, font=self.fonts[bold], anchor="ls"
            )
            top = ALPHA_LEVELS - 1
            steps = mask.point(lambda value: round(value * top / 255))
            self._glyphs[key] = [
                (step, level)
                for step in range(1, ALPHA_LEVELS)
                if (
                    level := steps.point(
                        lambda value, step=step: 255 if value == step else 0
                    ).convert("1")
                ).getbbox()
            ]
        return self._glyphs[key]

    def paint(self, screen: Any, rows: set[int] | range) -> int:
        """Draw these rows of `screen`; how many cells changed."""
        return sum(self._row(screen.buffer[row], row) for row in rows if 0 <= row < self.rows)

    def _row(self, line: Any, y: int) -> int:
        from PIL import ImageDraw

        top = y * self.ch
        shown = self._shown[y]
        changed = 0
        x = 0
        while x < self.cols:
            cell = line[x]
            cells = 2 if x + 1 < self.cols and line[x + 1].data == "" else 1
            if cell.data == "" or (
                cell == shown[x] and (cells == 1 or line[x + 1] == shown[x + 1])
            ):
                x += 1  # unchanged, or the right half of a wide character, drawn with it
                continue
            changed += 1
            shown[x] = cell
            if cells == 2:
                shown[x + 1] = line[x + 1]
            fg, bg = _rgb(cell.fg, FOREGROUND), _rgb(cell.bg, BACKGROUND)
            if cell.reverse:
                fg, bg = bg, fg
            box = (x * self.cw, top, (x + cells) * self.cw, top + self.ch)
            self.image.paste(self.index(bg), box)
            if cell.data.strip():
                for step, level in self.glyph(cell.data, bool(cell.bold), cells):
                    self.image.paste(self.index(_blend(bg, fg, step)), box, level)
            if cell.underscore or cell.strikethrough:
                draw = ImageDraw.Draw(self.image)
                for drawn, offset in (
                    (cell.underscore, self.ascent + 1),
                    (cell.strikethrough, self.ch // 2),
                ):
                    if drawn:
                        draw.line(
                            (box[0], top + offset, box[2] - 1, top + offset), fill=self.index(fg)
                        )
            x += cells
        return changed


def _distance(one: RGB, other: RGB) -> int:
    """The squared distance of two colours, for the nearest palette entry."""
    return sum((mine - theirs) ** 2 for mine, theirs in zip(one, other, strict=True))


@functools.lru_cache(maxsize=4096)
def _blend(bg: RGB, fg: RGB, step: int) -> RGB:
    """The colour of a pixel step/(ALPHA_LEVELS-1) covered by text."""
    fraction = step / (ALPHA_LEVELS - 1)
    red, green, blue = (
        round(back + (front - back) * fraction) for back, front in zip(bg, fg, strict=True)
    )
    return (red, green, blue)


def frames(
    events: Sequence[Event], cols: int, rows: int, end: float, fps: int = FPS
) -> Iterator[tuple[Image.Image, int, Painter]]:
    """Each distinct picture of the recording (a palette image: see Painter)
    and for how many ticks of 1/fps it stays, up to `end` (output at `end`
    itself, the app's goodbye, is not shown)."""
    import pyte

    screen = pyte.Screen(cols, rows)
    stream = pyte.Stream(screen)
    painter = Painter(cols, rows)
    painter.paint(screen, range(rows))
    screen.dirty.clear()
    current = painter.image.copy()
    count = 0
    next_event = 0
    for tick in range(max(1, math.ceil(end * fps - 1e-9))):
        at = tick / fps
        while next_event < len(events) and events[next_event][0] <= at:
            if events[next_event][1] == "o":
                stream.feed(events[next_event][2])
            next_event += 1
        if screen.dirty:
            changed = painter.paint(screen, set(screen.dirty))
            screen.dirty.clear()
            if changed:
                if count:
                    yield current, count, painter
                current, count = painter.image.copy(), 0
        count += 1
    yield current, count, painter


def write_gif(
    events: Sequence[Event], cols: int, rows: int, end: float, out: Path, fps: int = FPS
) -> Video:
    """An endlessly looping GIF; each frame lasts as long as its picture did."""
    started = time.perf_counter()
    pictures: list[Image.Image] = []
    durations: list[int] = []
    palette: list[int] = []
    for image, ticks, painter in frames(events, cols, rows, end, fps):
        pictures.append(image)
        durations.append(round(ticks * 1000 / fps))
        palette = painter.palette()
    for picture in pictures:  # one palette for all: indices never change
        picture.putpalette(palette)

    def save(tmp: Path) -> None:
        pictures[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=pictures[1:],
            duration=durations,
            loop=0,
        )

    _atomic(out, save)
    width, height = pictures[0].size
    return Video(
        out,
        width,
        height,
        len(pictures),
        sum(durations) / 1000,
        out.stat().st_size,
        time.perf_counter() - started,
    )


def write_mp4(
    events: Sequence[Event], cols: int, rows: int, end: float, out: Path, fps: int = FPS
) -> Video:
    """H.264 in yuv420p, which every browser and phone plays; the picture is
    padded to even sides, as that format needs."""
    from PIL import Image

    started = time.perf_counter()
    pictures = frames(events, cols, rows, end, fps)
    first, first_ticks, painter0 = next(pictures)
    width, height = first.size
    even_width, even_height = width + width % 2, height + height % 2
    written = 0

    def save(tmp: Path) -> None:
        nonlocal written
        writer = _h264_writer(tmp, (even_width, even_height), fps)
        try:
            for image, ticks, painter in itertools.chain(
                [(first, first_ticks, painter0)], pictures
            ):
                image.putpalette(painter.palette())  # every colour the frame uses, and more
                rgb = image.convert("RGB")
                if (width, height) != (even_width, even_height):
                    rgb = Image.new("RGB", (even_width, even_height), BACKGROUND)
                    rgb.paste(image.convert("RGB"), (0, 0))
                data = rgb.tobytes()
                for _ in range(ticks):
                    writer.send(data)
                    written += 1
        finally:
            writer.close()

    _atomic(out, save)
    return Video(
        out,
        even_width,
        even_height,
        written,
        written / fps,
        out.stat().st_size,
        time.perf_counter() - started,
    )


def _h264_writer(path: Path, size: tuple[int, int], fps: int) -> Generator[Any, Any, None]:
    """imageio-ffmpeg's frame writer, started: send() it RGB bytes, then close() it."""
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path),
        size,
        fps=fps,
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        macro_block_size=1,
        quality=None,
        output_params=[
            "-crf",
            "20",
            "-preset",
            "veryfast",  # as small as medium for a terminal, and faster
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
        ],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    return writer


def _atomic(out: Path, save: Any) -> None:
    """The whole file or none, as for the .cast."""
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        save(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
