"""The second look at CenterFace's candidates: classifiers that rescore them.

CenterFace at a low threshold finds almost every face, and with it hundreds of
face-like patches (foliage, hands, patterns). Following the Street View system
(Frome et al. 2009: a high-recall detector, then classifiers that reject its
false positives), each candidate's confidence is replaced in two stages, both
logistic regressions fitted on faces_dev (``bench/fit_face_scoring.py``
refits them and prints their cross-validated recall and false regions):

1. **Agreement**, for every candidate, from what the passes already measured:
   the best score any pass gave it; the score the full-resolution pass gave it
   (a real face the downscaled pass finds is nearly always seen at full
   resolution too, while many of that pass' false alarms vanish there); and its
   size (a 6 px box in foliage is weaker evidence than a 60 px one).
2. **A closer look**, for the doubtful ones only (first-stage confidence in
   :data:`VERIFY_BAND`): CenterFace runs again on a crop of the candidate with
   its surroundings, enlarged so that the candidate is about 40 px, where the
   model is at its surest; its score there is the fourth feature. The closer
   look decides whether a doubtful candidate is hidden, never that it is a
   sure face: its confidence stays under :data:`~anonymize.detections.CONFIDENT`,
   so what the app counts as found is what the first stage was sure of.

Positives were weighted up to balance the classes in both fits, so 50 % reads
as "as likely a face as not". A second face model (RetinaFace-MobileNet0.25) as
the verifier was measured too and not kept: README, "How the default was chosen".

Example:
    >>> import numpy as np
    >>> sure = agreement(Candidates(np.array([[0, 0, 40, 40.]]), np.array([0.9]), np.array([0.9])))
    >>> doubtful = agreement(Candidates(np.array([[0, 0, 12, 12.]]), np.array([0.06]), np.array([0.0])))
    >>> bool(sure[0] > 0.9), bool(doubtful[0] < 0.01)
    (True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anonymize.detections import CONFIDENT, iou_matrix

#: Weights on logit(own score), logit(full-resolution pass score), log(side in px), and the bias.
AGREEMENT_WEIGHTS = (0.723, 1.904, 0.162, 3.006)
#: The same three features, plus logit(score on the enlarged crop), and the bias.
CLOSER_LOOK_WEIGHTS = (0.569, 1.471, 0.497, 0.982, 5.023)
#: First-stage confidences that get the closer look: above, sure enough; below, never hidden by default.
VERIFY_BAND = (0.02, CONFIDENT)
#: Each pass keeps cells above this score: low enough that "the full-resolution pass did not see it" means something.
PASS_FLOOR = 0.02
#: Candidates whose own score is below this are dropped before scoring.
CANDIDATE_FLOOR = 0.05
#: A pass "saw" a candidate when one of its boxes overlaps it by at least this IoU; on the crop, by at least ``ZOOM_SAME_FACE_IOU``.
SAME_FACE_IOU, ZOOM_SAME_FACE_IOU = 0.4, 0.3
#: The closer look's crop: this many times the candidate's longer side, resized to ``ZOOM_SIZE`` px square.
ZOOM_CONTEXT, ZOOM_SIZE = 3.0, 128
_CLIP = 1e-4


@dataclass(frozen=True)
class Candidates:
    """Possible faces after merging the passes: ``N×4`` corner boxes, their best score, and the
    full-resolution pass' score for the same face (0 if it did not see it)."""

    boxes: np.ndarray
    score: np.ndarray
    full_resolution_score: np.ndarray

    def __getitem__(self, chosen: np.ndarray) -> Candidates:
        """The candidates ``chosen`` (a boolean mask or indices) picks."""
        return Candidates(self.boxes[chosen], self.score[chosen], self.full_resolution_score[chosen])

    @property
    def sides(self) -> np.ndarray:
        """Each box's size in px: the square root of its area."""
        return np.sqrt(np.maximum((self.boxes[:, 2] - self.boxes[:, 0]) * (self.boxes[:, 3] - self.boxes[:, 1]), 1.0))

    def features(self) -> np.ndarray:
        """The first stage's inputs, ``N×3``."""
        return np.stack([logit(self.score), logit(self.full_resolution_score), np.log(self.sides)], axis=1)


def agreement(candidates: Candidates) -> np.ndarray:
    """First stage: the probability (0–1) that each candidate is a face."""
    return _logistic(candidates.features(), AGREEMENT_WEIGHTS)


def closer_look(candidates: Candidates, zoomed_score: np.ndarray) -> np.ndarray:
    """Second stage, given each candidate's score on its enlarged crop; always under ``CONFIDENT``."""
    found = _logistic(np.column_stack([candidates.features(), logit(zoomed_score)]), CLOSER_LOOK_WEIGHTS)
    return np.minimum(found, np.nextafter(np.float32(CONFIDENT), np.float32(0)))


def needs_closer_look(first_stage: np.ndarray) -> np.ndarray:
    """Which candidates are doubtful enough for the second stage."""
    low, high = VERIFY_BAND
    return (first_stage >= low) & (first_stage < high)


def score_in_pass(boxes: np.ndarray, pass_boxes: np.ndarray, pass_scores: np.ndarray, same_face: float = SAME_FACE_IOU) -> np.ndarray:
    """For each of ``boxes``, the best score of a ``pass_boxes`` box on the same face (0 if none)."""
    if not len(boxes) or not len(pass_boxes):
        return np.zeros(len(boxes), np.float32)
    same = iou_matrix(boxes, pass_boxes) >= same_face
    return np.where(same, pass_scores[None, :], 0).max(axis=1).astype(np.float32)


def zoom_windows(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each box, the ``2×3`` affine map from the image to its ``ZOOM_SIZE`` crop, and the box in crop pixels."""
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    side = np.maximum((boxes[:, 2:] - boxes[:, :2]).max(axis=1), 2.0) * ZOOM_CONTEXT
    scale = ZOOM_SIZE / side
    origin = centres - side[:, None] / 2
    maps = np.zeros((len(boxes), 2, 3), np.float32)
    maps[:, 0, 0] = maps[:, 1, 1] = scale
    maps[:, :, 2] = -origin * scale[:, None]
    in_crop = (boxes - np.tile(origin, 2)) * scale[:, None]
    return maps, in_crop


def _logistic(features: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
    z = features @ np.array(weights[:-1]) + weights[-1]
    return (1 / (1 + np.exp(-z))).astype(np.float32)


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p kept off 0 and 1."""
    p = np.clip(p, _CLIP, 1 - _CLIP)
    return np.log(p / (1 - p))
