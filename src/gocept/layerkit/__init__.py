"""The checks of the gocept.layerkit distribution itself.

Its tests run the code blocks of README.rst and the packages' .rst files,
compare the pins of versions.cfg and constraints.txt, and check that a
missing extra is named; they need a checkout (README.rst, versions.cfg).
No public API.
"""
