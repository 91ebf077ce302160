"""Time from a sidebar slider change to the new result, in a real browser, on a 1024-px photo.

    python bench/slider_latency.py [--steps 10]

Starts ``streamlit run app.py`` on 127.0.0.1, opens the Image page in headless
Chromium, uploads the city sample scaled to 1024 px wide, then presses the
arrow key on a slider and waits until Streamlit has finished the rerun.

* ``confidence``: a threshold change; local detections, cached at the 5 %
  floor, are filtered again (below the floor, detection re-runs);
* ``strength``: a censoring change; detection comes from the cache.

Prints JSON: median and p90 milliseconds per step.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_helpers import launch_chromium, streamlit_server, wait_until_idle  # noqa: E402

from anonymize.media import load_image, save_image  # noqa: E402

RUN_STATE = "document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state')"


def step_times(page, slider_index: int, steps: int) -> list[float]:
    thumb = page.get_by_test_id("stSidebar").get_by_role("slider").nth(slider_index)
    times = []
    for _ in range(steps):
        thumb.focus()
        start = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"{RUN_STATE} === 'running'", polling="raf", timeout=30_000)
        page.wait_for_function(f"{RUN_STATE} === 'notRunning'", polling="raf", timeout=60_000)
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> dict:
    return {"median_ms": round(statistics.median(times) * 1000), "p90_ms": round(float(np.percentile(times, 90)) * 1000), "steps": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    city = load_image(ROOT / "samples" / "city.jpg").pixels
    photo = cv2.resize(city, (1024, round(city.shape[0] * 1024 / city.shape[1])), interpolation=cv2.INTER_CUBIC)
    with tempfile.TemporaryDirectory() as folder, streamlit_server() as url, sync_playwright() as playwright:
        path = save_image(photo, Path(folder) / "city1024.jpg")
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/image")
        wait_until_idle(page)
        page.get_by_text("Upload", exact=True).click()
        wait_until_idle(page)
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
        page.get_by_text("Faces hidden").wait_for(timeout=60_000)
        wait_until_idle(page)
        report = {
            "photo": f"{photo.shape[1]}x{photo.shape[0]}",
            "confidence_slider": summary(step_times(page, 0, args.steps)),
            "strength_slider": summary(step_times(page, 2, args.steps)),
        }
        browser.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
