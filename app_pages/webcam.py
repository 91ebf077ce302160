import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from ui.live import live_anonymizer, rtc_configuration, show_live_stats
from ui.page_setup import ready_choice

choice = ready_choice()
st.title("Webcam")
st.write(
    "Press **Start** and allow the camera. Every frame is censored with the sidebar's settings before it is "
    "shown; until the first detection, or if detection fails or falls behind, the whole picture is hidden."
)
live = live_anonymizer(choice)
webrtc_streamer(
    key="webcam",
    mode=WebRtcMode.SENDRECV,
    rtc_configuration=rtc_configuration(),
    video_frame_callback=live.frame_callback(),
    media_stream_constraints={"video": {"width": 640, "height": 480}, "audio": False},
    async_processing=True,
)
show_live_stats(live)
