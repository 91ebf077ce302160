"""Time from a sidebar change to the new result on screen, in a real browser, on a 1024-px photo.

    python bench/slider_latency.py [--steps 10] [--load 2]

Starts ``streamlit run app.py`` on 127.0.0.1, opens the Image page in headless
Chromium, uploads the city sample scaled to 1024 px wide, then changes a control
and times two moments: the new after image loaded (its address changed and the
browser decoded it: the issue's measure, what a user waits for), and the rerun
finished (the page's lower parts, the detections table and the raw JSON, drawn too):

* ``confidence``: a threshold change (the arrow key on the face slider); local
  detections, cached at the detection floor, are filtered again;
* ``padding``: a censoring change; detection comes from the cache;
* ``method``: the censor method switched (blur, pixelate, fill, in turn), timed from the click on the option
  (the drop-down is opened first, untimed).

With ``--load N``, N busy-loop processes keep the cores busy meanwhile (a laptop
with a browser and a video call). Prints JSON: median and p90 milliseconds per step,
and the server's own time of each ("This update").
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

from load import busy_cores  # noqa: E402

from anonymize.media import load_image, save_image  # noqa: E402
from helpers.browser import launch_chromium, streamlit_server, wait_until_idle  # noqa: E402

RUN_STATE = "document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state')"
#: The after image (the second picture of the main area): its address, and whether the browser has decoded it.
AFTER = "document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')[1]"
THIS_UPDATE = (
    "[...document.querySelectorAll('[data-testid=stMetric]')].find(m => m.textContent.startsWith('This update'))"
)


def timed_change(page, change, prepare=None) -> tuple[float, float, float]:
    """Seconds from ``change()`` to the new after image decoded on screen, and to the rerun's end; the server's
    own ms ("This update"). ``prepare()`` runs first, untimed (opening a drop-down before its option is chosen)."""
    before = page.evaluate(f"{AFTER}.src")
    if prepare:
        prepare()
    start = time.perf_counter()
    change()
    page.wait_for_function(f"{AFTER} && {AFTER}.src !== {before!r} && {AFTER}.complete", polling="raf", timeout=60_000)
    on_screen = time.perf_counter() - start
    page.wait_for_function(f"{RUN_STATE} === 'notRunning'", polling="raf", timeout=60_000)
    done = time.perf_counter() - start
    server = page.evaluate(f"{THIS_UPDATE}.querySelector('[data-testid=stMetricValue]').textContent")
    return on_screen, done, float(server.split()[0])


def slider_steps(page, slider_index: int, steps: int) -> list[tuple[float, float]]:
    thumb = page.get_by_test_id("stSidebar").get_by_role("slider").nth(slider_index)

    def step() -> None:
        thumb.focus()
        page.keyboard.press("ArrowRight")

    return [timed_change(page, step) for _ in range(steps)]


def method_switches(page, steps: int) -> list[tuple[float, float]]:
    methods = ["pixelate", "fill", "blur"]

    def open_menu() -> None:
        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Censor method").click()
        page.get_by_role("option", name=methods[0], exact=True).wait_for()

    def choose(method: str):
        return lambda: page.get_by_role("option", name=method, exact=True).click()

    return [timed_change(page, choose(methods[i % len(methods)]), open_menu) for i in range(steps)]


def summary(runs: list[tuple[float, float, float]]) -> dict:
    on_screen, done, server = ([run[i] for run in runs] for i in range(3))
    return {
        "median_ms": round(statistics.median(on_screen) * 1000),
        "p90_ms": round(float(np.percentile(on_screen, 90)) * 1000),
        "rerun_done_median_ms": round(statistics.median(done) * 1000),
        "rerun_done_p90_ms": round(float(np.percentile(done, 90)) * 1000),
        "server_median_ms": round(statistics.median(server)),
        "steps": len(on_screen),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes beside the app and the browser")
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
        with busy_cores(args.load):
            report = {
                "photo": f"{photo.shape[1]}x{photo.shape[0]}",
                "busy_processes": args.load,
                "confidence_slider": summary(slider_steps(page, 0, args.steps)),
                "padding_slider": summary(slider_steps(page, 3, args.steps)),
                "method_switch": summary(method_switches(page, args.steps)),
            }
        browser.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
