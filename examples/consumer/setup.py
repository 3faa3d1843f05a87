"""consumer: the smallest project that tests with gocept.layerkit."""
from setuptools import find_packages
from setuptools import setup


setup(
    name='consumer',
    version='1.0.dev0',
    packages=find_packages('src'),
    package_dir={'': 'src'},
    include_package_data=True,
    install_requires=['gocept.layerkit', 'zope.component'],
    extras_require={'test': ['gocept.layerkit[wsgi]', 'zope.testrunner']},
)
