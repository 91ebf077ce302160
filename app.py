import streamlit as st

st.title("Anonymize")
st.write("The app is being built; use `python -m anonymize` meanwhile.")
