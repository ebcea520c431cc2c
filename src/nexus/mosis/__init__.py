"""The MOSIS layer: DESE's layouts as data, named derivations from canonical data, extract runs.

Modules: `layouts` (the shipped and imported layouts, code sets and business rules, and
`spec import` of DESE's FileSpec pages), `cycles` (count dates and windows), `derivations`
(one named function per field), `extract` (extract runs and their artifacts).
"""
