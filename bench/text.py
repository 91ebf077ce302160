"""The text class in both modes: the rendered lines hidden (the personal ones alone in personal mode), and its cost.

    python bench/text.py [--pictures 40] [--seed 0] [--preset balanced] [--plates 250] [--timed 12] > docs/benchmarks/text.json
    python bench/text.py --table docs/benchmarks/text.json   # writes anonymize/text_cost.json, which the pages quote

A test set made on the spot (nothing is written): 1280×720 pictures, each the bundled samples' photos
(scaled, mirrored, shifted) with six lines of known text, two of three on pale labels and one straight
on the photo (light on dark, dark on light), rendered with Pillow's own scalable font (no system font
needed) at 8 to 48 px. Half the lines are personal, made up on the spot: phone numbers in five national
formats, e-mail addresses, IBANs of six countries with valid checksums; half are not (signs, words, some
with numbers: "Gate B12", "Since 1987"). A third of the pictures are turned by 5 to 25 degrees (a line
turned partly out of the picture is not scored).

A line counts as hidden when the pixels the censor hides (unpadded: a turned line by its outline) cover
≥ 95 % of the line's own turned box (partly at ≥ 70 %). Both modes run on the same pictures: all text
(recall, also of the lines at least 8 px high, the issue's measure) and personal text (recall of the
personal lines; the other lines hidden half or more, which should be none). Text boxes that touch no
rendered line are counted too: text of the photo itself (the dashcam's plate, the City's signs) or false.

On ``plates_dev`` (``--datasets``), plates are text: the share of labelled plates the text class
covers (≥ 70 % of the plate's box) without the plate model.

The detector runs as the CLI runs it at ``--preset``'s text scale, at the default threshold, one picture
at a time; the time is the detector's alone (decoding and drawing left out). ``--timed`` pictures then
time every preset's whole local detector without text, with all text and with personal text, in turns.
Prints one JSON document.

``--seed`` makes another set of the same kind: choose a setting on seed 0 and report seed 1 beside it,
so that a figure that holds only on the set it was chosen on shows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from anonymize.censor import CensorSettings, censored_mask  # noqa: E402
from anonymize.detectors.local import local_detector  # noqa: E402
from anonymize.detectors.text import TextDetector  # noqa: E402
from anonymize.media import load_image  # noqa: E402
from anonymize.personal_text import PersonalText  # noqa: E402
from anonymize.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from anonymize.settings import CLASS_CONFIDENCE, TEXT  # noqa: E402

SIZE = (1280, 720)
OTHER = [
    "OPEN 24 HOURS",
    "Bakery",
    "No parking",
    "EXIT",
    "Fresh bread daily",
    "Platform 4",
    "SALE -50%",
    "Welcome",
    "Gate B12",
    "Since 1987",
    "Room 101",
    "Bus 42 to Central Station",
    "Keep this door closed",
    "Coffee & Tea",
    "Opening hours 9-17",
    "Fire assembly point",
    "Menu of the day",
    "Level 3 car park",
    "Staff only",
    "Thank you for shopping",
]
NAMES = ["jane", "john", "m", "anna", "li", "sam", "olga", "ahmed", "info", "contact"]
SURNAMES = ["doe", "rossi", "muller", "smith", "nguyen", "kowalski", "garcia", "berg"]
DOMAINS = ["example.com", "posta.it", "bakery-muller.de", "mail.co.uk", "firma.pl", "web.fr"]
#: Countries and the length of their IBAN's account part (digits only here: letters are tried by the tests).
IBAN_LENGTHS = {"DE": 18, "FR": 23, "NL": 14, "ES": 20, "IT": 23, "PL": 24}


def personal_line(rng: np.random.Generator) -> tuple[str, str]:
    """A made-up personal line, and the kind it is: a phone number, an e-mail address or an IBAN."""
    kind = str(rng.choice(["phone", "email", "iban"]))
    digits = lambda n: "".join(str(d) for d in rng.integers(0, 10, n))  # noqa: E731
    if kind == "phone":
        formats = [
            f"+44 20 {digits(4)} {digits(4)}",
            f"Call 0{digits(3)} {digits(3)} {digits(4)}",
            f"0{digits(1)} {digits(2)} {digits(2)} {digits(2)} {digits(2)}",
            f"({digits(3)}) {digits(3)}-{digits(4)}",
            f"Tel. +49 30 {digits(7)}",
        ]
        return str(rng.choice(formats)), kind
    if kind == "email":
        separator = str(rng.choice([".", "_", ""]))
        return f"{rng.choice(NAMES)}{separator}{rng.choice(SURNAMES)}@{rng.choice(DOMAINS)}", kind
    country = str(rng.choice(list(IBAN_LENGTHS)))
    account = digits(IBAN_LENGTHS[country])
    number = int("".join(str(int(c, 36)) for c in account + country + "00"))
    iban = f"{country}{98 - number % 97:02d}{account}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)), kind


def picture(
    n: int, rng: np.random.Generator, backgrounds: list[np.ndarray]
) -> tuple[np.ndarray, list, list[str], np.ndarray]:
    """The ``n``-th test picture: its pixels; each line's upright box, four corners, font size and number; each
    line's kind ("other" when it is not personal); and its ink: each pixel the number of the line whose
    glyphs cover it (0: none)."""
    background = backgrounds[n % len(backgrounds)]
    background = background[:, ::-1] if n % 2 else background
    image = Image.fromarray(np.ascontiguousarray(np.roll(background, int(rng.integers(0, SIZE[0])), axis=1)))
    draw = ImageDraw.Draw(image)
    ink = Image.new("L", SIZE, 0)
    boxes, personal, y = [], [], 30
    for k in range(6):
        text, kind = personal_line(rng) if k % 2 == 0 else (str(rng.choice(OTHER)), "other")
        size = int(rng.integers(8, 49))
        font = ImageFont.load_default(size=size)
        x = int(rng.integers(20, SIZE[0] // 2))
        box = draw.textbbox((x, y), text, font=font)
        if box[2] > SIZE[0] - 10 or box[3] > SIZE[1] - 10:
            break
        if k % 3 == 1:  # straight on the photo, light on dark or dark on light, as paint on a van
            under = np.asarray(image)[box[1] : box[3], box[0] : box[2]]
            draw.text((x, y), text, font=font, fill=(250, 250, 250) if under.mean() < 128 else (15, 15, 15))
        else:  # on a pale label, as a sign or a name tag
            draw.rectangle([box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4], fill=(245, 245, 238))
            draw.text((x, y), text, font=font, fill=(20, 20, 20))
        inking = ImageDraw.Draw(ink)
        inking.fontmode = "1"  # no anti-aliasing: an edge pixel is this line's, not a blend numbered as another
        inking.text((x, y), text, font=font, fill=k + 1)
        x1, y1, x2, y2 = box
        boxes.append((box, np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32), size, k + 1))
        personal.append(kind)
        y = box[3] + int(rng.integers(25, 70))
    pixels, ink = np.asarray(image), np.asarray(ink)
    if n % 3 == 2:  # turned, and each line's corners and ink with it
        angle = float(rng.choice([-1, 1]) * rng.uniform(5, 25))
        turn = cv2.getRotationMatrix2D((SIZE[0] / 2, SIZE[1] / 2), angle, 1.0)
        pixels = cv2.warpAffine(pixels, turn, SIZE, borderMode=cv2.BORDER_REFLECT)
        ink = cv2.warpAffine(ink, turn, SIZE, flags=cv2.INTER_NEAREST)
        turned, kept = [], []
        for (_, corners, size, number), mine in zip(boxes, personal):
            corners = cv2.transform(corners[None], turn)[0]
            if (corners >= 0).all() and (corners <= SIZE).all():  # a line turned out of the picture is not scored
                turned.append(((*corners.min(axis=0), *corners.max(axis=0)), corners, size, number))
                kept.append(mine)
        boxes, personal = turned, kept
    return pixels, boxes, personal, ink


def hidden(found, shape: tuple[int, int], padding: float = 1.0) -> np.ndarray:
    """The pixels ``found`` hides, as the censor hides them at ``padding`` (a turned line by its outline)."""
    return censored_mask(found, CensorSettings(padding=padding), shape[1], shape[0])


def share(corners: np.ndarray, mask: np.ndarray) -> float:
    """The share of the line inside ``corners`` that ``mask`` hides."""
    line = np.zeros(mask.shape, np.uint8)
    cv2.fillPoly(line, [np.round(corners - 0.5).astype(np.int32)], 1)
    inside = line.astype(bool)
    return float(mask[inside].mean()) if inside.any() else 0.0


def touches(d, boxes) -> bool:
    return any(d.x1 < x2 and d.x2 > x1 and d.y1 < y2 and d.y2 > y1 for (x1, y1, x2, y2), *_ in boxes)


@dataclass(frozen=True)
class Scored:
    """One rendered line: its kind, font size and height (px, along its turn), and in each mode the share of
    its box hidden unpadded (the detector's own reach) and the share of its ink hidden at the default padding
    (what a run hides)."""

    kind: str
    size: int
    height: float
    all_text: float
    all_text_ink: float
    personal: float
    personal_ink: float


def rendered(count: int, threshold: float, seed: int, text_side: int) -> dict:
    """Both modes on the same pictures, one after the other on each (the machine's load falls on both alike)."""
    every_line = TextDetector(short_side=text_side)
    personal_only = TextDetector(personal=PersonalText.of(), short_side=text_side)
    rng = np.random.default_rng(seed)
    backgrounds = [
        cv2.resize(load_image(ROOT / "samples" / name).pixels, SIZE, interpolation=cv2.INTER_AREA)
        for name in ("city.jpg", "dashcam_plate.jpg", "astronaut.jpg")
    ]
    scored: list[Scored] = []
    untouched = {"all": 0, "personal": 0}
    seconds: dict[str, list[float]] = {"all": [], "personal": []}
    for n in range(count):
        pixels, lines, kinds, ink = picture(n, rng, backgrounds)
        masks, padded = {}, {}
        for mode, detector in (("all", every_line), ("personal", personal_only)):
            start = time.perf_counter()
            found = detector.detect(pixels, confidence=threshold, overlap=0.3)
            seconds[mode].append(time.perf_counter() - start)
            untouched[mode] += sum(not touches(d, lines) for d in found)
            masks[mode] = hidden(found, pixels.shape[:2])
            padded[mode] = hidden(found, pixels.shape[:2], CensorSettings().padding)
        for (_, corners, size, number), kind in zip(lines, kinds):
            height = float(np.linalg.norm(corners[3] - corners[0]))
            glyphs = ink == number
            scored.append(
                Scored(
                    kind,
                    size,
                    height,
                    share(corners, masks["all"]),
                    float(padded["all"][glyphs].mean()),
                    share(corners, masks["personal"]),
                    float(padded["personal"][glyphs].mean()),
                )
            )
    return {
        "pictures": count,
        "all_text_mode": _all_mode(scored, untouched["all"], seconds["all"], count),
        "personal_text_mode": _personal_mode(scored, untouched["personal"], seconds["personal"], count),
    }


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else float("nan")


def _found(lines: list[Scored], at: float = 0.95) -> float:
    return _percent(sum(line.all_text >= at for line in lines), len(lines))


def _all_mode(scored: list[Scored], untouched: int, seconds: list[float], count: int) -> dict:
    bands: dict[str, list[Scored]] = {}
    for line in scored:
        bands.setdefault("08-15 px" if line.size < 16 else "16-31 px" if line.size < 32 else "32-48 px", []).append(
            line
        )
    tall = [line for line in scored if line.height >= 8]
    return {
        "lines": len(scored),
        "lines_with_all_their_ink_hidden": _percent(sum(line.all_text_ink >= 1 for line in scored), len(scored)),
        "lines_at_least_8_px_high_with_all_their_ink_hidden": _percent(
            sum(line.all_text_ink >= 1 for line in tall), len(tall)
        ),
        "found_95_percent": _found(scored),
        "lines_at_least_8_px_high": len(tall),
        "lines_at_least_8_px_high_found_95_percent": _found(tall),
        "found_70_percent": _found(scored, 0.7),
        "personal_lines_found_95_percent": _found([line for line in scored if line.kind != "other"]),
        "other_lines_found_95_percent": _found([line for line in scored if line.kind == "other"]),
        "found_95_percent_by_font_size": {band: _found(lines) for band, lines in sorted(bands.items())},
        "boxes_touching_no_rendered_line_per_picture": round(untouched / count, 2),
        "ms_per_1280x720_median": round(statistics.median(seconds) * 1000),
        "ms_per_1280x720_p90": round(float(np.percentile(seconds, 90)) * 1000),
    }


def _personal_mode(scored: list[Scored], untouched: int, seconds: list[float], count: int) -> dict:
    personal = [line for line in scored if line.kind != "other"]
    other = [line for line in scored if line.kind == "other"]

    def hid(lines: list[Scored], at: float = 0.95) -> float:
        return _percent(sum(line.personal >= at for line in lines), len(lines))

    return {
        "personal_lines": len(personal),
        "personal_lines_with_all_their_ink_hidden": _percent(
            sum(line.personal_ink >= 1 for line in personal), len(personal)
        ),
        "other_lines_with_any_ink_hidden": _percent(sum(line.personal_ink > 0 for line in other), len(other)),
        "personal_lines_hidden_95_percent": hid(personal),
        "personal_lines_hidden_95_percent_by_kind": {
            kind: hid([line for line in personal if line.kind == kind]) for kind in sorted({p.kind for p in personal})
        },
        "of_those_all_text_mode_found_hidden_95_percent": hid([line for line in personal if line.all_text >= 0.95]),
        "other_lines": len(other),
        "other_lines_hidden_half_or_more_percent": hid(other, 0.5),
        "other_lines_touched_percent": _percent(sum(line.personal > 0 for line in other), len(other)),
        "boxes_touching_no_rendered_line_per_picture": round(untouched / count, 2),
        "ms_per_1280x720_median": round(statistics.median(seconds) * 1000),
        "ms_per_1280x720_p90": round(float(np.percentile(seconds, 90)) * 1000),
    }


def presets(count: int, seed: int) -> dict:
    """Each preset's time per 1280×720 picture without text, with all text and with personal text, taken in
    turns on the same pictures, and as a multiple of the default's time without text."""
    rng = np.random.default_rng(seed)
    backgrounds = [
        cv2.resize(load_image(ROOT / "samples" / name).pixels, SIZE, interpolation=cv2.INTER_AREA)
        for name in ("city.jpg", "dashcam_plate.jpg", "astronaut.jpg")
    ]
    pictures = [picture(n, rng, backgrounds)[0] for n in range(count)]
    runs = {
        (preset, mode): local_detector(
            preset, text=mode != "none", personal=PersonalText.of() if mode == "personal" else None
        )
        for preset in PRESETS
        for mode in ("none", "all", "personal")
    }
    seconds: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
    for pixels in pictures:
        for run, detector in runs.items():
            start = time.perf_counter()
            detector.detect(pixels, confidence=0.01, overlap=0.3)
            seconds[run].append(time.perf_counter() - start)
    default = statistics.median(seconds[(DEFAULT_PRESET, "none")])
    return {
        preset: {
            "text_side_px": PRESETS[preset].text_side,
            **{
                f"ms_{mode}_text" if mode != "none" else "ms_without_text": round(
                    statistics.median(seconds[(preset, mode)]) * 1000
                )
                for mode in ("none", "all", "personal")
            },
            **{
                f"times_default_{mode}_text": round(statistics.median(seconds[(preset, mode)]) / default, 2)
                for mode in ("all", "personal")
            },
        }
        for preset in PRESETS
    }


def plates(dataset: Path, limit: int, detector: TextDetector, threshold: float) -> dict:
    entries = json.loads((dataset / "labels.json").read_text())["images"][:limit]
    covered = total = 0
    for entry in entries:
        pixels = load_image(dataset / entry["file"]).pixels
        mask = hidden(detector.detect(pixels, confidence=threshold, overlap=0.3), pixels.shape[:2])
        for x1, y1, x2, y2, _ in entry["boxes"]:
            total += 1
            covered += share(np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32), mask) >= 0.7
    return {"images": len(entries), "plates": total, "covered_70_percent_by_text": round(100 * covered / total, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0, help="which rendered set (0: the one the figures quote)")
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--plates", type=int, default=250, help="plates_dev images to score (0: none)")
    parser.add_argument("--preset", choices=list(PRESETS), default=DEFAULT_PRESET, help="whose text scale to score")
    parser.add_argument("--timed", type=int, default=12, help="pictures each preset is timed on (0: none)")
    parser.add_argument(
        "--table", metavar="JSON", help="write anonymize/text_cost.json from this benchmark's JSON and stop"
    )
    args = parser.parse_args()
    if args.table:
        timed = json.loads(Path(args.table).read_text())["presets_ms_per_1280x720"]
        table = {
            "source": f"bench/text.py ({Path(args.table).as_posix()})",
            "default_ms_without_text": timed[DEFAULT_PRESET]["ms_without_text"],
            "presets": {preset: {k: v for k, v in row.items() if k.startswith("ms_")} for preset, row in timed.items()},
        }
        (ROOT / "anonymize" / "text_cost.json").write_text(json.dumps(table, indent=1) + "\n")
        return
    threshold, text_side = CLASS_CONFIDENCE[TEXT] / 100, PRESETS[args.preset].text_side
    report = {
        "threshold_percent": CLASS_CONFIDENCE[TEXT],
        "seed": args.seed,
        "preset": args.preset,
        "text_side_px": text_side,
        "rendered": rendered(args.pictures, threshold, args.seed, text_side),
    }
    if args.plates and (args.datasets / "plates_dev").is_dir():
        detector = TextDetector(short_side=text_side)
        report["plates_dev"] = plates(args.datasets / "plates_dev", args.plates, detector, threshold)
    if args.timed:
        report["presets_ms_per_1280x720"] = presets(args.timed, args.seed)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
