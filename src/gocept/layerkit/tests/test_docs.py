"""Run the Python code blocks of README.rst and the packages' .rst files.

Every ``.. code-block:: python`` block runs, and so does every
``.. invisible-code-block: python`` block (manuel's spelling; reST shows
it as a comment, so it can set up what a snippet takes for granted, like
a ``db``). Each section (a title underlined with ``=``) is one unit; its
blocks run in order in one namespace, so a new section is picked up
without touching this file:

- A section whose blocks define `unittest.TestCase` classes is an example
  test module: its blocks run when the tests are collected, as a module
  named ``gocept.layerkit.docs.<document>.<section>``, and its test
  classes run like any other test, under their layers (``bin/test
  --layer`` and ``-j2`` included). So defining layers and tests must stay
  cheap; what the tests do happens when they run.
- Any other section runs as one test, in a temp dir as the working
  directory (files it writes are removed afterwards).

A literal block (``::``) holding Python that defines or imports something
fails a test: mark it ``.. code-block:: python`` so it runs.
"""
import ast
import os
import pathlib
import re
import shutil
import tempfile
import textwrap
import types
import unittest


ROOT = pathlib.Path(__file__).resolve().parents[4]
CODE = re.compile(
    r'(?P<indent> *)\.\. (?:(?:code-block|code|sourcecode)::'
    r'|invisible-code-block:) python *$')
LITERAL = re.compile(r'(?:^|[^:]):: *$')
TITLE_UNDERLINE = re.compile(r'={3,} *$')


def documents():
    """The documents whose code blocks run, relative to ROOT."""
    found = [ROOT / 'README.rst']
    found.extend(sorted((ROOT / 'src' / 'gocept').glob('*/**/*.rst')))
    return [path for path in found if path.exists()]


def indented_block(lines, start, indent):
    """The block of `lines` from `start` indented deeper than `indent`.

    Return (first line number, dedented text, end index); reST options
    (``:name: ...``) right after the directive are skipped.
    """
    i = start
    while i < len(lines) and lines[i].strip().startswith(':'):
        i += 1
    body = []
    while i < len(lines):
        line = lines[i]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
        i += 1
    first = i - len(body)
    while body and not body[0].strip():
        body.pop(0)
        first += 1
    return first + 1, textwrap.dedent('\n'.join(body)), i


class Section:
    """A titled section of a document and its Python code blocks."""

    def __init__(self, path, title, line):
        self.path = path
        self.title = title
        self.line = line
        self.blocks = []  # (line number, code)

    @property
    def name(self):
        return f'{self.path.relative_to(ROOT)}:{self.line} {self.title}'

    @property
    def module_name(self):
        slug = re.sub(r'\W+', '_', f'{self.path.stem}_{self.title}')
        return 'gocept.layerkit.docs.' + slug.strip('_').lower()

    def compiled(self):
        """The blocks compiled with their line numbers in the document, so
        tracebacks point into it."""
        for line, code in self.blocks:
            yield compile('\n' * (line - 1) + code, str(self.path), 'exec')

    def defines_tests(self):
        for line, code in self.blocks:
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.ClassDef) and any(
                        ast.unparse(base).endswith('TestCase')
                        for base in node.bases):
                    return True
        return False


def sections(path):
    """The sections of the document at `path`, with their code blocks."""
    lines = path.read_text(encoding='utf-8').splitlines()
    found = [Section(path, path.name, 1)]
    i = 0
    while i < len(lines):
        line = lines[i]
        if (i + 1 < len(lines) and line.strip()
                and TITLE_UNDERLINE.match(lines[i + 1])
                and not TITLE_UNDERLINE.match(line)):
            found.append(Section(path, line.strip(), i + 1))
        match = CODE.match(line)
        if match:
            first, code, i = indented_block(
                lines, i + 1, len(match.group('indent')))
            found[-1].blocks.append((first, code))
            continue
        i += 1
    return [section for section in found if section.blocks]


# Sections whose Python is shown in `::` blocks that do not run yet, with
# the reason. Make them run and remove them here.
NOT_RUN_YET = {
    'gocept.zopelayer: a Zope application as a layer':
        'its recipe needs a Zope product `shop`',
}


def literal_python(path):
    """Line numbers of `::` literal blocks that hold Python definitions."""
    lines = path.read_text(encoding='utf-8').splitlines()
    title = None
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and TITLE_UNDERLINE.match(lines[i + 1]):
            title = line.strip()
        if (not LITERAL.search(line) or CODE.match(line)
                or title in NOT_RUN_YET):
            continue
        indent = len(line) - len(line.lstrip())
        first, code, end = indented_block(lines, i + 1, indent)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        if any(isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef,
                                 ast.FunctionDef))
               for node in tree.body):
            yield first


class SectionTest(unittest.TestCase):
    """Run a section's code blocks in a fresh namespace in a temp dir."""

    def __init__(self, section):
        super().__init__()
        self.section = section

    def id(self):
        return self.section.name

    __str__ = id

    def setUp(self):
        self.cwd = os.getcwd()
        self.tempdir = tempfile.mkdtemp(prefix='gocept.layerkit.docs.')
        os.chdir(self.tempdir)

    def tearDown(self):
        os.chdir(self.cwd)
        shutil.rmtree(self.tempdir)

    def runTest(self):
        namespace = {'__name__': self.section.module_name}
        for code in self.section.compiled():
            exec(code, namespace)


class CollectionError(unittest.TestCase):
    """A section that defines tests failed when they were collected."""

    def __init__(self, section, error):
        super().__init__()
        self.section = section
        self.error = error

    def id(self):
        return self.section.name

    __str__ = id

    def runTest(self):
        raise self.error


def section_tests(section):
    """The tests of one section (see the module docstring)."""
    if not section.defines_tests():
        return [SectionTest(section)]
    module = types.ModuleType(section.module_name)
    module.__file__ = str(section.path)
    try:
        for code in section.compiled():
            exec(code, module.__dict__)
    except Exception as e:
        return [CollectionError(section, e)]
    loader = unittest.defaultTestLoader
    return [loader.loadTestsFromTestCase(value)
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, unittest.TestCase)
            and value.__module__ == module.__name__]


class DocumentsTest(unittest.TestCase):

    def test_readme_and_package_documents_are_found(self):
        names = {path.name for path in documents()}
        self.assertIn('README.rst', names)
        self.assertGreater(len(names), 3)

    def test_readme_shows_the_consumer_buildout_ci_builds(self):
        config = (ROOT / 'examples' / 'consumer' / 'buildout.cfg').read_text()
        shown = textwrap.indent(config, '    ', lambda line: line.strip())
        self.assertIn('.. code-block:: ini\n\n' + shown,
                      (ROOT / 'README.rst').read_text())

    def test_python_in_literal_blocks_is_marked_as_code(self):
        unmarked = [f'{path.relative_to(ROOT)}:{line}'
                    for path in documents() for line in literal_python(path)]
        self.assertEqual(
            [], unmarked,
            'Python in a `::` block never runs: make it'
            ' `.. code-block:: python`')


def test_suite():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(DocumentsTest)
    for path in documents():
        for section in sections(path):
            suite.addTests(section_tests(section))
    return suite
