"""Sending a batch's anonymized pictures to a Roboflow project, from the Batch page."""

from __future__ import annotations

import streamlit as st

from anonymize.batch import BatchResult, Failure
from anonymize.errors import AnonymizeError
from anonymize.upload import DEFAULT_TAG, SPLITS, RoboflowUploader, UploadTarget, upload_all
from ui.connection import key_for
from ui.sidebar import SidebarChoice
from ui.views import show_problems

#: The tag each uploaded picture gets unless the form says otherwise: where it came from.


def upload_form(done: BatchResult, choice: SidebarChoice, disabled: bool) -> BatchResult:
    """The form, and ``done`` with its manifest saying how the uploads went once they are made."""
    state = st.session_state
    sent = {e.output: e.upload for e in done.manifest.entries if e.upload}
    with st.expander("Upload the anonymized pictures to a Roboflow project", expanded=bool(sent)):
        default = (
            f"{choice.backend.workspace}/{choice.backend.project}"
            if choice.backend.workspace and choice.backend.project
            else ""
        )
        target_text = st.text_input(
            "Workspace/project",
            value=default,
            key="upload_target",
            placeholder="acme/street-scenes",
            help="As in the project's address on app.roboflow.com. Only the anonymized pictures are sent, never the originals.",
        )
        split = st.segmented_control("Split", SPLITS, default="train", key="upload_split")
        batch_name = st.text_input("Batch name (optional)", key="upload_batch")
        tags = st.text_input("Tags, comma-separated", value=DEFAULT_TAG, key="upload_tags")
        typed = st.text_input(
            "API key",
            type="password",
            key="upload_key",
            help="Held in this session only; never shown or saved. "
            "Empty: the key typed in the sidebar, else the server's own (secrets or ROBOFLOW_API_KEY).",
        )
        workspace, _, project = target_text.strip().partition("/")
        key, note = key_for("roboflow", "", typed or state.get("api_key", ""), workspace, project)
        if note:
            st.caption(note)
        if st.button(
            f"Upload {len(done.pictures)} picture(s)",
            disabled=disabled or not target_text or not done.pictures,
            key="upload_go",
        ):
            try:
                target = UploadTarget.parse(target_text)
                uploader = RoboflowUploader(
                    key,
                    target,
                    split=split or "train",
                    batch_name=batch_name.strip() or None,
                    tags=[t.strip() for t in tags.split(",") if t.strip()],
                    timeout=choice.backend.timeout,
                )
            except (AnonymizeError, ValueError) as error:
                st.error(str(error))
            else:
                bar = st.progress(0.0, text="Uploading…")
                outcome = upload_all(
                    uploader,
                    done.anonymized(),
                    on_progress=lambda n, total, name: bar.progress(n / total, text=f"{n} of {total}: {name}"),
                )
                bar.empty()
                done = done.with_uploads(outcome, uploader.destination)
                sent = outcome
        if sent:
            failed = [Failure(name, o["reason"]) for name, o in sent.items() if o["status"] == "failed"]
            st.success(
                f"{len(sent) - len(failed)} of {len(sent)} picture(s) uploaded to {done.manifest.upload['to']}; the zip's manifest says which."
            )
            show_problems(failed, f"{len(failed)} picture(s) were not uploaded:", st.error)
    return done
