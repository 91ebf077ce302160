"""Censoring: every method and shape hides the inside and leaves the outside bit-identical."""

import cv2
import numpy as np
import pytest

from anonymize.censor import METHODS, CensorSettings, censor, censored_mask, regions_for
from anonymize.detections import Detection, Predictions


def faces(*boxes, name="face"):
    return Predictions.of([Detection(*b, 0.9, name) for b in boxes], 160, 120)


def outside(mask_box, image):
    """All pixels of ``image`` outside ``mask_box`` (x1, y1, x2, y2)."""
    keep = np.ones(image.shape[:2], bool)
    x1, y1, x2, y2 = mask_box
    keep[y1:y2, x1:x2] = False
    return image[keep]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", ["rect", "ellipse"])
def test_method_changes_the_inside_and_nothing_outside(noise, method, shape):
    settings = CensorSettings(method=method, shape=shape, padding=1.0)
    out = censor(noise, faces((40, 30, 100, 90)), settings)
    assert np.array_equal(outside((40, 30, 100, 90), out), outside((40, 30, 100, 90), noise))
    centre = (slice(50, 70), slice(60, 80))
    assert np.abs(out[centre].astype(int) - noise[centre]).mean() > 20


def test_ellipse_leaves_the_box_corners_untouched(noise):
    out = censor(noise, faces((40, 30, 100, 90)), CensorSettings(method="fill", shape="ellipse", padding=1.0))
    assert np.array_equal(out[30:33, 40:43], noise[30:33, 40:43])
    assert (out[60, 70] == 0).all()


def test_auto_shape_is_ellipse_for_faces_and_rect_for_plates():
    settings = CensorSettings()
    assert settings.shape_for("face") == "ellipse"
    assert settings.shape_for("license-plate") == "rect"


def test_padding_scales_the_box_about_its_centre():
    (region,) = regions_for(faces((40, 40, 60, 50)), CensorSettings(padding=1.5), 160, 120)
    assert (region.x1, region.y1, region.x2, region.y2) == (35, 37, 65, 53)


def test_boxes_past_the_edges_are_clamped_not_wrapped(noise):
    out = censor(noise, faces((-30, -20, 20, 25)), CensorSettings(method="fill", shape="rect", padding=1.0))
    assert (out[:25, :20] == 0).all()
    # Negative slice indices would have painted the far right and bottom edges.
    assert np.array_equal(out[:, 20:], noise[:, 20:])
    assert np.array_equal(out[25:, :], noise[25:, :])


def test_pixelate_averages_each_cell():
    image = np.zeros((120, 160, 3), np.uint8)
    image[::2, :, :] = 200  # stripes: every cell averages to 100
    settings = CensorSettings(method="pixelate", shape="rect", padding=1.0, strength=8)  # 4 cells
    out = censor(image, faces((0, 0, 64, 64)), settings)
    assert set(np.unique(out[:64, :64])) == {100}


def test_pixelation_cells_grow_with_the_box():
    settings = CensorSettings(method="pixelate", shape="rect", padding=1.0)
    image = np.random.default_rng(1).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    small = censor(image, faces((0, 0, 30, 30)), settings)[:30, :30]
    large = censor(image, faces((0, 0, 300, 300)), settings)[:300, :300]

    def cells_across(row):
        return 1 + np.count_nonzero(np.any(np.diff(row.astype(int), axis=0) != 0, axis=1))

    # The same number of cells across, whatever the size: a big face is not left readable.
    assert cells_across(small[0]) == cells_across(large[0]) == 6


def test_blur_strength_scales_with_the_box(noise):
    image = np.random.default_rng(2).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    settings = CensorSettings(method="blur", shape="rect", padding=1.0)
    small = censor(image, faces((0, 0, 40, 40)), settings)[10:30, 10:30]
    large = censor(image, faces((0, 0, 360, 360)), settings)[100:260, 100:260]
    # Residual detail relative to the original's: about as low for both.
    assert small.std() < 0.25 * image.std() and large.std() < 0.25 * image.std()


def test_tiny_boxes_are_censored_without_error(noise):
    for method in METHODS:
        out = censor(noise, faces((10, 10, 11, 11)), CensorSettings(method=method, shape="rect", padding=1.0))
        assert np.array_equal(outside((10, 10, 11, 11), out), outside((10, 10, 11, 11), noise))


def test_overlapping_regions_are_censored_once(noise):
    settings = CensorSettings(method="pixelate", shape="rect", padding=1.0)
    both = censor(noise, faces((20, 20, 80, 80), (50, 50, 110, 110)), settings)
    second_only = censor(noise, faces((50, 50, 110, 110)), settings)
    # The overlap holds the second region's censoring of the original, not a censored censoring.
    assert np.array_equal(both[80:110, 80:110], second_only[80:110, 80:110])


def test_feathering_never_makes_the_inside_see_through(noise):
    plain = censor(noise, faces((40, 30, 100, 90)), CensorSettings(method="fill", shape="rect", padding=1.0))
    soft = censor(noise, faces((40, 30, 100, 90)), CensorSettings(method="fill", shape="rect", padding=1.0, feather=6))
    assert np.array_equal(soft[30:90, 40:100], plain[30:90, 40:100])
    assert not np.array_equal(soft[30:90, 36:40], noise[30:90, 36:40])  # the soft band lies outside
    assert np.array_equal(outside((34, 24, 106, 96), soft), outside((34, 24, 106, 96), noise))


def test_fill_is_the_solid_colour(noise):
    out = censor(
        noise, faces((0, 0, 50, 50)), CensorSettings(method="fill", shape="rect", padding=1.0, fill_color=(255, 0, 0))
    )
    assert (out[:50, :50] == [255, 0, 0]).all()


def test_no_detections_returns_an_identical_copy(noise):
    out = censor(noise, faces(), CensorSettings())
    assert np.array_equal(out, noise) and out is not noise


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        CensorSettings(method="smudge")
    with pytest.raises(ValueError):
        CensorSettings(strength=0)


def test_censored_mask_is_exactly_what_censor_fills(noise):
    found = faces((10, 10, 60, 40), (50, 20, 120, 100))
    settings = CensorSettings(method="fill", fill_color=(1, 2, 3))
    painted = (censor(noise, found, settings) == [1, 2, 3]).all(axis=2) & ~(noise == [1, 2, 3]).all(axis=2)
    assert np.array_equal(censored_mask(found, settings, 160, 120), painted)


@pytest.mark.parametrize("sigma", [3, 5, 8, 16])
def test_a_blur_run_on_a_shrunken_copy_keeps_no_more_detail_than_the_full_size_gaussian(sigma):
    from anonymize.censor import SHRUNK_SIGMA, _gaussian

    assert sigma > SHRUNK_SIGMA
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)  # all detail
    full_size = cv2.GaussianBlur(noise, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)
    shrunk = _gaussian(noise, sigma)

    def detail(image):
        return cv2.Laplacian(image.astype(np.float32), cv2.CV_32F).std()

    assert detail(shrunk) <= detail(full_size)
    assert np.abs(shrunk.astype(int) - full_size).mean() < 1.5  # the same picture, to a grey level


def test_a_new_method_is_one_class_in_the_registry_and_its_linkage_is_said_to_be_not_measured(monkeypatch):
    import importlib
    from dataclasses import dataclass

    from anonymize import cli

    censoring = importlib.import_module("anonymize.censor")  # the package's own ``censor`` is the function
    from anonymize.linkage import measured

    @dataclass(frozen=True)
    class Invert:
        name: str = "invert"
        past: str = "inverted"
        description: str = "the negative"
        uses_strength: bool = False

        def hide(self, crop, size, settings):
            return 255 - crop

    monkeypatch.setitem(censoring.CENSOR_METHODS, "invert", Invert())
    monkeypatch.setattr(censoring, "METHODS", (*censoring.METHODS, "invert"))
    monkeypatch.setattr(cli, "METHODS", censoring.METHODS)
    image = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    found = Predictions.of([Detection(10, 10, 30, 30, 0.9, "plate")], 80, 60)
    out = censor(image, found, CensorSettings(method="invert"))
    assert (out[20, 20] == 255 - image[20, 20]).all() and (out[50:, 50:] == image[50:, 50:]).all()
    assert measured("invert", 5) is None
    assert "invert" in cli.build_parser().format_help()  # no linkage figure: the help still comes, saying nothing of it


TURNED_LINE = ((20.0, 60.0), (120.0, 20.0), (130.0, 45.0), (30.0, 85.0))  # a line of text turned about 22°


def turned_text(outline=TURNED_LINE):
    xs, ys = zip(*TURNED_LINE)
    box = (min(xs), min(ys), max(xs), max(ys))
    return Predictions.of([Detection(*box, 0.9, "text", 2, None, "any", outline)], 160, 120)


@pytest.mark.parametrize("feather", [0, 6])
def test_a_turned_text_line_is_hidden_by_its_outline_every_pixel_inside_it_and_not_its_boxs_corners(noise, feather):
    out = censor(noise, turned_text(), CensorSettings(method="fill", padding=1.0, feather=feather))
    outline = np.array(TURNED_LINE, np.float32)
    inside = np.array(  # every pixel whose centre lies in the outline
        [[cv2.pointPolygonTest(outline, (x + 0.5, y + 0.5), False) >= 0 for x in range(160)] for y in range(120)]
    )
    assert (out[inside] == 0).all()
    assert np.array_equal(out[20:24, 20:24], noise[20:24, 20:24])  # the upright box's top-left corner
    assert censored_mask(turned_text(), CensorSettings(padding=1.0), 160, 120)[inside].all()


def test_an_outline_that_strays_from_its_box_is_ignored_and_the_box_is_hidden(noise):
    strayed = turned_text(outline=((140.0, 100.0), (150.0, 100.0), (150.0, 110.0), (140.0, 110.0)))
    out = censor(noise, strayed, CensorSettings(method="fill", padding=1.0))
    assert (out[21:84, 21:129] == 0).all()


def test_a_text_lines_outline_goes_into_the_json_as_points_and_reads_back():
    payload = turned_text().to_roboflow()
    assert [(p["x"], p["y"]) for p in payload["predictions"][0]["points"]] == list(TURNED_LINE)
    assert Predictions.from_roboflow(payload)[0].outline == TURNED_LINE
