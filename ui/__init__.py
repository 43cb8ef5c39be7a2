"""The browser chat (Streamlit): `streamlit run ui/app.py`."""
