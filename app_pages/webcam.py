import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from ui.live import (
    CAMERA_SIZE,
    DELAYED_BY_DEFAULT,
    DELAYED_HELP,
    frame_callback,
    live_anonymizer,
    preset_note,
    rtc_configuration,
    show_live_stats,
)
from ui.page_setup import ready_choice
from ui.views import text_cost_note

st.title("Webcam")
choice = ready_choice()
st.write(
    "Press **Start** and allow the camera. Every frame is censored with the sidebar's settings before it is "
    "shown; until the first detection, or if detection fails or falls behind, the whole picture is hidden."
)
delayed = st.toggle(
    "Delayed: each frame waits for its own detection", value=DELAYED_BY_DEFAULT, key="webcam_delayed", help=DELAYED_HELP
)
live = live_anonymizer(choice, delayed)
stream, figures = st.columns([3, 2], gap="large")
with stream:
    width, height = CAMERA_SIZE
    webrtc_streamer(
        key="webcam",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration=rtc_configuration(),
        video_frame_callback=frame_callback(live),
        media_stream_constraints={"video": {"width": width, "height": height}, "audio": False},
        async_processing=True,
    )
    for note in (preset_note(choice), text_cost_note(choice)):
        if note:
            st.caption(note)
with figures:
    show_live_stats(live)
