"""Blocks of a markdown doc that a script derives from committed data: the
text between <!-- TAG:NAME --> and <!-- /TAG --> (tools/theory/derive.py
writes TAG = fact, tools/sgd/derive.py TAG = sgd; the tests under
tests/integration check that each block equals what its script computes)."""
import re
import sys


def _pattern(tag):
    return re.compile(r"<!-- %s:(\w+) -->\n((?:(?!<!-- /?%s).)*?)\n<!-- /%s -->" % (tag, tag, tag), re.S)


def render(tag, name, body):
    """One block as it stands in the doc."""
    return "<!-- %s:%s -->\n%s\n<!-- /%s -->" % (tag, name, body, tag)


def read(text, tag):
    """{name: body} of the TAG blocks of a markdown text."""
    return {m.group(1): m.group(2) for m in _pattern(tag).finditer(text)}


def update(path, blocks, tag):
    """Replace every TAG block of the markdown file at path by blocks[name];
    exits naming the blocks the doc has and blocks lacks."""
    text = open(path).read()
    missing = set(read(text, tag)) - set(blocks)
    if missing:
        sys.exit("derive: %s: unknown %s blocks %s" % (path, tag, ", ".join(sorted(missing))))
    text = _pattern(tag).sub(lambda m: render(tag, m.group(1), blocks[m.group(1)]), text)
    open(path, "w").write(text)
