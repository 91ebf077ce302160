"""A fake Roboflow on 127.0.0.1: the hosted API the ``roboflow`` SDK calls, and an Inference server's v1 routes.

It decodes every uploaded image and "detects" pure red rectangles in it, so
answers are boxes on the real picture. Class ``face`` for the hosted project,
``plate`` for the Inference server model.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

import cv2
import numpy as np
from PIL import Image

KEY = "RealKey-s3cr3t-abc123"  # has lowercase letters, so the SDK validates it
WORKSPACE, PROJECT = "acme", "faces"
TRAINED_VERSION, UNTRAINED_VERSION = 3, 4


def red_boxes(pixels: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x1, y1, x2, y2) of the red blobs, ignoring JPEG specks."""
    red = ((pixels[..., 0] > 180) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(red)
    return [(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h, area in stats[1:count] if w >= 4 and h >= 4]


def predictions_for(image_bytes: bytes, class_name: str, confidence: float) -> dict:
    pixels = np.asarray(Image.open(io.BytesIO(image_bytes)).convert("RGB"))
    found = [
        {
            "x": (x1 + x2) / 2,
            "y": (y1 + y2) / 2,
            "width": x2 - x1,
            "height": y2 - y1,
            "confidence": 0.87,
            "class": class_name,
            "class_id": 0,
            "detection_id": str(uuid.uuid4()),
        }
        for x1, y1, x2, y2 in red_boxes(pixels)
    ]
    return {
        "predictions": [p for p in found if p["confidence"] >= confidence],
        "image": {"width": pixels.shape[1], "height": pixels.shape[0]},
        "time": 0.01,
    }


def project_json() -> dict:
    def version(n, trained):
        # The version's model as Roboflow's API reports it: metrics are percentages, as text.
        model = {
            "id": f"{PROJECT}/{n}",
            "endpoint": f"{PROJECT}/{n}",
            "start": 0,
            "end": 1,
            "map": "91.5",
            "precision": "88.25",
            "recall": "90",
        }
        return {
            "id": f"{WORKSPACE}/{PROJECT}/{n}",
            "name": PROJECT,
            "images": 10,
            "splits": {"train": 7, "valid": 2, "test": 1},
            "created": 0,
            "augmentation": {},
            "preprocessing": {},
            "exports": [],
            **({"model": model} if trained else {}),
        }

    return {
        "workspace": {"name": "Acme", "url": WORKSPACE},
        "project": {
            "id": f"{WORKSPACE}/{PROJECT}",
            "name": PROJECT,
            "type": "object-detection",
            "annotation": "faces",
            "classes": {"face": 120},
            "colors": {"face": "#FF0000"},
            "created": 1700000000,
            "updated": 1700000000,
            "images": 10,
            "public": False,
            "splits": {},
            "unannotated": 0,
            "icon": None,
        },
        "versions": [version(TRAINED_VERSION, True), version(UNTRAINED_VERSION, False)],
    }


class FakeRoboflow(ThreadingHTTPServer):
    """Serve with ``serve_forever`` on a thread. ``mode`` makes it misbehave:
    ``"hang"`` never answers predictions or uploads, ``"error"`` answers them with HTTP 500,
    ``"drip"`` sends its answer one byte every half second. ``mangle``, when set,
    rewrites each prediction before it is sent (a malformed answer).

    Uploads (``POST /dataset/{project}/upload``, multipart, as the SDK sends them) are kept in
    ``uploads``; ``refuse_uploads`` maps a file name to how many of its tries get HTTP 500."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = "ok"
        self.mangle = None
        self.requests: list[str] = []
        self.keys_seen: list[str | None] = []
        self.uploads: list[dict] = []
        self.refuse_uploads: dict[str, int] = {}
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def shutdown(self) -> None:
        self.stopping.set()
        super().shutdown()


class Handler(BaseHTTPRequestHandler):
    server: FakeRoboflow

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def reply(self, status: int, body: dict) -> None:
        if self.server.mangle and "predictions" in body:
            body = {**body, "predictions": [self.server.mangle(p) for p in body["predictions"]]}
        data = json.dumps(body).encode()  # NaN and Infinity included, as a careless server would send them
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.server.mode != "drip" or "predictions" not in body:
            self.wfile.write(data)
            return
        for byte in data:
            if self.server.stopping.wait(0.5):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def key_ok(self, key: str | None) -> bool:
        self.server.keys_seen.append(key)
        if key == KEY:
            return True
        self.reply(
            401, {"error": {"message": "This API key does not exist (or has been revoked).", "type": "OAuthException"}}
        )
        return False

    def misbehaves(self) -> bool:
        if self.server.mode == "hang":
            self.server.stopping.wait(60)
            return True
        if self.server.mode == "error":
            self.reply(500, {"error": "internal error"})
            return True
        return False

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.server.requests.append(f"GET {url.path}")
        query = parse_qs(url.query)
        if not self.key_ok(query.get("api_key", [None])[0]):
            return
        parts = [p for p in url.path.split("/") if p]
        info = project_json()
        if parts == [WORKSPACE]:
            self.reply(200, {"workspace": {**info["workspace"], "projects": [info["project"]], "members": []}})
        elif parts == [WORKSPACE, PROJECT]:
            self.reply(200, {"workspace": info["workspace"], "project": info["project"], "versions": info["versions"]})
        elif len(parts) == 2 and parts[0] == WORKSPACE:
            self.reply(
                404,
                {
                    "error": {
                        "message": f"Unsupported get request. Project {parts[1]} does not exist.",
                        "type": "GraphMethodException",
                    }
                },
            )
        else:
            self.reply(404, {"error": {"message": "Not found", "type": "GraphMethodException"}})

    def do_POST(self) -> None:
        url = urlparse(self.path)
        self.server.requests.append(f"POST {url.path}")
        query = parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        if not parts:  # the SDK's key check
            if self.key_ok(query.get("api_key", [None])[0]):
                self.reply(200, {"workspace": WORKSPACE})
        elif url.path == "/model/add":
            payload = json.loads(self.body())
            if self.key_ok(payload.get("api_key")):
                known = payload["model_id"] == f"{PROJECT}/{TRAINED_VERSION}"
                self.reply(
                    200 if known else 404,
                    {"model_id": payload["model_id"]} if known else {"message": "Model not found"},
                )
        elif parts == ["dataset", PROJECT, "upload"]:
            body = self.body()
            if self.key_ok(query.get("api_key", [None])[0]) and not self.misbehaves():
                self.upload(body, query)
        elif url.path == "/infer/object_detection":
            payload = json.loads(self.body())
            if self.key_ok(payload.get("api_key")) and not self.misbehaves():
                image = base64.b64decode(payload["image"]["value"])
                self.reply(
                    200,
                    {
                        **predictions_for(image, "plate", payload.get("confidence", 0.4)),
                        "inference_id": str(uuid.uuid4()),
                    },
                )
        elif len(parts) == 2:  # hosted predict: POST /{project}/{version}?api_key=…, base64 body
            body = self.body()
            if not self.key_ok(query.get("api_key", [None])[0]) or self.misbehaves():
                return
            if parts != [PROJECT, str(TRAINED_VERSION)]:
                self.reply(404, {"error": "Model not found"})
                return
            confidence = float(query.get("confidence", ["40"])[0]) / 100
            self.reply(200, predictions_for(base64.b64decode(unquote(body.decode())), "face", confidence))
        else:
            self.reply(404, {"error": "Not found"})

    def upload(self, body: bytes, query: dict) -> None:
        from requests_toolbelt.multipart import decoder

        fields = {}
        for part in decoder.MultipartDecoder(body, self.headers["Content-Type"]).parts:
            name = part.headers[b"Content-Disposition"].decode().split('name="')[1].split('"')[0]
            fields[name] = part.content
        file_name = fields["name"].decode()
        if self.server.refuse_uploads.get(file_name, 0) > 0:
            self.server.refuse_uploads[file_name] -= 1
            self.reply(500, {"error": {"message": "upload failed on our side"}})
            return
        self.server.uploads.append(
            {
                "name": file_name,
                "split": fields["split"].decode(),
                "batch": query.get("batch", [None])[0],
                "tags": query.get("tag", []),
                "data": fields["file"],
            }
        )
        self.reply(200, {"success": True, "id": uuid.uuid4().hex[:20]})


def start_fake_roboflow() -> FakeRoboflow:
    server = FakeRoboflow()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":  # python tests/helpers/fake_roboflow.py: a fake to point the app at by hand
    server = start_fake_roboflow()
    print(f"API_URL={server.url} OBJECT_DETECTION_URL={server.url} key {KEY}, project {PROJECT}/{TRAINED_VERSION}")
    while True:
        time.sleep(3600)
