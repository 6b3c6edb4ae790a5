# Sphinx configuration of concert-cpp's documentation site. Build it with `bash scripts/dev docs`
# (docs/build.sh), which runs Doxygen first and passes its XML folder and the project's version
# through the environment.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import performance_charts  # noqa: E402  (the folder above is on the path only now)

project = "concert-cpp"
author = "concert-cpp developers"
copyright = "concert-cpp developers, MIT licence"
release = os.environ.get("CONCERT_VERSION", "")
version = release

extensions = ["breathe", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated/*.json", "README.md"]
# Headings down to ### get anchors, so pages may link to each other's sections.
myst_heading_anchors = 3

html_theme = "sphinx_rtd_theme"
html_title = f"concert-cpp {release}"

breathe_projects = {"concert": os.environ.get("CONCERT_DOXYGEN_XML", "")}
breathe_default_project = "concert"
breathe_default_members = ("members",)
# The API page says which header has what; Breathe's per-class #include lines would link to file
# pages the site does not have.
breathe_show_include = False
primary_domain = "cpp"
highlight_language = "cpp"

# Nitpicky builds resolve every name in a signature; these have no entry on purpose:
# concert::detail is the implementation, Breathe 4.34 does not render C++20 concepts, and Tango's
# types (in the Tango bridge's signatures) are documented by Tango.
nitpick_ignore_regex = [
    ("cpp:identifier", r"(concert::)?detail(::.*)?"),
    ("cpp:identifier", r"Tango(::.*)?"),
    ("cpp:identifier", r"(concert::)?(any_future|consumer_of)"),
]


def _draw_charts(app):
    here = os.path.dirname(os.path.abspath(__file__))
    performance_charts.draw(os.path.join(here, "performance.json"), os.path.join(here, "_generated"))


def setup(app):
    app.connect("builder-inited", _draw_charts)
