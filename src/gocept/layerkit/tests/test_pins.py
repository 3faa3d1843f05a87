"""versions.cfg (buildout) and constraints.txt (pip) hold the same pins.

Python 3.10 gets older versions of a few packages: versions.cfg's
``[versions:python310]`` (a buildout conditional section) and the
constraints.txt lines marked ``python_version < "3.11"``; the pins they
replace are marked ``python_version >= "3.11"`` there.
"""
import configparser
import importlib.metadata
import pathlib
import re
import unittest


ROOT = pathlib.Path(__file__).resolve().parents[4]


def normalized(name):
    """The name as PEP 503 compares them (`Foo_bar` is `foo-bar`)."""
    return re.sub(r'[-_.]+', '-', name).lower()


OLD_PYTHON = 'python_version < "3.11"'
NEW_PYTHON = 'python_version >= "3.11"'


def buildout_pins(section='versions'):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep the names as written
    parser.read(ROOT / 'versions.cfg', encoding='utf-8')
    return list(parser[section].items())


def pip_pins(python=None):
    """The pins of constraints.txt; `python=OLD_PYTHON`: those for 3.10."""
    pins = []
    with open(ROOT / 'constraints.txt', encoding='utf-8') as f:
        for line in f:
            line, _, marker = line.split('#')[0].partition(';')
            line, marker = line.strip(), marker.strip()
            if not line:
                continue
            name, sep, version = line.partition('==')
            assert sep, f'constraints.txt: {line!r} is no name==version'
            assert marker in ('', OLD_PYTHON, NEW_PYTHON), marker
            if (marker == OLD_PYTHON) == (python == OLD_PYTHON):
                pins.append((name.strip(), version.strip()))
    return pins


class PinsTest(unittest.TestCase):

    def test_versions_cfg_and_constraints_txt_pin_the_same(self):
        self.assertEqual(
            {normalized(name): version for name, version in buildout_pins()},
            {normalized(name): version for name, version in pip_pins()})

    def test_the_python_3_10_pins_are_the_same_too(self):
        self.assertEqual(
            {normalized(name): version
             for name, version in buildout_pins('versions:python310')},
            {normalized(name): version
             for name, version in pip_pins(OLD_PYTHON)})

    def test_both_files_are_sorted_without_duplicates(self):
        for path, pins in [
                ('versions.cfg', buildout_pins()),
                ('versions.cfg python310', buildout_pins('versions:python310')),
                ('constraints.txt', pip_pins()),
                ('constraints.txt python 3.10', pip_pins(OLD_PYTHON))]:
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
