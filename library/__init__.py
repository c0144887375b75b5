"""The domain core of ibc-kiosk: records, copies, readers, loans, rules, search, MARC, storage.

Never imports kivy, cv2, vlc or zeroconf (tests/test_layering.py checks it).
"""

__version__ = "0.1.0"
