"""One command per paper figure: `python -m reproduce <figure> [--quick] [--out DIR] [--data-dir DIR]`."""
