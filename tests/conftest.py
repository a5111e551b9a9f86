import logging
import os
import sys

# Run from a checkout without installing: the top-level packages live at the repo root.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Beam worker processes log every channel they open; keep test output readable.
logging.getLogger("apache_beam").setLevel(logging.WARNING)
