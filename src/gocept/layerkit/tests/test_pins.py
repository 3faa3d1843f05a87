"""versions.cfg (buildout) and constraints.txt (pip) hold the same pins."""
import configparser
import importlib.metadata
import pathlib
import re
import unittest


ROOT = pathlib.Path(__file__).resolve().parents[4]


def normalized(name):
    """The name as PEP 503 compares them (`Foo_bar` is `foo-bar`)."""
    return re.sub(r'[-_.]+', '-', name).lower()


def buildout_pins():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep the names as written
    parser.read(ROOT / 'versions.cfg', encoding='utf-8')
    return list(parser['versions'].items())


def pip_pins():
    pins = []
    with open(ROOT / 'constraints.txt', encoding='utf-8') as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                name, sep, version = line.partition('==')
                assert sep, f'constraints.txt: {line!r} is no name==version'
                pins.append((name.strip(), version.strip()))
    return pins


class PinsTest(unittest.TestCase):

    def test_versions_cfg_and_constraints_txt_pin_the_same(self):
        self.assertEqual(
            {normalized(name): version for name, version in buildout_pins()},
            {normalized(name): version for name, version in pip_pins()})

    def test_both_files_are_sorted_without_duplicates(self):
        for path, pins in [('versions.cfg', buildout_pins()),
                           ('constraints.txt', pip_pins())]:
            names = [name.lower() for name, version in pins]
            with self.subTest(path):
                self.assertEqual(sorted(set(names)), names)

    def test_every_requirement_is_pinned(self):
        pinned = {normalized(name) for name, version in pip_pins()}
        required = {
            normalized(re.match(r'[\w.-]+', requirement).group())
            for requirement in importlib.metadata.requires(
                'gocept.layerkit')}
        self.assertEqual(set(), required - pinned)
        self.assertNotIn('gocept-layerkit', pinned)
