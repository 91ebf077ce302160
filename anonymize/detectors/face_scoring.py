"""The second look at CenterFace's candidates: a calibrated classifier that rescores them.

CenterFace at a low threshold finds almost every face, and with it hundreds of
face-like patches (foliage, hands, patterns). Following the Street View system
(Frome et al. 2009: a high-recall detector, then a classifier over its
candidates), each candidate's confidence is replaced by a logistic regression
on what the passes already measured:

* the best score any pass gave it;
* the score the full-resolution pass gave it (a real face the downscaled pass
  finds is nearly always seen at full resolution too, while many of that pass'
  false alarms vanish there);
* the score the downscaled (640 px) pass gave it, and the candidate's size as
  the full-resolution pass saw it, with their products: which pass to trust
  depends on the size (a large face is surer on the downscaled copy, a small
  one at full resolution).

The weights are fitted on faces_dev and checked on faces_val, which they never
saw (``bench/fit_face_scoring.py``): first for the ranking, each non-face
weighted by its size (its side to the power :data:`COST_POWER`: a large false
alarm hides more of the picture than a small one, and over-censored area is
what a false alarm costs) and the faces weighted to balance them; then
calibrated (Platt scaling, on faces_dev's own share of faces), so that a
confidence means what it says: of the candidates scored about 30 %, about 30 %
are faces (the reliability table is in docs/benchmarks.md). Most candidates are
not faces, so the threshold that keeps recall first is low (0.1 %).

An earlier design added a closer look (CenterFace again on an enlarged crop)
for doubtful candidates. It cut false regions on the set it was fitted on and
cost recall on photos it had not seen, and its time grew with the crowd: it was
removed (docs/benchmarks.md, "How the default was chosen").

Example:
    >>> import numpy as np
    >>> sure = agreement(Candidates(np.array([[0, 0, 40, 40.]]), *np.array([[0.9], [0.9], [0.9]])))
    >>> doubtful = agreement(Candidates(np.array([[0, 0, 12, 12.]]), *np.array([[0.06], [0.0], [0.06]])))
    >>> bool(sure[0] > 0.9), bool(doubtful[0] < 0.001)
    (True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anonymize.detections import iou_matrix

#: Weights on :meth:`Candidates.features`, and the bias: the cost-weighted fit times Platt's slope, plus its
#: intercept (``bench/fit_face_scoring.py``).
AGREEMENT_WEIGHTS = (0.326, 1.9998, -1.3801, 1.6093, 0.479, 0.232, -2.5144)
#: How much more a larger non-face weighs in the fit: its side to this power (chosen on faces_dev among
#: 0, 0.5, 0.75 and 1: docs/benchmarks.md, "How the default was chosen").
COST_POWER = 0.75
#: Each pass keeps cells above this score, and a candidate needs it: low enough that "the
#: full-resolution pass did not see it" means something, and that a faint face is still scored.
PASS_FLOOR = 0.02
#: A pass "saw" a candidate when one of its boxes overlaps it by at least this IoU.
SAME_FACE_IOU = 0.4
#: A kept candidate that overlaps a surer one by at least this IoU, and is at most ``DUPLICATE_RATIO`` as
#: sure, is dropped by :func:`distinct` (both chosen on faces_dev: docs/benchmarks.md, "How the default
#: was chosen").
DUPLICATE_IOU = 0.02
DUPLICATE_RATIO = 0.01
#: Candidates compared with the pass at a time, in :func:`score_in_pass`.
MATCH_BLOCK = 256
_CLIP = 1e-4


@dataclass(frozen=True)
class Candidates:
    """Possible faces after merging the passes: ``N×4`` corner boxes, their best score, and the scores
    the full-resolution and the downscaled (smallest) pass gave the same face (0 where it did not see it;
    with one pass, both are its own)."""

    boxes: np.ndarray
    score: np.ndarray
    full_resolution_score: np.ndarray
    downscaled_score: np.ndarray
    #: The full-resolution pass' input pixels per image pixel (below 1 when the image is larger than it).
    full_resolution_scale: float = 1.0

    def features(self) -> np.ndarray:
        """The classifier's inputs, ``N×6``: logits of the three scores, the log of the side the
        full-resolution pass saw, and that times the full-resolution and downscaled logits."""
        widths, heights = (self.boxes[:, 2:] - self.boxes[:, :2]).T
        side = np.log(np.maximum(np.sqrt(np.maximum(widths * heights, 0)) * self.full_resolution_scale, 1.0))
        full, downscaled = logit(self.full_resolution_score), logit(self.downscaled_score)
        return np.stack([logit(self.score), full, downscaled, side, side * downscaled, side * full], axis=1)


def agreement(candidates: Candidates) -> np.ndarray:
    """The calibrated probability (0–1) that each candidate is a face."""
    z = candidates.features() @ np.array(AGREEMENT_WEIGHTS[:-1]) + AGREEMENT_WEIGHTS[-1]
    return (1 / (1 + np.exp(-z))).astype(np.float32)


def shown(
    boxes: np.ndarray,
    scores: np.ndarray,
    confidence: float,
    overlap: float = DUPLICATE_IOU,
    ratio: float = DUPLICATE_RATIO,
) -> np.ndarray:
    """Which candidates a detection at ``confidence`` (0–1) shows: those scored at least that, less the
    doubtful duplicates of surer ones (:func:`distinct`)."""
    sure = scores >= confidence
    sure[sure] = distinct(boxes[sure], scores[sure], overlap, ratio)
    return sure


def distinct(
    boxes: np.ndarray, scores: np.ndarray, overlap: float = DUPLICATE_IOU, ratio: float = DUPLICATE_RATIO
) -> np.ndarray:
    """Which of the kept ``boxes`` to show: not those that overlap a far surer one (by ``overlap`` IoU or
    more, with at most ``ratio`` times its score).

    Such a candidate is nearly always the surer one's face seen shifted or at another scale (a box
    on the chin, the hair, the shoulder): NMS keeps it, since it overlaps the face's box by less
    than 0.3 IoU, and its mask adds only the area around a face already hidden. A face behind
    another one is seldom that much less sure than its neighbour: on faces_dev and faces_val
    dropping these kept recall and cut the over-censored area by a tenth.

    Example:
        >>> boxes = np.array([[0, 0, 40, 40], [20, 0, 60, 40], [100, 0, 140, 40.]])
        >>> distinct(boxes, np.array([0.9, 0.005, 0.005], np.float32)).tolist()
        [True, False, True]
    """
    return scores >= ratio * score_in_pass(boxes, boxes, scores, overlap)


def score_in_pass(
    boxes: np.ndarray, pass_boxes: np.ndarray, pass_scores: np.ndarray, same_face: float = SAME_FACE_IOU
) -> np.ndarray:
    """For each of ``boxes``, the best score of a ``pass_boxes`` box on the same face (0 if none).

    A crowd has thousands of candidates and the pass tens of thousands of raw cells, too
    many pairs for one IoU matrix. A box that overlaps one ``w`` wide by IoU ``same_face``
    or more is at most ``w / same_face`` wide (their intersection is at most ``w`` times its
    height), so it starts after ``x1 - w / same_face``: the candidates, sorted by x, are
    compared in blocks with only the pass boxes that start between those bounds, and the
    answer is the one every pair would give.
    """
    found = np.zeros(len(boxes), np.float32)
    if not len(boxes) or not len(pass_boxes):
        return found
    by_start = np.argsort(pass_boxes[:, 0], kind="stable")
    starts = pass_boxes[by_start, 0]
    order = np.argsort(boxes[:, 0], kind="stable")
    for block in np.array_split(order, -(-len(order) // MATCH_BLOCK)):
        chosen = boxes[block]
        reach = chosen[:, 0] - (chosen[:, 2] - chosen[:, 0]) / same_face - 1  # a pixel of slack for rounding
        near = by_start[
            np.searchsorted(starts, reach.min(), "left") : np.searchsorted(starts, chosen[:, 2].max(), "right")
        ]
        if len(near):
            same = iou_matrix(chosen, pass_boxes[near]) >= same_face
            found[block] = np.where(same, pass_scores[near][None, :], 0).max(axis=1)
    return found


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p kept off 0 and 1."""
    p = np.clip(p, _CLIP, 1 - _CLIP)
    return np.log(p / (1 - p))
