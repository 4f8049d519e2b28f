"""roster for Python: the generated uniffi bindings of roster-ffi.

Everything is importable from here: ``Institute``, ``Admin``,
``HttpResponse``, the pages (``UserPage``, ...) and ``RosterError`` (module
``roster_ffi._native.roster_ffi``), and the core's records and enums
(``Config``, ``ImportOptions``, ``NewUser``, ``ProfileInput``,
``BatchInput``, ``UserView``, ...; module ``roster_ffi._native.roster``,
also reachable as ``roster_ffi.roster``).
"""

from ._native import *  # noqa: F401,F403
from ._native import roster as roster  # the records' module, by name
