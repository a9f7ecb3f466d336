"""An image block shown in real JupyterLab: the thumbnail with its one-line caption."""

from __future__ import annotations

import pytest

from .conftest import Notebook, Traffic

pytestmark = pytest.mark.browser


def test_an_image_block_shows_its_caption(notebook: Notebook, traffic: Traffic) -> None:
    nb = notebook
    index = nb.add(
        "import numpy as np\n"
        "nbclaude.image(np.kron(np.indices((8, 8)).sum(axis=0) % 2, np.ones((32, 32))) * 255)"
    )
    nb.wait_done(index)
    cell = nb.cell(index)
    caption = cell.locator(".jp-OutputArea-output figure figcaption")
    text = caption.inner_text()
    assert text.startswith("image/png 256\u00d7256") and "base64" in text and "tokens" in text
    src = cell.locator(".jp-OutputArea-output figure img").get_attribute("src")
    assert src is not None and src.startswith("data:image/png;base64,")
    assert not traffic.remote  # our own data: image only
