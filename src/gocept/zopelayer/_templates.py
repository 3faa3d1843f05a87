"""Compile each page template source once per process, not once per test.

A persistent page template (Zope's own root `index_html`, every
ZopePageTemplate a project adds) keeps its compiled program in a volatile
attribute, so each test's fresh database connection compiles it again:
about a tenth of a second for the root's, paid by the first ZMI request of
every test.  Chameleon looks compiled programs up in its loader by a name
made of the digest of source, template class and Chameleon version (what
`CHAMELEON_CACHE` stores on disk); this loader keeps them in memory.
"""

_cooked = {}  # Chameleon's module name (digest) -> compiled program


class CachingLoader:
    """Chameleon loader remembering what `loader` built, by digest name."""

    def __init__(self, loader):
        self.loader = loader

    def get(self, filename):
        cooked = _cooked.get(filename)
        if cooked is None:
            cooked = self.loader.get(filename)
        return cooked

    def build(self, source, filename):
        cooked = _cooked[filename] = self.loader.build(source, filename)
        return cooked


def install():
    """Let Chameleon's templates use the cache; return the undo function."""
    import chameleon.template
    previous = chameleon.template.BaseTemplate.loader
    chameleon.template.BaseTemplate.loader = CachingLoader(previous)

    def uninstall():
        chameleon.template.BaseTemplate.loader = previous

    return uninstall
