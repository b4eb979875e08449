"""The e2e suite's names (the stack fixtures themselves are the plugin ``tests.stack_fixtures``)."""

from tests.stack_fixtures import *  # noqa: F403
from tests.stack_fixtures import __all__  # noqa: F401
