"""The pieces of a course recording, without running the TUI: a .cast drawn
as a GIF or an MP4, idle stretches cut, an SVG still carrying its font.

Pictures are checked the way a viewer sees them: Pillow opens the GIF, the
ffmpeg in imageio-ffmpeg decodes the MP4, fontTools reads the font out of
the SVG.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from rich.console import Console

from ipcplay.record import cut_idle
from ipcplay.svgfont import embed_font
from ipcplay.video import CELL_W, write_gif, write_mp4

pytestmark = pytest.mark.timeout(60)

RED_BG = "\x1b[48;2;200;0;0m"
RESET = "\x1b[0m"
COLS, ROWS = 20, 4


def cast() -> list[list]:
    """A box line across row 0, a red cell, bold text; then a change at 1 s,
    repeated identical output in between (no new picture), the end at 2 s."""
    return [
        [0.0, "o", "\x1b[2J\x1b[H" + "─" * COLS],
        [0.0, "o", f"\x1b[2;1H{RED_BG}  {RESET} \x1b[1mbold\x1b[0m"],
        [0.3, "o", "\x1b[2;1H" + f"{RED_BG}  {RESET}"],  # the same picture again
        [0.5, "m", "a marker"],
        [1.0, "o", "\x1b[3;1Hsecond screen"],
        [2.0, "o", "\x1b[2J"],  # the app's goodbye at the end: not a frame
    ]


def pixel_rows(path: Path) -> list[tuple[Image.Image, int]]:
    im = Image.open(path)
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append((im.convert("RGB"), im.info["duration"]))
    return out


def test_a_gif_has_the_terminal_size_colours_and_one_frame_per_distinct_picture(
    tmp_path: Path,
) -> None:
    out = tmp_path / "x.gif"
    v = write_gif(cast(), COLS, ROWS, 2.0, out)
    frames = pixel_rows(out)
    assert [d for _, d in frames] == [1000, 1000]  # 0.3 s drew nothing new; 2.0 is the end
    first, second = (f for f, _ in frames)
    assert first.size == second.size == (COLS * CELL_W, v.height_px) and v.height_px % ROWS == 0
    ch = v.height_px // ROWS
    # The red background fills its two cells, exactly (the palette keeps colours).
    assert first.getpixel((5, ch + ch // 2)) == (200, 0, 0)
    assert first.getpixel((2 * CELL_W + 5, ch + ch // 2)) != (200, 0, 0)
    # The box line is unbroken from the first column to the last.
    line_y = max(range(ch), key=lambda y: sum(first.getpixel((x, y))[0] for x in range(COLS)))
    assert all(first.getpixel((x, line_y))[0] > 150 for x in range(COLS * CELL_W))
    # Row 2 is empty in the first frame and has text in the second.
    row2 = (0, 2 * ch, COLS * CELL_W, 3 * ch)
    assert first.crop(row2).getextrema()[0][1] < 40
    assert second.crop(row2).getextrema()[0][1] > 150
    assert v.frames == 2 and v.duration_s == 2.0


def test_bold_text_is_drawn_with_the_bold_face(tmp_path: Path) -> None:
    plain = [[0.0, "o", "\x1b[2J\x1b[Hmmmm"]]
    bold = [[0.0, "o", "\x1b[2J\x1b[H\x1b[1mmmmm"]]
    ink = []
    for name, events in (("plain", plain), ("bold", bold)):
        write_gif(events, COLS, ROWS, 0.5, tmp_path / f"{name}.gif")
        im = Image.open(tmp_path / f"{name}.gif").convert("L")
        ink.append(ImageStat.Stat(im.crop((0, 0, 4 * CELL_W, im.height // ROWS))).sum[0])
    assert ink[1] > ink[0] * 1.2


def test_an_mp4_plays_at_10_fps_for_the_whole_recording(tmp_path: Path) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    out = tmp_path / "x.mp4"
    v = write_mp4(cast(), COLS, ROWS, 2.0, out)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    frames = [bytes(f) for f in reader]
    assert meta["size"] == (v.width_px, v.height_px) and meta["fps"] == 10
    assert len(frames) == v.frames == 20
    assert frames[0] != frames[-1]  # the second screen is there


def test_idle_stretches_are_cut_to_the_limit_and_markers_stay_between_their_screens() -> None:
    events = [
        (0.0, "o", "a"),
        (0.2, "o", "b"),
        (5.2, "m", "in the gap"),  # half way through a 10 s stretch
        (10.2, "o", "c"),
        (10.2, "m", "with c"),
        (10.5, "o", "d"),
        (13.0, "o", "bye"),
    ]
    cut = cut_idle(events, 1.0)
    times = [t for t, _, _ in cut]
    outputs = [t for t, code, _ in cut if code == "o"]
    assert times == sorted(times)
    assert all(b - a <= 1.0 + 1e-9 for a, b in pairwise(outputs))
    assert outputs == pytest.approx([0.0, 0.2, 1.2, 1.5, 2.5])
    marks = {d: t for t, code, d in cut if code == "m"}
    assert marks["in the gap"] == pytest.approx(0.7)
    assert marks["with c"] == pytest.approx(1.2)
    assert [d for _, _, d in cut] == [d for _, _, d in events]


def test_an_svg_screenshot_carries_its_font(tmp_path: Path) -> None:
    from fontTools.ttLib import TTFont

    console = Console(record=True, width=30, file=io.StringIO())
    console.print("[bold red]DEADLOCK[/] ─│╭╮ ▁▂█ queue")
    svg = embed_font(console.export_svg(title="t"))
    assert "Fira Code" not in svg and 'url("http' not in svg  # nothing fetched from the web
    faces = re.findall(r'@font-face \{[^}]*url\("data:font/ttf;base64,([A-Za-z0-9+/=]+)"\)', svg)
    assert len(faces) == 2  # regular and bold: the picture has bold text
    for data in faces:
        font = TTFont(io.BytesIO(base64.b64decode(data)))
        assert {ord(c) for c in "DEADLOCK─│╭╮▁▂█queue"} <= set(font.getBestCmap())
        assert "Bitstream" in font["name"].getDebugName(0)  # the licence notice travels
    assert len(svg) < 120_000  # only the characters used, not the whole font
    assert 'font-family: "ipcplay-mono", monospace' in svg


@pytest.mark.parametrize(("blocked", "option"), [("PIL", "--gif"), ("imageio_ffmpeg", "--mp4")])
def test_a_missing_video_package_is_one_line_before_anything_runs(
    tmp_path: Path, blocked: str, option: str
) -> None:
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "from ipcplay.cli import main\n"
        f"sys.exit(main(['record', 'simplequeue-hello', '-o', 'x.cast', {option!r}]))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=tmp_path
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "pip install 'ipcplay[video]'" in r.stderr
    assert list(tmp_path.iterdir()) == []
