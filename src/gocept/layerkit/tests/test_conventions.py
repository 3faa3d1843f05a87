"""Conventions of the distribution: releasable by zest.releaser, no
pkg_resources."""
import ast
import pathlib
import re
import unittest


ROOT = pathlib.Path(__file__).resolve().parents[4]


class ConventionsTest(unittest.TestCase):

    def test_version_and_changes_are_ready_for_fullrelease(self):
        """zest.releaser's `fullrelease` expects a `.devN` version in
        setup.py and CHANGES.rst opening with `X.Y (unreleased)`."""
        setup = (ROOT / 'setup.py').read_text(encoding='utf-8')
        version = re.search(r"\bversion='([^']+)'", setup).group(1)
        self.assertRegex(version, r'^\d+(\.\d+)+\.dev\d+$')
        changes = (ROOT / 'CHANGES.rst').read_text(encoding='utf-8')
        headings = re.findall(r'^(\S.*)\n-{3,}$|^(\S.*)\n={3,}$', changes,
                              re.M)
        first = next(h for pair in headings for h in pair
                     if h and h[0].isdigit())
        self.assertEqual(f'{version.rsplit(".dev", 1)[0]} (unreleased)',
                         first)

    def test_our_code_does_not_use_pkg_resources(self):
        users = []
        for directory in ('src', 'bench', 'examples'):
            for path in sorted((ROOT / directory).rglob('*.py')):
                tree = ast.parse(path.read_text(encoding='utf-8'))
                for node in ast.walk(tree):
                    names = (
                        [alias.name for alias in node.names]
                        if isinstance(node, ast.Import) else
                        [node.module or ''] if isinstance(
                            node, ast.ImportFrom) else [])
                    if any(name.split('.')[0] == 'pkg_resources'
                           for name in names):
                        users.append(f'{path.relative_to(ROOT)}:{node.lineno}')
        self.assertEqual([], users)

    def test_every_benchmark_has_check_for_tox(self):
        """tox's bench env runs each with --check, which exits 1 on a
        missed target."""
        tox = (ROOT / 'tox.ini').read_text(encoding='utf-8')
        for path in sorted((ROOT / 'bench').glob('*.py')):
            with self.subTest(path.name):
                self.assertIn("add_argument('--check'", path.read_text(
                    encoding='utf-8'))
                self.assertIn(f'python bench/{path.name} --check', tox)
