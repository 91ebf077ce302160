"""Helpers for Streamlit AppTest: start on a page, and read back the pixels a page shows."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT


def open_page(page: str | None = None, query: dict[str, str] | None = None) -> AppTest:
    """The app from its entrypoint, switched to ``app_pages/<page>.py`` when given."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    if query:
        at.query_params.update(query)
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def predictions(at: AppTest, index: int = 0) -> list[dict]:
    """The raw JSON predictions the page shows for its ``index``-th picture."""
    return json.loads(at.code[index].value)["predictions"]


def image_pixels(at: AppTest, media: dict[str, bytes], index: int) -> np.ndarray:
    """Decoded pixels of the ``index``-th ``st.image`` on the page."""
    url = at.image[index].value[0]
    (data,) = [data for file_id, data in media.items() if file_id in url]
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def download(at: AppTest, media: dict[str, bytes], label: str) -> bytes:
    """The bytes behind the download button labelled ``label``."""
    (button,) = [b for b in at.get("download_button") if b.proto.label == label]
    (data,) = [data for file_id, data in media.items() if file_id in button.proto.url]
    return data
