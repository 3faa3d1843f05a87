"""Without an extra, our code names the extra, never a bare module.

Each check runs in a subprocess whose `sys.modules` blocks the modules an
extra installs (a None entry makes their import fail with
ModuleNotFoundError, as on a machine without them).
"""
import importlib.metadata
import os
import pathlib
import subprocess
import sys
import textwrap
import unittest


# The modules each optional extra installs (not `test` and `bench`, which
# include them all).
OPTIONAL = {
    'wsgi': ['webtest', 'wsgi_intercept', 'zope.testbrowser'],
    'zeo': ['ZEO'],
    'relstorage': ['relstorage', 'psycopg2'],
    'web': ['chameleon', 'pyramid', 'pyramid_chameleon', 'waitress'],
    'zope': ['App', 'OFS', 'ZPublisher', 'Zope2'],
}
ALL_OPTIONAL = sorted(name for names in OPTIONAL.values() for name in names)


def python(code, blocked):
    """Run `code` with the modules `blocked`; return the CompletedProcess."""
    prologue = (
        'import sys\n'
        f'for name in {blocked!r}:\n'
        '    sys.modules[name] = None\n')
    return subprocess.run(
        [sys.executable, '-c', prologue + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))


class ExtrasTest(unittest.TestCase):

    def test_every_optional_extra_is_checked_here(self):
        extras = set(importlib.metadata.metadata(
            'gocept.layerkit').get_all('Provides-Extra'))
        self.assertEqual(set(OPTIONAL), extras - {'test', 'bench'})

    def test_wsgilayer_without_wsgi_names_the_extra(self):
        for name in OPTIONAL['wsgi']:
            with self.subTest(missing=name):
                result = python('''
                    try:
                        import gocept.wsgilayer
                    except ImportError as e:
                        print(type(e.__cause__).__name__, e.__cause__.name)
                        raise SystemExit(str(e))
                    ''', [name])
                self.assertEqual(
                    'gocept.wsgilayer needs the extra "wsgi": pip install'
                    ' "gocept.layerkit[wsgi]"\n', result.stderr)
                self.assertEqual(f'ModuleNotFoundError {name}\n',
                                 result.stdout)

    def test_every_module_imports_or_names_its_extra_without_extras(self):
        """Every module of ours (tests aside) imports without the optional
        extras, or raises an ImportError that names the extra."""
        src = pathlib.Path(__file__).resolve().parents[3]
        paths = [path.relative_to(src).with_suffix('')
                 for path in (src / 'gocept').rglob('*.py')]
        names = sorted(
            '.'.join(path.parts).removesuffix('.__init__') for path in paths
            if 'tests' not in path.parts and 'layerkit' not in path.parts)
        result = python(f'''
            import importlib
            import re
            bad = []
            names = {names!r}
            for name in names:
                try:
                    importlib.import_module(name)
                except ImportError as e:
                    if not re.search('needs the extra "[a-z]+"', str(e)):
                        bad.append(f'{{name}}: {{e!r}}')
            print('\\n'.join(bad) or 'ok', len(names))
            ''', ALL_OPTIONAL)
        self.assertEqual('', result.stderr)
        status, count = result.stdout.rsplit(None, 1)
        self.assertEqual('ok', status)
        self.assertGreater(int(count), 20)

    def test_zodblayer_imports_without_zeo_and_relstorage(self):
        result = python('''
            import gocept.zodblayer
            print(gocept.zodblayer.ZEOLayer.__name__)
            ''', OPTIONAL['zeo'] + OPTIONAL['relstorage'])
        self.assertEqual(('ZEOLayer\n', ''), (result.stdout, result.stderr))

    def test_zeo_layer_without_zeo_names_the_extra_and_cleans_up(self):
        result = python('''
            import os
            import gocept.zodblayer
            layer = gocept.zodblayer.ZEOLayer(name='NoZEO', module='x')
            try:
                layer.setUp()
            except ImportError as e:
                assert layer.tempdir is None or not os.path.exists(
                    layer.tempdir), layer.tempdir
                raise
            ''', OPTIONAL['zeo'])
        self.assertFailsNamingExtra(result, 'zeo', 'gocept.zodblayer')

    def test_postgresql_layer_without_psycopg2_names_relstorage(self):
        result = python('''
            import gocept.zodblayer
            gocept.zodblayer.PostgreSQLLayer(name='NoPG', module='x').setUp()
            ''', ['psycopg2'])
        self.assertFailsNamingExtra(result, 'relstorage', 'gocept.zodblayer')

    def test_relstorage_layer_without_relstorage_names_the_extra(self):
        result = python('''
            import gocept.zodblayer
            gocept.zodblayer.RelStorageLayer(name='NoRS', module='x').setUp()
            ''', ['relstorage'])
        self.assertFailsNamingExtra(result, 'relstorage', 'gocept.zodblayer')

    def test_zodb_undo_zeo_without_zeo_names_the_extra(self):
        result = python('''
            import gocept.zodbundo.cli
            sys.exit(gocept.zodbundo.cli.main(
                ['--zeo', '127.0.0.1:9', 'log']))
            ''', OPTIONAL['zeo'])
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertIn(
            '--zeo needs the extra "zeo": pip install "gocept.layerkit[zeo]"',
            result.stderr)
        self.assertNotIn('Traceback', result.stderr)

    def assertFailsNamingExtra(self, result, extra, package):
        """The process failed with our ImportError, chained."""
        self.assertNotEqual(0, result.returncode)
        last = result.stderr.strip().splitlines()[-1]
        self.assertEqual(
            f'ImportError: {package} needs the extra "{extra}" for this'
            f' layer: pip install "gocept.layerkit[{extra}]"', last)
        self.assertIn('ModuleNotFoundError', result.stderr)
