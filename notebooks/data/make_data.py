"""Make the small pictures the teaching notebooks use (run from this folder: python make_data.py).

They are drawn here, from code, so they are free to use for anything (CC0).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent


def ant() -> Image.Image:
    """A cartoon ant on a leaf-green background (JPEG, like the guide's photo of an ant)."""
    img = Image.new("RGB", (480, 320), (168, 208, 141))
    d = ImageDraw.Draw(img)
    d.ellipse((30, 250, 470, 330), fill=(120, 170, 100))  # the ground
    body = (40, 28, 24)
    legs = [((200, 170), (150, 250)), ((230, 175), (230, 260)), ((260, 170), (310, 250))]
    for (x0, y0), (x1, y1) in legs:  # three legs on this side ...
        d.line((x0, y0, x1, y1), fill=body, width=7)
    for (x0, y0), (x1, y1) in legs:  # ... and three behind, a little lighter
        d.line((x0 + 12, y0 - 8, x1 + 22, y1 - 14), fill=(80, 60, 50), width=6)
    d.ellipse((60, 120, 200, 210), fill=body)  # gaster (abdomen)
    d.ellipse((190, 140, 275, 190), fill=body)  # thorax
    d.ellipse((270, 110, 350, 180), fill=body)  # head
    d.line((330, 120, 360, 60, 400, 50), fill=body, width=5, joint="curve")  # antennae
    d.line((315, 115, 330, 55, 365, 35), fill=body, width=5, joint="curve")
    d.ellipse((318, 128, 334, 144), fill=(240, 240, 240))  # eye
    d.ellipse((324, 132, 332, 140), fill=(0, 0, 0))
    return img


def shapes() -> Image.Image:
    """Three simple shapes to count and name (PNG)."""
    img = Image.new("RGB", (400, 200), "white")
    d = ImageDraw.Draw(img)
    d.ellipse((20, 40, 140, 160), fill=(220, 40, 40))  # a red circle
    d.rectangle((160, 50, 260, 150), fill=(40, 90, 220))  # a blue square
    d.polygon([(330, 40), (390, 160), (270, 160)], fill=(40, 170, 70))  # a green triangle
    return img


if __name__ == "__main__":
    ant().save(HERE / "ant.jpg", quality=85, optimize=True)
    shapes().save(HERE / "shapes.png", optimize=True)
    for name in ("ant.jpg", "shapes.png"):
        print(name, (HERE / name).stat().st_size, "bytes")
