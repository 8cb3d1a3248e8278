"""Vietnamese text: one normalisation and folding (`text`) and the
dictionary-backed word segmenter (`segmenter`). Imports nothing from Rasa."""
