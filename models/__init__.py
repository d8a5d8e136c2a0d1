"""
Model files on disk: storing, loading and exporting quantized models, and the demo models.

Introduction
------------
:mod:`protocol.modelfile` defines the canonical bytes of a model file and of a public weights
file, without any I/O; this package reads and writes them (:mod:`models.store`), exports what the
``ModelRegistry`` needs (:mod:`models.export`, ``python -m models.export MODEL_FILE --out DIR``)
and holds the demo models with the scripts that build them (:mod:`models.digits`).
"""
