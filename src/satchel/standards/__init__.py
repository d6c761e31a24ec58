"""How satchel applies the packaging standards (PEP 440 versions and specifiers, PEP 508
requirements and markers, PEP 685 extras, digests, URLs with credentials), in one place.

Every other package may import these modules: ``install/`` and ``resolve/`` (which must agree,
or the no-op check would say "nothing to do" when a resolution would change something),
``index/``, ``build/`` and ``cache/``. So this package sits below all of them and imports
nothing from satchel but itself. Each module is imported on its own (this file imports
nothing), and none imports more than it needs at start-up: the no-op install imports some.

- :mod:`.requires_python`: Requires-Python admission;
- :mod:`.markers`: marker evaluation, with the one policy for what cannot be evaluated;
- :mod:`.extras`: extras normalized, and which dependencies an extra adds;
- :mod:`.narrow`: the narrow fast parser of Requires-Dist lines and markers (no-op check);
- :mod:`.digests`: file and data digests, and ``--hash`` matching;
- :mod:`.redact`: credentials hidden in URLs shown to people.
"""
