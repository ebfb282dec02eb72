"""Chœur's own EN 16931 engine: the norm's business rules implemented in Python over one lxml parse.

Pure library (no Django import). Each syntax module (`ubl`, `cii`) exposes the same interface, defined in
`types.py`: `RULE_SET` (what judges), `validate(root) -> list[NativeFinding]`. Rule ids, conditions, flags
and code lists are facts of the norm (CEN EN 16931-1 and its validation artefacts, release 1.3.16);
the code and the French messages are ours. Proven identical to the official artefacts by the differential
suite (tests/flows/native/).
"""
