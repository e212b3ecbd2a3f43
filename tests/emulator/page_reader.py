"""Reads the emulator page's HTML as a tree of elements, for the page's
tests: find elements by tag and class, take their text as shown."""

from html.parser import HTMLParser

VOID = {"br", "meta", "img", "hr", "input", "link"}


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.classes = set((self.attrs.get("class") or "").split())
        self.parent = parent
        self.children = []
        self.parts = []

    @property
    def text(self):
        """The text inside, whitespace runs as one space (<br> as a space)."""
        return " ".join("".join(self._pieces()).split())

    def _pieces(self):
        for part in self.parts:
            if isinstance(part, Element):
                yield " " if part.tag == "br" else ""
                yield from part._pieces()
            else:
                yield part

    def all(self, tag=None, cls=None):
        """Every element below (depth first) with that tag and/or class."""
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                found.append(child)
            found.extend(child.all(tag, cls))
        return found

    def one(self, tag=None, cls=None):
        found = self.all(tag, cls)
        assert len(found) == 1, "%d <%s class=%s> elements" % (len(found), tag, cls)
        return found[0]

    def by_id(self, identifier):
        return next(element for element in self.all() if element.attrs.get("id") == identifier)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", (), None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        self.current.parts.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        self.current.parts.append(element)

    def handle_endtag(self, tag):
        element = self.current
        while element is not self.root and element.tag != tag:
            element = element.parent
        if element is not self.root:
            self.current = element.parent

    def handle_data(self, data):
        self.current.parts.append(data)


def read(html):
    """The page's root element."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.root
