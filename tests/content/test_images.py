"""Tests of nbclaude._content.images: nbclaude.image, thumbnails, image_info, is_image_like."""

from __future__ import annotations

import base64
import contextlib
import copy
import http.server
import io
import json
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

import nbclaude
from nbclaude import ImageError
from nbclaude._content.images import (
    MAX_BASE64,
    ImageBlock,
    image,
    image_info,
    is_image_like,
    thumbnail,
)
from nbclaude._content.images.bytes import estimate_tokens, sniff_media_type
from nbclaude._content.images.sources import short_source

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# ---------------------------------------------------------------------------------------------
# helpers


def encode(img: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def raw(block: dict[str, Any]) -> bytes:
    return base64.b64decode(block["source"]["data"])


def decoded(block: dict[str, Any]) -> Image.Image:
    """Decode a block like the API would, checking the declared type matches the bytes."""
    data = raw(block)
    assert sniff_media_type(data) == block["source"]["media_type"]
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def check_limits(block: dict[str, Any], max_edge: int = 1568, max_pixels: int = 1_150_000) -> None:
    assert set(block) >= {"type", "source"}
    assert block["type"] == "image"
    assert set(block["source"]) == {"type", "media_type", "data"}
    assert block["source"]["media_type"] in ("image/jpeg", "image/png", "image/gif", "image/webp")
    assert len(block["source"]["data"]) <= MAX_BASE64
    img = decoded(block)
    assert max(img.size) <= max_edge
    assert img.size[0] * img.size[1] <= max_pixels
    if isinstance(block, ImageBlock):
        assert (block.width, block.height) == img.size


def corners(size: tuple[int, int] = (400, 300)) -> Image.Image:
    """White image, red top-left, green top-right, blue bottom-left corner squares."""
    w, h = size
    img = Image.new("RGB", size, WHITE)
    s = max(4, min(w, h) // 6)
    img.paste(RED, (0, 0, s, s))
    img.paste(GREEN, (w - s, 0, w, s))
    img.paste(BLUE, (0, h - s, s, h))
    return img


def near(px: Any, colour: tuple[int, int, int], tol: int = 60) -> bool:
    return all(abs(int(a) - b) <= tol for a, b in zip(px[:3], colour, strict=True))


def check_corners(img: Image.Image) -> None:
    img = img.convert("RGB")
    w, h = img.size
    d = max(1, min(w, h) // 20)
    assert near(img.getpixel((d, d)), RED), img.getpixel((d, d))
    assert near(img.getpixel((w - 1 - d, d)), GREEN), img.getpixel((w - 1 - d, d))
    assert near(img.getpixel((d, h - 1 - d)), BLUE), img.getpixel((d, h - 1 - d))
    assert near(img.getpixel((w - 1 - d, h - 1 - d)), WHITE)


def noise(size: tuple[int, int], mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    a = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    return Image.fromarray(a[:, :, 0] if channels == 1 else a)


# inverse of the transposition that displays each EXIF orientation
_STORE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def oriented_jpeg(displayed: Image.Image, orientation: int, **kw: Any) -> bytes:
    method = _STORE[orientation]
    stored = displayed if method is None else displayed.transpose(method)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=92, exif=exif.tobytes(), **kw)


# ---------------------------------------------------------------------------------------------
# fit, fast path, no upscaling


def test_small_jpeg_fast_path_sends_original_bytes() -> None:
    data = encode(corners((640, 480)), "JPEG", quality=90)
    block = image(data)
    assert raw(block) == data
    assert block["source"]["media_type"] == "image/jpeg"
    assert (block.width, block.height) == (640, 480)
    assert block.original_size == (640, 480)


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_fast_path_other_api_formats(fmt: str) -> None:
    data = encode(corners((300, 200)), fmt)
    block = image(data)
    assert raw(block) == data
    assert block["source"]["media_type"] == f"image/{fmt.lower()}"


def test_no_upscaling_of_small_images() -> None:
    block = image(Image.new("RGB", (40, 20), RED))
    assert (block.width, block.height) == (40, 20)
    assert decoded(block).size == (40, 20)


@pytest.mark.parametrize(
    ("size", "max_edge", "max_pixels", "expected"),
    [
        ((4000, 3000), 1568, 1_150_000, (1238, 928)),
        ((3136, 500), 1568, 1_150_000, (1568, 250)),
        ((500, 3136), 1568, 1_150_000, (250, 1568)),
        ((2000, 2000), 1568, 1_150_000, (1072, 1072)),
        ((2000, 1000), 500, 10_000_000, (500, 250)),
        ((1000, 1000), 8000, 10_000, (100, 100)),
        ((1568, 733), 1568, 1_150_000, (1568, 733)),
    ],
)
def test_fit_sizes(
    size: tuple[int, int], max_edge: int, max_pixels: int, expected: tuple[int, int]
) -> None:
    block = image(corners(size), max_edge=max_edge, max_pixels=max_pixels)
    check_limits(block, max_edge, max_pixels)
    assert (block.width, block.height) == expected
    check_corners(decoded(block))


def test_big_jpeg_is_resized_and_stays_jpeg() -> None:
    data = encode(corners((4000, 3000)), "JPEG", quality=90)
    block = image(data)
    check_limits(block)
    assert block["source"]["media_type"] == "image/jpeg"
    assert (block.width, block.height) == (1238, 928)
    assert block.original_size == (4000, 3000)
    check_corners(decoded(block))


@pytest.fixture(scope="module")
def huge_jpeg() -> bytes:
    img = Image.linear_gradient("L").resize((8000, 6000)).convert("RGB")
    img.paste(RED, (0, 0, 800, 800))
    return encode(img, "JPEG", quality=85)


def test_huge_8000x6000_jpeg(huge_jpeg: bytes) -> None:
    t = time.perf_counter()
    block = image(huge_jpeg)
    elapsed = time.perf_counter() - t
    check_limits(block)
    assert (block.width, block.height) == (1238, 928)
    assert near(decoded(block).getpixel((20, 20)), RED)
    assert elapsed < 5  # draft decodes at 1/4 scale; a full decode would still pass, slowly


def test_progressive_jpeg() -> None:
    small = encode(corners((500, 400)), "JPEG", progressive=True)
    assert raw(image(small)) == small
    big = encode(corners((3000, 2000)), "JPEG", progressive=True, quality=90)
    block = image(big)
    check_limits(block)
    check_corners(decoded(block))


def test_cmyk_jpeg_becomes_rgb_jpeg() -> None:
    img = Image.new("CMYK", (300, 200), (0, 255, 255, 0))  # red in CMYK
    block = image(encode(img, "JPEG"))
    out = decoded(block)
    assert block["source"]["media_type"] == "image/jpeg"
    assert out.mode == "RGB"
    assert near(out.getpixel((150, 100)), RED)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied(orientation: int) -> None:
    displayed = corners((400, 300))
    data = oriented_jpeg(displayed, orientation)
    block = image(data)
    out = decoded(block)
    assert out.size == (400, 300)
    check_corners(out)
    # Pillow's own exif_transpose is the oracle
    oracle = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    assert oracle is not None
    assert oracle.size == out.size
    if orientation == 1:
        # nothing to change: the original bytes, minus their metadata (EXIF)
        from nbclaude._content.images.bytes import strip_metadata

        assert raw(block) == strip_metadata(data) != data


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_exif_rotation_with_draft_uses_rotated_target(orientation: int) -> None:
    # displayed 3000x2000 landscape, stored portrait: the target must be computed on the
    # displayed (rotated) size, and the draft on the stored one
    data = oriented_jpeg(corners((3000, 2000)), orientation)
    block = image(data, max_edge=1000)
    out = decoded(block)
    assert out.size == (1000, 666)
    check_corners(out)
    assert block.original_size == (3000, 2000)


def test_draft_targets_the_stored_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import JpegImagePlugin

    sizes: list[tuple[int, int]] = []
    real = JpegImagePlugin.JpegImageFile.draft

    def spy(self: Any, mode: Any, size: Any) -> Any:
        result = real(self, mode, size)
        sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    # displayed 4000x1000, stored 1000x4000: the 1000x250 target is 250x1000 when stored,
    # so the decoder can scale by 1/4 (a target not swapped would forbid any scaling)
    out = decoded(image(oriented_jpeg(corners((4000, 1000)), 6), max_edge=1000))
    assert sizes == [(250, 1000)]
    assert out.size == (1000, 250)
    check_corners(out)
    sizes.clear()
    image(encode(corners((4000, 3000)), "JPEG"))
    assert sizes == [(2000, 1500)]  # 1/2 scale, still >= the 1238x928 target


@pytest.mark.parametrize("fmt", ["TIFF", "WEBP"])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_other_formats(fmt: str, orientation: int) -> None:
    # Pillow >= 11 rotates TIFFs itself while loading: it must not be rotated twice
    method = _STORE[orientation]
    assert method is not None
    stored = corners((400, 300)).transpose(method)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = decoded(image(encode(stored, fmt, exif=exif.tobytes())))
    assert out.size == (400, 300)
    check_corners(out)


def test_png_exif_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(corners((300, 200)).transpose(Image.Transpose.ROTATE_90), "PNG", exif=exif)
    out = decoded(image(data))
    assert out.size == (300, 200)
    check_corners(out)


def test_16bit_png_scaled_to_8bit() -> None:
    a = np.zeros((20, 40), dtype=np.uint16)
    a[:, 10:20] = 32896
    a[:, 20:] = 65535
    data = encode(Image.fromarray(a), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    block = image(data)
    out = decoded(block)
    assert block["source"]["media_type"] == "image/png"
    assert out.mode == "L"
    assert (out.getpixel((0, 0)), out.getpixel((15, 0)), out.getpixel((30, 0))) == (0, 128, 255)


def test_rgba_png_keeps_alpha_when_resized() -> None:
    img = Image.new("RGBA", (3000, 1000), (0, 0, 255, 255))
    img.paste((0, 0, 0, 0), (0, 0, 1500, 1000))
    block = image(encode(img, "PNG"))
    out = decoded(block)
    check_limits(block)
    assert block["source"]["media_type"] == "image/png"
    assert out.mode == "RGBA"
    assert out.getpixel((10, 10))[3] == 0
    assert out.getpixel((out.size[0] - 10, 10)) == (0, 0, 255, 255)


def test_palette_png_with_transparency() -> None:
    img = Image.new("P", (2400, 600), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(0, (0, 0, 600, 600))
    data = encode(img, "PNG", transparency=0)
    small = encode(img.resize((240, 60)), "PNG", transparency=0)
    assert raw(image(small)) == small  # fits: untouched
    out = decoded(image(data))
    assert out.mode == "RGBA"
    assert out.getpixel((5, 5))[3] == 0
    assert out.getpixel((out.size[0] - 5, 5)) == (255, 0, 0, 255)


def test_la_and_1bit_modes() -> None:
    la = Image.new("LA", (2000, 100), (128, 0))
    out = decoded(image(encode(la, "PNG")))
    assert out.mode in ("LA", "RGBA")
    bw = Image.new("1", (3000, 100), 1)
    out = decoded(image(encode(bw, "PNG")))
    assert out.getpixel((5, 5)) in (255, (255, 255, 255))


def animated_gif(size: tuple[int, int]) -> bytes:
    frames = [Image.new("RGB", size, c) for c in (RED, GREEN, BLUE)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def test_animated_gif_fast_path_and_first_frame() -> None:
    small = animated_gif((200, 100))
    assert raw(image(small)) == small  # the API itself uses the first frame
    block = image(animated_gif((2000, 1000)))
    out = decoded(block)
    assert block["source"]["media_type"] == "image/png"  # a still: the first frame
    assert getattr(out, "n_frames", 1) == 1
    assert near(out.getpixel((10, 10)), RED)
    check_limits(block)


def test_webp_lossy_stays_webp_lossless_becomes_png() -> None:
    img = corners((3000, 2000))
    lossy = image(encode(img, "WEBP", quality=80))
    assert lossy["source"]["media_type"] == "image/webp"
    check_corners(decoded(lossy))
    lossless = image(encode(img, "WEBP", lossless=True))
    assert lossless["source"]["media_type"] == "image/png"
    check_corners(decoded(lossless))
    rgba = Image.new("RGBA", (2000, 2000), (255, 0, 0, 128))
    block = image(encode(rgba, "WEBP", quality=80))
    assert block["source"]["media_type"] == "image/webp"
    assert abs(decoded(block).getpixel((5, 5))[3] - 128) < 8


@pytest.mark.parametrize(
    ("fmt", "mode", "expected"),
    [
        ("BMP", "RGB", "image/png"),
        ("TIFF", "RGB", "image/jpeg"),
        ("TIFF", "L", "image/png"),
        ("TIFF", "RGBA", "image/png"),
        ("ICO", "RGBA", "image/png"),
        ("PPM", "RGB", "image/png"),
    ],
)
def test_other_formats_are_converted(fmt: str, mode: str, expected: str) -> None:
    img = corners((200, 150)).convert(mode)
    block = image(encode(img, fmt))
    assert block["source"]["media_type"] == expected
    out = decoded(block)
    if mode != "L":
        check_corners(out)


def psd(img: Image.Image) -> bytes:
    """A minimal uncompressed RGB Photoshop file (Pillow reads PSD but cannot write it)."""
    w, h = img.size
    head = b"8BPS" + (1).to_bytes(2, "big") + bytes(6) + (3).to_bytes(2, "big")
    head += h.to_bytes(4, "big") + w.to_bytes(4, "big") + (8).to_bytes(2, "big")
    head += (3).to_bytes(2, "big") + bytes(4) + bytes(4) + bytes(4) + bytes(2)
    return head + b"".join(band.tobytes() for band in img.split())


def test_psd_is_converted() -> None:
    data = psd(corners((2000, 1500)))
    assert Image.open(io.BytesIO(data)).format == "PSD"
    block = image(data)
    check_limits(block)
    assert block["source"]["media_type"] == "image/jpeg"
    check_corners(decoded(block))


def test_noisy_png_over_the_base64_limit_becomes_jpeg() -> None:
    data = encode(noise((2000, 2000)), "PNG", compress_level=1)
    assert len(base64.b64encode(data)) > MAX_BASE64
    block = image(data, max_edge=2000, max_pixels=4_000_000)
    check_limits(block, 2000, 4_000_000)
    assert block["source"]["media_type"] == "image/jpeg"  # no alpha: JPEG before shrinking
    assert (block.width, block.height) == (2000, 2000)


def test_noisy_rgba_png_over_the_limit_is_downscaled_and_keeps_alpha() -> None:
    img = noise((1500, 1500), "RGBA")
    block = image(img, max_edge=1500, max_pixels=3_000_000)
    check_limits(block, 1500, 3_000_000)
    assert block["source"]["media_type"] == "image/png"
    assert decoded(block).mode == "RGBA"
    assert block.width < 1500


def test_opaque_rgba_over_the_limit_may_become_jpeg() -> None:
    img = noise((1500, 1500), "RGB").convert("RGBA")
    block = image(img, max_edge=1500, max_pixels=3_000_000)
    check_limits(block, 1500, 3_000_000)
    assert block["source"]["media_type"] == "image/jpeg"
    assert block.width == 1500


def test_jpeg_over_the_limit_lowers_quality() -> None:
    data = encode(noise((2600, 2600)), "JPEG", quality=100)
    assert len(base64.b64encode(data)) > MAX_BASE64
    block = image(data, max_edge=2600, max_pixels=7_000_000)
    check_limits(block, 2600, 7_000_000)
    assert block["source"]["media_type"] == "image/jpeg"


# ---------------------------------------------------------------------------------------------
# sources


def test_pil_images_of_every_mode() -> None:
    for mode in ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I", "F", "I;16", "YCbCr", "HSV"):
        img = Image.new(mode, (30, 20))
        block = image(img)
        check_limits(block)
        assert decoded(block).size == (30, 20), mode


def test_pil_image_not_modified() -> None:
    img = corners((3000, 2000))
    before = img.tobytes()
    image(img)
    assert img.size == (3000, 2000)
    assert img.tobytes() == before


def test_pil_jpeg_image_keeps_format() -> None:
    img = Image.open(io.BytesIO(encode(corners((2000, 1000)), "JPEG")))
    block = image(img)
    assert block["source"]["media_type"] == "image/jpeg"
    assert img.size == (2000, 1000)  # not drafted: the user's object is left alone
    check_corners(decoded(block))


@pytest.mark.parametrize(
    ("array", "pixel", "mode"),
    [
        (np.full((10, 20), 200, np.uint8), 200, "L"),
        (np.full((10, 20, 1), 7, np.uint8), 7, "L"),
        (np.full((10, 20, 3), (1, 2, 3), np.uint8), (1, 2, 3), "RGB"),
        (np.full((10, 20, 4), (1, 2, 3, 4), np.uint8), (1, 2, 3, 4), "RGBA"),
        (np.full((10, 20), 0.5, np.float32), 128, "L"),
        (np.full((10, 20, 3), 2.0, np.float64), (255, 255, 255), "RGB"),
        (np.full((10, 20, 3), -1.0, np.float64), (0, 0, 0), "RGB"),
        (np.full((10, 20), np.nan), 0, "L"),
        (np.ones((10, 20), bool), 255, "L"),
        (np.full((10, 20), 65535, np.uint16), 255, "L"),
        (np.full((10, 20), 100, np.int64), 100, "L"),
        (np.full((10, 20, 2), (9, 99), np.uint8), (9, 99), "LA"),
    ],
)
def test_numpy_arrays(array: np.ndarray, pixel: Any, mode: str) -> None:
    block = image(array)
    out = decoded(block)
    assert block["source"]["media_type"] == "image/png"
    assert out.size == (20, 10)
    assert out.mode == mode
    assert out.getpixel((3, 3)) == pixel


def test_numpy_int_out_of_range_is_stretched() -> None:
    a = np.array([[-100, 0, 900]] * 4, dtype=np.int32)
    out = decoded(image(a))
    assert [out.getpixel((x, 0)) for x in range(3)] == [0, 26, 255]


def test_in_memory_images_skip_the_decode_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # bombs are about decoding files
    block = image(np.zeros((100, 200), np.uint8))
    assert (block.width, block.height) == (200, 100)
    with pytest.raises(ImageError, match="decompression bomb"):
        image(encode(Image.new("L", (200, 100)), "PNG"))


def test_memoryview_of_other_formats() -> None:
    data = encode(corners((30, 20)), "PNG")
    padded = data + bytes((-len(data)) % 4)
    assert image(memoryview(padded).cast("I")).width == 30
    with pytest.raises(ImageError, match=r"memoryview \(8 bytes\): not an image"):
        image(memoryview(bytes(8)).cast("I"))


def test_numpy_non_contiguous_and_big() -> None:
    a = np.zeros((3000, 4000, 3), np.uint8)[::2, ::2]
    check_limits(image(a))


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((0, 10, 3), np.uint8),
        np.zeros((10,), np.uint8),
        np.zeros((4, 4, 5), np.uint8),
        np.zeros((4, 4, 3, 2), np.uint8),
        np.zeros((4, 4), np.complex64),
        np.array([["a"]]),
    ],
)
def test_bad_numpy_arrays(array: np.ndarray) -> None:
    with pytest.raises(ImageError, match="numpy array"):
        image(array)


def test_matplotlib_figure_without_side_effects() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), dpi=80)
    ax.plot([0, 1], [0, 1])
    before = (plt.get_fignums(), fig.get_dpi(), tuple(fig.get_size_inches()), plt.gcf())
    block = image(fig)
    after = (plt.get_fignums(), fig.get_dpi(), tuple(fig.get_size_inches()), plt.gcf())
    assert before == after
    assert block["source"]["media_type"] == "image/png"
    assert decoded(block).size == (320, 240)  # figsize * the figure's own dpi
    assert decoded(image(ax)).size == (320, 240)  # an Axes: its figure
    plt.close(fig)


def test_matplotlib_figure_not_from_pyplot() -> None:
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    fignums = plt.get_fignums()
    fig = Figure(figsize=(30, 20), dpi=100)
    fig.add_subplot().imshow(np.zeros((5, 5)))
    block = image(fig)
    check_limits(block)
    assert plt.get_fignums() == fignums
    assert tuple(fig.get_size_inches()) == (30, 20)


def test_ipython_image(tmp_path: Path) -> None:
    from IPython.display import Image as IPyImage

    data = encode(corners((100, 80)), "PNG")
    assert raw(image(IPyImage(data=data))) == data
    path = tmp_path / "pic.png"
    path.write_bytes(data)
    assert raw(image(IPyImage(filename=str(path)))) == data
    block = image(IPyImage(url="https://example.com/pic.png", embed=False))
    assert block["source"] == {"type": "url", "url": "https://example.com/pic.png"}


def test_paths_str_and_pathlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(corners((100, 80)), "JPEG")
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    assert raw(image(path)) == data
    assert raw(image(str(path))) == data
    monkeypatch.chdir(tmp_path)
    assert raw(image("photo.jpg")) == data
    monkeypatch.setenv("HOME", str(tmp_path))
    assert raw(image("~/photo.jpg")) == data


def test_bytes_like() -> None:
    data = encode(corners((100, 80)), "PNG")
    for value in (data, bytearray(data), memoryview(data)):
        assert raw(image(value)) == data


def test_url_by_reference() -> None:
    url = "https://upload.example.org/cat.jpg?size=large"
    block = image(url)
    assert dict(block) == {"type": "image", "source": {"type": "url", "url": url}}
    bundle = block._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}  # a remote image is never loaded for display
    assert "upload.example.org/cat.jpg" in bundle["text/plain"]
    assert thumbnail(block) is None
    assert image_info(block) is None


def test_data_url() -> None:
    data = encode(corners((100, 80)), "PNG")
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    assert raw(image(url)) == data
    with pytest.raises(ImageError, match="not an image"):
        image("data:text/plain;base64,aGVsbG8=")
    with pytest.raises(ImageError, match="base64"):
        image("data:image/png,rawtext")


def test_block_dicts() -> None:
    data = encode(corners((100, 80)), "PNG")
    b64 = base64.b64encode(data).decode()
    plain = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/jpeg", "data": b64},
        "cache_control": {"type": "ephemeral"},
    }
    block = image(plain)
    assert block["source"]["media_type"] == "image/png"  # corrected from the bytes
    assert block["cache_control"] == {"type": "ephemeral"}
    assert raw(block) == data
    assert plain["source"]["media_type"] == "image/jpeg"  # input not mutated
    # an ImageBlock within the limits is returned as is
    assert image(block) is block
    # re-fit with smaller limits
    small = image(block, max_edge=50)
    assert (small.width, small.height) == (50, 40)
    url = {"type": "image", "source": {"type": "url", "url": "https://x.org/a.png"}}
    assert image(url) == url
    with pytest.raises(ImageError, match="not an image block"):
        image({"type": "text", "text": "hi"})


def test_unsupported_type() -> None:
    with pytest.raises(TypeError, match=r"cannot use a int.*PIL image"):
        image(42)


def test_options_checked() -> None:
    with pytest.raises(ImageError, match="max_edge"):
        image(np.zeros((4, 4), np.uint8), max_edge=9000)
    with pytest.raises(ImageError, match="max_pixels"):
        image(np.zeros((4, 4), np.uint8), max_pixels=0)


def test_public_name() -> None:
    assert nbclaude.image is image


# ---------------------------------------------------------------------------------------------
# bad input -> ImageError naming the source and the reason


def test_missing_file() -> None:
    with pytest.raises(ImageError, match=r"no-such-dir/cat\.jpg: no such file") as e:
        image("no-such-dir/cat.jpg")
    assert "relative paths" in str(e.value)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="is a directory"):
        image(tmp_path)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root can read anything")
def test_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "secret.png"
    path.write_bytes(b"x")
    path.chmod(0)
    with pytest.raises(ImageError, match="permission denied"):
        image(path)


def test_empty_inputs(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"bytes \(0 bytes\): no data"):
        image(b"")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty\.png: the file is empty"):
        image(empty)
    with pytest.raises(ImageError, match="empty string"):
        image("  ")


def test_non_image_and_corrupt_bytes(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"bytes \(11 bytes\): not an image"):
        image(b"hello world")
    notes = tmp_path / "notes.txt"
    notes.write_text("just text")
    with pytest.raises(ImageError, match=r"notes\.txt: not an image"):
        image(notes)
    data = encode(corners((300, 200)), "PNG")
    broken = data[:40] + bytes(200) + data[240:]
    with pytest.raises(ImageError, match="corrupt"):
        image(broken)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image(fmt: str) -> None:
    data = encode(noise((400, 300)), fmt)
    with pytest.raises(ImageError, match="corrupt"):
        image(data[: len(data) // 2])


def test_zero_size_image() -> None:
    with pytest.raises(ImageError, match="zero width or height"):
        image(Image.new("RGB", (0, 5)))


def test_decompression_bomb_header() -> None:
    # a tiny PNG whose header claims 40000 x 40000 pixels
    head = encode(Image.new("L", (1, 1)), "PNG")
    ihdr = b"IHDR" + (40000).to_bytes(4, "big") * 2 + head[24:29]
    import zlib

    crc = zlib.crc32(ihdr).to_bytes(4, "big")
    bomb = head[:12] + ihdr + crc + head[33:]
    with pytest.raises(ImageError, match="decompression bomb"):
        image(bomb)


def test_pixel_limit_after_draft(monkeypatch: pytest.MonkeyPatch, huge_jpeg: bytes) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 24_000_000)
    # 48 MP is over the limit, but a JPEG drafted to 1/4 scale is 2000x1500 = 3 MP: allowed,
    # and without PIL's warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        block = image(huge_jpeg)
    check_limits(block)
    # a PNG must be decoded whole: refused
    with pytest.raises(ImageError, match="too many pixels to decode"):
        image(encode(Image.new("L", (6000, 5000)), "PNG"))


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/a.png",
        "javascript:alert(1)",
        "gopher://x/y",
    ],
)
def test_unsupported_url_schemes(url: str) -> None:
    with pytest.raises(ImageError, match="unsupported URL scheme"):
        image(url)


def test_colons_in_file_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImageError, match=r"notes:v2\.png: no such file"):
        image("notes:v2.png")
    Path("notes:v2.png").write_bytes(encode(corners((30, 20)), "PNG"))
    assert image("notes:v2.png").width == 30


def test_invalid_http_url() -> None:
    with pytest.raises(ImageError, match="not a valid URL"):
        image("https:///nohost.png")


def test_error_messages_hide_url_queries_and_credentials() -> None:
    assert short_source("https://h.org/a.png?sig=SECRET#x") == "https://h.org/a.png?…"
    assert short_source("https://me:pw@h.org/a.png") == "https://…@h.org/a.png"
    with pytest.raises(ImageError) as e:
        image("https://me:SECRET@h.org/a.png?token=SECRET", fetch=True, timeout=0.01)
    assert "SECRET" not in str(e.value)
    long = "/very/" + "deep/" * 40 + "photo.jpg"
    assert short_source(long).endswith("photo.jpg")
    assert len(short_source(long)) <= 72


# ---------------------------------------------------------------------------------------------
# fetch=True against a real local HTTP server


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Callable[[_Handler], None]]] = {}

    def do_GET(self) -> None:
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            route(self)

    def log_message(self, *args: Any) -> None:
        pass

    def reply(self, body: bytes, ctype: str, *, length: bool = True) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


PNG_BYTES = encode(corners((120, 90)), "PNG")


def _routes() -> dict[str, Callable[[_Handler], None]]:
    def img(h: _Handler) -> None:
        h.reply(PNG_BYTES, "image/png")

    def html(h: _Handler) -> None:
        h.reply(b"<html>hi</html>", "text/html; charset=utf-8")

    def lying(h: _Handler) -> None:
        h.reply(b"<html>not an image</html>", "image/png")

    def huge(h: _Handler) -> None:  # no content-length: must be cut while streaming
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.end_headers()
        chunk = bytes(64 * 1024)
        for _ in range(200):
            h.wfile.write(chunk)

    def huge_declared(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.send_header("Content-Length", str(10**9))
        h.end_headers()

    def slow(h: _Handler) -> None:
        time.sleep(1.5)
        h.reply(PNG_BYTES, "image/png")

    def trickle(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.end_headers()
        for i in range(0, len(PNG_BYTES), 50):
            h.wfile.write(PNG_BYTES[i : i + 50])
            h.wfile.flush()
            time.sleep(0.1)

    def redirect(h: _Handler) -> None:
        h.send_response(302)
        h.send_header("Location", "/img.png")
        h.send_header("Content-Length", "0")
        h.end_headers()

    return {
        "/img.png": img,
        "/page.html": html,
        "/lying.png": lying,
        "/huge.png": huge,
        "/huge-declared.png": huge_declared,
        "/slow.png": slow,
        "/trickle.png": trickle,
        "/redirect": redirect,
    }


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    _Handler.routes = _routes()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_image(server: str) -> None:
    block = image(f"{server}/img.png", fetch=True)
    assert raw(block) == PNG_BYTES
    assert raw(image(f"{server}/redirect", fetch=True)) == PNG_BYTES


def test_fetch_false_sends_reference(server: str) -> None:
    block = image(f"{server}/img.png")
    assert block["source"] == {"type": "url", "url": f"{server}/img.png"}


def test_fetch_html_is_refused(server: str) -> None:
    with pytest.raises(ImageError, match=r"page\.html: the server sent text/html, not image"):
        image(f"{server}/page.html", fetch=True)


def test_fetch_content_is_sniffed(server: str) -> None:
    with pytest.raises(ImageError, match=r"lying\.png: not an image"):
        image(f"{server}/lying.png", fetch=True)


def test_fetch_size_cap(server: str) -> None:
    with pytest.raises(ImageError, match="too big"):
        image(f"{server}/huge.png", fetch=True, max_bytes=1_000_000)
    with pytest.raises(ImageError, match="too big"):
        image(f"{server}/huge-declared.png", fetch=True)


def test_fetch_timeouts(server: str) -> None:
    t = time.perf_counter()
    with pytest.raises(ImageError, match=r"timed out after 0\.3 s"):
        image(f"{server}/slow.png", fetch=True, timeout=0.3)
    with pytest.raises(ImageError, match="timed out"):
        image(f"{server}/trickle.png", fetch=True, timeout=0.5)
    assert time.perf_counter() - t < 3


def test_fetch_http_errors(server: str) -> None:
    with pytest.raises(ImageError, match=r"missing\.png\?…: download failed: HTTP 404"):
        image(f"{server}/missing.png?token=SECRET", fetch=True)
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    closed = port.getsockname()[1]
    port.close()
    with pytest.raises(ImageError, match=r"download failed \(ConnectError\)"):
        image(f"http://127.0.0.1:{closed}/a.png", fetch=True)


# ---------------------------------------------------------------------------------------------
# the block object


@pytest.fixture
def block() -> ImageBlock:
    return image(encode(corners((3000, 2000)), "JPEG"))


def test_block_is_exactly_the_api_dict(block: ImageBlock) -> None:
    assert type(block) is ImageBlock
    assert list(block) == ["type", "source"]
    assert json.loads(json.dumps(block)) == dict(block)
    assert block == dict(block)


def test_block_copy_pickle(block: ImageBlock) -> None:
    for clone in (copy.copy(block), copy.deepcopy(block), pickle.loads(pickle.dumps(block))):
        assert type(clone) is ImageBlock
        assert clone == block
        assert (clone.width, clone.height, clone.original_size, clone.origin) == (
            block.width,
            block.height,
            block.original_size,
            block.origin,
        )
    deep = copy.deepcopy(block)
    deep["source"]["data"] = "x"
    assert block["source"]["data"] != "x"


def test_block_repr_and_display(block: ImageBlock) -> None:
    text = repr(block)
    assert text.startswith("<image/jpeg 1313\u00d7875 (from 3000\u00d72000), ")
    assert "base64" in text
    assert f"~{block.tokens:,} tokens" in text
    assert len(text) < 120
    assert repr([block]).startswith("[<image/jpeg")  # lists of blocks stay readable
    bundle = block._repr_mimebundle_()
    assert bundle["text/plain"] == text
    thumb = Image.open(io.BytesIO(base64.b64decode(bundle["image/jpeg"])))
    assert max(thumb.size) <= 256
    check_corners(thumb)


def test_the_display_shows_a_caption(block: ImageBlock) -> None:
    """JupyterLab and Notebook 7 show text/html before an image: the thumbnail comes with its
    one-line caption there (media type, pixels, base64 size, ~tokens)."""
    html_ = block._repr_mimebundle_()["text/html"]
    caption = block.caption()
    assert caption == repr(block)[1:-1]
    assert f"<figcaption>{caption}</figcaption>" in html_
    thumb = block._repr_mimebundle_()["image/jpeg"]
    assert f'<img src="data:image/jpeg;base64,{thumb}" alt="{caption}">' in html_
    assert html_.count("<") == html_.count(">") == 5  # <figure> <img> <figcaption> </…> </…>


def test_the_caption_is_escaped() -> None:
    data = base64.b64encode(encode(corners((40, 30)), "PNG")).decode()
    hostile = 'image/png"><img src=x onerror=alert(1)>'
    block = ImageBlock(
        {"type": "image", "source": {"type": "base64", "media_type": hostile, "data": data}},
        width=40,
        height=30,
    )
    html_ = block._repr_mimebundle_()["text/html"]
    assert "onerror=alert(1)&gt;" in html_ and "<img src=x" not in html_
    assert html_.count("<img ") == 1 and html_.count('"') == 6  # class, src and alt: no more


def test_ipython_display_uses_the_bundle(block: ImageBlock) -> None:
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(block)
    assert "image/jpeg" in data
    assert data["text/plain"].startswith("<image/jpeg")


def test_tokens_estimate(block: ImageBlock) -> None:
    assert block.tokens == estimate_tokens(1313, 875) == 47 * 32
    assert estimate_tokens(4000, 3000) == estimate_tokens(1238, 928)  # the API downscales


# ---------------------------------------------------------------------------------------------
# thumbnail, image_info


def test_thumbnail_of_plain_dicts() -> None:
    data = encode(corners((1200, 900)), "PNG")
    plain = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(data)},
    }
    plain["source"]["data"] = plain["source"]["data"].decode()  # type: ignore[attr-defined]
    result = thumbnail(plain)
    assert result is not None
    mime, png = result
    assert mime == "image/png"
    thumb = Image.open(io.BytesIO(png))
    assert thumb.size == (256, 192)
    check_corners(thumb)
    assert thumbnail(plain, max_edge=64) is not None
    assert Image.open(io.BytesIO(thumbnail(plain, max_edge=64)[1])).size == (64, 48)  # type: ignore[index]


def test_thumbnail_never_upscales_and_handles_junk() -> None:
    tiny = image(Image.new("RGBA", (20, 10), (1, 2, 3, 4)))
    result = thumbnail(tiny)
    assert result is not None
    assert Image.open(io.BytesIO(result[1])).size == (20, 10)
    junk = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
    }
    assert thumbnail(junk) is None
    assert thumbnail({"type": "text", "text": "x"}) is None


def test_thumbnail_applies_orientation_of_foreign_blocks() -> None:
    data = oriented_jpeg(corners((400, 300)), 6)
    plain = {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/jpeg",
            "data": base64.b64encode(data).decode(),
        },
    }
    result = thumbnail(plain)
    assert result is not None
    check_corners(Image.open(io.BytesIO(result[1])))


@pytest.fixture
def thumbnails_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """An empty shared thumbnail cache, and the ``max_edge`` of every thumbnail decoded."""
    from nbclaude._content.images import block as block_module

    made: list[int] = []
    real = block_module._make_thumbnail

    def counting(data: str, max_edge: int) -> tuple[str, bytes] | None:
        made.append(max_edge)
        return real(data, max_edge)

    monkeypatch.setattr(block_module, "_make_thumbnail", counting)
    monkeypatch.setattr(block_module, "_THUMB_CACHE", {})
    return made


def test_an_image_block_makes_each_thumbnail_once(thumbnails_made: list[int]) -> None:
    block = image(encode(corners((300, 200)), "PNG"))
    first = thumbnail(block)
    assert first is not None
    assert thumbnail(block) is first and block.thumbnail() is first
    assert block._repr_mimebundle_()["image/png"]  # the notebook display uses the same one
    assert thumbnail(block, max_edge=64) is block.thumbnail(64) is not first
    assert thumbnails_made == [256, 64]


def test_plain_dicts_share_a_bounded_cache_keyed_by_content(thumbnails_made: list[int]) -> None:
    from nbclaude._content.images import block as block_module

    kept = image(encode(corners((300, 200)), "JPEG"))
    plain = b64_block(encode(corners((300, 200)), "PNG"))
    first = thumbnail(plain)
    assert thumbnail(copy.deepcopy(plain)) is first  # same content, another dict: no decoding
    assert kept.thumbnail() is not None
    assert thumbnails_made == [256, 256]
    others = [b64_block(encode(Image.new("L", (2, 2), i), "PNG")) for i in range(128)]
    for other in others:
        thumbnail(other)
    assert len(block_module._THUMB_CACHE) == 128  # bounded: the oldest went
    assert thumbnail(plain) == first and len(thumbnails_made) == 2 + 128 + 1  # made again
    assert thumbnail(kept) is kept.thumbnail()  # an ImageBlock keeps its own
    assert len(thumbnails_made) == 2 + 128 + 1


def b64_block(data: bytes, media_type: str = "image/png") -> dict[str, Any]:
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": media_type,
            "data": base64.b64encode(data).decode(),
        },
    }


@pytest.mark.parametrize(
    ("fmt", "kw", "mode"),
    [
        ("PNG", {}, "RGB"),
        ("GIF", {}, "RGB"),
        ("JPEG", {}, "RGB"),
        ("JPEG", {"icc_profile": bytes(150_000)}, "RGB"),  # SOF far from the start
        ("JPEG", {"progressive": True}, "L"),
        ("WEBP", {"quality": 80}, "RGB"),
        ("WEBP", {"lossless": True}, "RGB"),
        ("WEBP", {"quality": 80}, "RGBA"),
    ],
)
def test_image_info_reads_headers(fmt: str, kw: dict[str, Any], mode: str) -> None:
    data = encode(Image.new(mode, (321, 123)), fmt, **kw)
    info = image_info(b64_block(data, "image/png"))
    assert info is not None
    assert info.media_type == f"image/{fmt.lower()}"  # the real type, not the declared one
    assert (info.width, info.height) == (321, 123)
    assert info.base64_length == len(base64.b64encode(data))


def test_image_info_other_cases() -> None:
    assert image_info({"type": "image", "source": {"type": "url", "url": "https://x/a"}}) is None
    info = image_info(b64_block(b"not an image at all"))
    assert info is not None
    assert (info.media_type, info.width) == (None, None)


# ---------------------------------------------------------------------------------------------
# is_image_like


def test_is_image_like() -> None:
    import matplotlib.pyplot as plt
    from IPython.display import Image as IPyImage
    from matplotlib.figure import Figure

    fig = Figure()
    yes = [
        Image.new("RGB", (2, 2)),
        Image.open(io.BytesIO(PNG_BYTES)),
        np.zeros((5, 5, 3), np.uint8),
        np.zeros((5, 5, 4), np.float32),
        np.zeros((5, 5), np.uint8),
        np.zeros((5, 5), bool),
        fig,
        fig.add_subplot(),
        IPyImage(data=PNG_BYTES),
        PNG_BYTES,
        bytearray(encode(Image.new("RGB", (2, 2)), "JPEG")),
        encode(Image.new("RGB", (2, 2)), "BMP"),
        {"type": "image", "source": {}},
    ]
    no = [
        "photo.jpg",
        b"hello",
        np.zeros((5, 5)),
        np.zeros((5,), np.uint8),
        np.zeros((5, 5, 7), np.uint8),
        np.zeros((0, 5, 3), np.uint8),
        np.array([["a"]]),
        42,
        None,
        {"type": "text", "text": "x"},
        [Image.new("RGB", (2, 2))],
    ]
    assert all(is_image_like(v) for v in yes), [type(v) for v in yes if not is_image_like(v)]
    assert not any(is_image_like(v) for v in no), [v for v in no if is_image_like(v)]
    plt.close("all")


def test_imports_are_light() -> None:
    code = (
        "import sys\n"
        "import nbclaude._content.images as m, nbclaude._content\n"
        "class Fake: pass\n"
        "m.is_image_like(Fake()); m.is_image_like(b'\\x89PNG\\r\\n\\x1a\\nxxxx')\n"
        "m.image('https://example.com/a.png')\n"
        "heavy = ('PIL', 'numpy', 'matplotlib', 'httpx', 'IPython')\n"
        "print([k for k in heavy if k in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# property: any size, mode and format -> a valid block within the limits

_MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]
_FORMATS = {
    "PNG": {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"},
    "JPEG": {"L", "RGB", "CMYK"},
    "WEBP": {"RGB", "RGBA"},
    "GIF": {"L", "P", "RGB"},
    "BMP": {"1", "L", "P", "RGB"},
    "TIFF": {"1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"},
}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    w=st.integers(1, 2600),
    h=st.integers(1, 2600),
    mode=st.sampled_from(_MODES),
    fmt=st.sampled_from(sorted(_FORMATS)),
    max_edge=st.integers(1, 3000),
    max_pixels=st.integers(1, 3_000_000),
    orientation=st.sampled_from([1, 1, 3, 6, 8]),
)
def test_property_valid_and_within_limits(
    w: int, h: int, mode: str, fmt: str, max_edge: int, max_pixels: int, orientation: int
) -> None:
    if mode not in _FORMATS[fmt]:
        mode = "RGB" if "RGB" in _FORMATS[fmt] else "L"
    img = Image.linear_gradient("L").resize((w, h)).convert(mode)
    kw: dict[str, Any] = {}
    if fmt in ("JPEG", "WEBP", "PNG", "TIFF") and orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif.tobytes() if fmt != "PNG" else exif
    data = encode(img, fmt, **kw)
    block = image(data, max_edge=max_edge, max_pixels=max_pixels)
    check_limits(block, max_edge, max_pixels)
    out = decoded(block)
    swap = orientation in (6, 8) and fmt != "GIF" and fmt != "BMP"
    shown = (h, w) if swap else (w, h)
    assert out.size[0] <= shown[0]
    assert out.size[1] <= shown[1]
    if out.size != shown:  # resized: as large as the limits allow (within rounding)
        assert max(out.size) >= max_edge - 2 or out.size[0] * out.size[1] >= max_pixels * 0.98 - (
            out.size[0] + out.size[1]
        )


# -- privacy: metadata is not sent -------------------------------------------------------------


def _photo_with_gps(tmp_path: Path, fmt: str = "JPEG") -> Path:
    from PIL import Image

    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS
    path = tmp_path / ("gps.jpg" if fmt == "JPEG" else "gps.png")
    img.save(path, fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {}))
    return path


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_the_fast_path_drops_metadata_but_not_pixels(tmp_path: Path, fmt: str) -> None:
    import base64
    import io

    from PIL import Image

    path = _photo_with_gps(tmp_path, fmt)
    raw = path.read_bytes()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x8825)  # the file has a GPS position
    block = nbclaude.image(path)
    sent = base64.b64decode(block["source"]["data"])
    assert len(sent) < len(raw)
    assert b"PhoneMaker" not in sent and b"Exif" not in sent
    sent_img, raw_img = Image.open(io.BytesIO(sent)), Image.open(io.BytesIO(raw))
    assert not sent_img.getexif()
    assert sent_img.convert("RGB").tobytes() == raw_img.convert("RGB").tobytes()


def test_strip_metadata_leaves_what_it_does_not_understand() -> None:
    from nbclaude._content.images.bytes import strip_metadata

    for data in [b"GIF89a...", b"\xff\xd8\xff\xe1\x99\x99 truncated", b"\x89PNG\r\n\x1a\n\x00"]:
        assert strip_metadata(data) == data
