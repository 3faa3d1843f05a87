"""Merge RRD files: fill a new RRD's unknown rows from an old one's."""

from gocept.rrdmerge.errors import Error
from gocept.rrdmerge.errors import InputNotFound
from gocept.rrdmerge.errors import NotAnRRD
from gocept.rrdmerge.errors import OtherArchitecture
from gocept.rrdmerge.errors import RRDToolFailed
from gocept.rrdmerge.errors import RRDToolNotFound
from gocept.rrdmerge.errors import TargetBusy
from gocept.rrdmerge.errors import UnsupportedLayout
from gocept.rrdmerge.errors import UsageError
from gocept.rrdmerge.filemerge import merge
from gocept.rrdmerge.report import ArchiveReport
from gocept.rrdmerge.report import FileResult
from gocept.rrdmerge.report import MergeReport
from gocept.rrdmerge.report import SourceReport
from gocept.rrdmerge.report import TreeReport
from gocept.rrdmerge.tree import merge_tree


__all__ = [
    'ArchiveReport',
    'Error',
    'FileResult',
    'InputNotFound',
    'MergeReport',
    'NotAnRRD',
    'OtherArchitecture',
    'RRDToolFailed',
    'RRDToolNotFound',
    'SourceReport',
    'TargetBusy',
    'TreeReport',
    'UnsupportedLayout',
    'UsageError',
    'merge',
    'merge_tree',
]
