"""What the pages say about the model: the one that runs, or why none can, and the way back to the local models."""

from __future__ import annotations

import streamlit as st

from anonymize.detectors import describe
from ui.sidebar import SidebarChoice

API_KEY_PAGE = "https://app.roboflow.com/settings/api"
IDS_PAGE = "https://docs.roboflow.com/api-reference/workspace-and-project-ids"
#: Where each missing setting is given in the sidebar, and where Roboflow shows it.
WHERE = {
    "API key": f"type it under **API key** in the sidebar (your key is at [app.roboflow.com/settings/api]({API_KEY_PAGE}))",
    "project": f"type its ID under **Project**, and its **Version** (both are on the project's Models page: [how to find them]({IDS_PAGE}))",
}


def _use_local_models() -> None:
    st.session_state["source"] = "local"


def _use_the_cpu() -> None:
    st.session_state["device"] = "cpu"


def show_unusable(choice: SidebarChoice) -> None:
    """Say once why the chosen model cannot run, how to fix it, and offer the local models instead."""
    connection = choice.connection
    if connection.missing:
        steps = "\n".join(f"- **{name}**: {WHERE[name]}" for name in connection.missing)
        st.warning(f"{connection.error}\n\n{steps}")
    else:
        st.error(f"The selected model cannot be used: {connection.error}")
    if choice.backend.kind == "local":  # the local models fail only where their device is missing
        st.button("Run them on the CPU instead", on_click=_use_the_cpu, type="primary")
    else:
        st.button("Use the local models instead (offline, no account)", on_click=_use_local_models, type="primary")


def show_active(choice: SidebarChoice) -> None:
    """The model that runs, and what its backend reports about it."""
    detector = choice.connection.detector
    st.info(f"**Active detector:** {describe(choice.backend)}")
    details = detector.info().details
    if details:
        st.markdown("**What Roboflow reports about this model**")
        st.dataframe([{"": name, "value": value} for name, value in details.items()], hide_index=True, width="content")
