from setuptools import find_namespace_packages
from setuptools import setup


def read(name):
    with open(name, encoding='utf-8') as f:
        return f.read()


WSGI = [
    'WebTest',
    'wsgi_intercept',
    'zope.testbrowser',
]
ZEO = [
    'ZEO',
]
WEB = [
    'Chameleon',
    'pyramid',
    'pyramid_chameleon',
    'waitress',
]
RELSTORAGE = [
    'RelStorage',
    'psycopg2-binary',
]
ZOPE = WSGI + [
    'Zope',
]
TEST = WSGI + ZEO + RELSTORAGE + WEB + ZOPE + [
    'hypothesis',
    'pytest',
    'pytest-xdist',
    'requests',
    'selenium',
    'z3c.form',
    'zope.pytestlayer',
    'zope.testrunner',
]
BENCH = TEST + [
    'gocept.httpserverlayer',
    'h11',
    'plone.testing[zope]',
    'pytest-httpserver',
    'zodbbrowser',
]

setup(
    name='gocept.layerkit',
    version='1.0.dev0',
    description=(
        'zope.testrunner layers for fake HTTP servers, WSGI apps and the'
        ' ZODB, plus ZODB undo, interface-declared sources and RRD merging'),
    long_description=read('README.rst') + '\n\n' + read('CHANGES.rst'),
    long_description_content_type='text/x-rst',
    author='gocept gmbh & co. kg',
    author_email='mail@gocept.com',
    url='https://github.com/gocept/gocept.layerkit',
    license='ZPL-2.1',
    classifiers=[
        'Development Status :: 4 - Beta',
        'Framework :: Zope',
        'Framework :: Pyramid',
        'Framework :: ZODB',
        'Intended Audience :: Developers',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3 :: Only',
        'Programming Language :: Python :: 3.10',
        'Programming Language :: Python :: 3.11',
        'Programming Language :: Python :: 3.12',
        'Programming Language :: Python :: 3.13',
        'Topic :: Software Development :: Testing',
    ],
    python_requires='>=3.10',
    packages=find_namespace_packages('src', include=['gocept.*']),
    package_dir={'': 'src'},
    include_package_data=True,
    zip_safe=False,
    install_requires=[
        'BTrees',
        'persistent',
        'plone.testing',
        'transaction',
        'trustme',
        'ZODB',
        'zc.sourcefactory',
        'zodburi',
        'zope.component',
        'zope.configuration',
        'zope.interface',
        'zope.schema',
    ],
    extras_require={
        'wsgi': WSGI,
        'zeo': ZEO,
        'relstorage': RELSTORAGE,
        'web': WEB,
        'zope': ZOPE,
        'test': TEST,
        'bench': BENCH,
    },
    entry_points={
        'console_scripts': [
            'zodb-undo = gocept.zodbundo.cli:main',
            'rrdmerge = gocept.rrdmerge.cli:main',
        ],
    },
)
